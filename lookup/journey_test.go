package lookup_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/trackwatch/trackwatch/detect/detecttest"
	"github.com/trackwatch/trackwatch/lookup"
)

func ev(order, status, at, extra string) string {
	if extra != "" {
		extra = "," + extra
	}
	return fmt.Sprintf(`{"event_id":"%s-%s","order_id":"%s","seller_id":"s1","buyer_id":"b1","status":"%s","occurred_at":"%s"%s}`,
		order, status, order, status, at, extra)
}

// An order's journey: its events and its number's scans in time order, with the payment
// method, refund amounts and reasons the contract now carries; and the stats page's
// refund times by payment method and share of disputes that stall.
func TestAnOrdersJourneyAndTheJourneyStats(t *testing.T) {
	w := detecttest.NewWorld(t, db)
	day := detecttest.Day
	w.Orders(ev("o1", "placed", day(1, 9), `"ship_to":{"country":"JP"}`), ev("o1", "paid", day(1, 10), `"payment_method":"paypal"`),
		ev("o1", "cancel_requested", day(2, 9), `"reason":"found it cheaper"`), ev("o1", "shipped", day(3, 9), `"tracking_number":"RR123456785CN","carrier":"china-post"`),
		ev("o1", "disputed", day(12, 9), `"reason":"not received"`), ev("o1", "dispute_responded", day(14, 9), ""),
		ev("o1", "refund_approved", day(16, 9), `"refund_amount":20`), ev("o1", "refund_completed", day(18, 9), `"refund_amount":20`))
	w.Scan("RR123456785CN", "Electronic information received", 4)
	// a PayPal refund done in 4 days, a card refund still due, a dispute left unanswered
	w.Orders(ev("o2", "placed", day(1, 9), `"ship_to":{"country":"JP"}`), ev("o2", "paid", day(1, 10), `"payment_method":"paypal"`),
		ev("o2", "cancel_requested", day(2, 9), ""), ev("o2", "cancelled", day(3, 9), ""), ev("o2", "refund_completed", day(7, 9), ""))
	w.Orders(ev("o3", "placed", day(1, 9), `"ship_to":{"country":"JP"}`), ev("o3", "paid", day(1, 10), `"payment_method":"card_credit"`),
		ev("o3", "refund_approved", day(5, 9), ""))
	w.Orders(ev("o4", "placed", day(1, 9), `"ship_to":{"country":"JP"}`), ev("o4", "shipped", day(3, 9), `"tracking_number":"RR222222225CN"`),
		ev("o4", "disputed", day(10, 9), ""))
	r := lookup.NewReader(w.Conn, db)

	v, err := r.Order(t.Context(), "o1", detecttest.AsOf(20))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range v.Journey {
		got = append(got, s.Phase+" "+s.What+" "+s.Detail)
	}
	want := []string{"order placed ", "order paid paid by paypal", `cancellation cancel_requested "found it cheaper"`,
		"shipment shipped RR123456785CN (china-post)", "carrier info_received/pre_advice Electronic information received ·  CN",
		`dispute disputed "not received"`, "dispute dispute_responded ", "refund refund_approved amount 20", "refund refund_completed amount 20"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("journey:\n got %q\nwant %q", got, want)
	}

	st, err := r.JourneyStats(t.Context(), detecttest.AsOf(20), 5)
	if err != nil {
		t.Fatal(err)
	}
	byMethod := map[string]lookup.RefundTimes{}
	for _, m := range st.Refunds {
		byMethod[m.Method] = m
	}
	pp, card := byMethod["paypal"], byMethod["card_credit"]
	// o1: due on the 16th, done on the 18th (2 days); o2: due on the 3rd, done on the 7th (4)
	if pp.Due != 2 || pp.Completed != 2 || pp.Median == nil || math.Abs(*pp.Median-3) > 1e-9 || card.Due != 1 || card.Completed != 0 || card.Median != nil {
		t.Errorf("refunds %+v", st.Refunds)
	}
	// o1's dispute was answered in 2 days, o4's never: one of two stalled
	if st.Disputes.Opened != 2 || st.Disputes.Stalled != 1 || st.Disputes.Share != 0.5 {
		t.Errorf("disputes %+v", st.Disputes)
	}
}
