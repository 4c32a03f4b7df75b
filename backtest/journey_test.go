package backtest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/trackwatch/trackwatch/backtest"
	"github.com/trackwatch/trackwatch/detect/detecttest"
	"github.com/trackwatch/trackwatch/store"
)

// journeyEvent is an order event of the buyer's journey in the v1 contract.
func journeyEvent(id, status, at, extra string) string {
	if extra != "" {
		extra = "," + extra
	}
	return fmt.Sprintf(`{"event_id":"%s-%s-%s","order_id":"%s","seller_id":"s1","buyer_id":"b-%s","status":"%s","occurred_at":"%s"%s}`,
		id, status, at, id, id, status, at, extra)
}

// A backfilled history of the buyer's journey, backtested day by day at noon UTC: each
// journey detector first flags its order on the day its rule says, worked out from the
// rule and the defaults; and the report counts, for cancel_dodged, the orders disputed or
// refunded after their first alert.
func TestABacktestFlagsTheJourneysOrdersOnTheirRulesDays(t *testing.T) {
	w := detecttest.NewWorld(t, db)
	// cancellation asked on Sunday Oct 4, shipped 25 hours later, never scanned: the
	// stalled rule looks 7 days after the shipment, Oct 12 10:00; disputed Oct 20
	order(w, "dodged", "b1", "JP", "RR123456785CN", oct(3, 9), oct(5, 10), "disputed", oct(20, 9))
	w.Orders(journeyEvent("dodged", "cancel_requested", oct(4, 9), ""))
	// the same, but the seller shipped for real (scanned the next day): never flagged
	order(w, "real", "b2", "JP", "RR222222225CN", oct(3, 9), oct(5, 10), "disputed", oct(20, 9))
	w.Orders(journeyEvent("real", "cancel_requested", oct(4, 9), ""))
	scan(w, "RR222222225CN", "Accepted", oct(6, 8), "")
	// a dispute opened Oct 10 15:00 and never answered: 5 days, Oct 15 15:00
	order(w, "unanswered", "b3", "JP", "RR333333335CN", oct(3, 9), oct(5, 10), "disputed", oct(10, 15))
	scan(w, "RR333333335CN", "Accepted", oct(6, 8), "")
	// a cancellation approved Monday Oct 5 and paid by PayPal: 5 business days end on
	// Monday Oct 12, so the refund is overdue from Tuesday Oct 13
	w.Orders(journeyEvent("refund", "placed", oct(1, 9), `"ship_to":{"country":"JP"}`),
		journeyEvent("refund", "paid", oct(1, 10), `"payment_method":"paypal"`),
		journeyEvent("refund", "cancel_requested", oct(2, 9), ""),
		journeyEvent("refund", "cancelled", oct(5, 10), ""))
	// paid by credit card: 15 business days end on Monday Oct 26
	w.Orders(journeyEvent("card-refund", "placed", oct(1, 9), `"ship_to":{"country":"JP"}`),
		journeyEvent("card-refund", "paid", oct(1, 10), `"payment_method":"card_credit"`),
		journeyEvent("card-refund", "cancel_requested", oct(2, 9), ""),
		journeyEvent("card-refund", "refund_approved", oct(5, 10), ""))

	want := map[[2]string]string{
		{"cancel_dodged", "dodged"}:          "2026-10-12",
		{"dispute_unanswered", "unanswered"}: "2026-10-16",
		{"refund_overdue", "refund"}:         "2026-10-13",
		{"refund_overdue", "card-refund"}:    "2026-10-27",
		{"never_scanned", "dodged"}:          "2026-10-12",
		{"dispute_unanswered", "dodged"}:     "2026-10-25",
		{"dispute_unanswered", "real"}:       "2026-10-25",
	}
	r := &backtest.Runner{Conn: w.Pooled(), Database: db, Session: func(ctx context.Context) (driver.Conn, error) {
		return store.OpenSession(ctx, detecttest.StoreConfig, w.Addr)
	}}
	o := backtest.Options{From: detecttest.AsOf(1), To: detecttest.AsOf(1).AddDate(0, 0, 29), Step: 24 * time.Hour,
		Detectors: []string{"never_scanned", "cancel_dodged", "dispute_unanswered", "refund_overdue"}}
	res, err := r.Run(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	first, err := r.FirstAlerts(t.Context(), res.ID)
	if err != nil {
		t.Fatal(err)
	}
	got := map[[2]string]string{}
	for _, f := range first {
		got[[2]string{f.Detector, f.OrderID}] = f.FirstAt.Format("2006-01-02")
	}
	for k, day := range want {
		if got[k] != day {
			t.Errorf("%s first flagged %s on %q, want %s", k[0], k[1], got[k], day)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s flagged %s on %s, which its rule never does", k[0], k[1], got[k])
		}
	}
	rep, err := r.Report(t.Context(), res.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range rep.Detectors {
		// dodged was disputed on Oct 20, after its first alert; unanswered's dispute came
		// before it was flagged (it is what dispute_unanswered flags)
		wantLater := map[string]uint64{"cancel_dodged": 1, "never_scanned": 1}[d.Detector]
		if d.LaterDisputeOrRefund != wantLater {
			t.Errorf("%s: %d orders disputed or refunded after their first alert, want %d", d.Detector, d.LaterDisputeOrRefund, wantLater)
		}
	}
}
