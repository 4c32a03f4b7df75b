package detect_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/trackwatch/trackwatch/alert"
	"github.com/trackwatch/trackwatch/detect"
)

// shipments inserts n orders of seller on marketplace, shipped on October (or, from
// day 32, November) days from..., one a day in turn; the first unscanned never get a
// carrier event, the others a physical scan the day after shipment. It returns the
// order ids without a scan.
func (w *world) shipments(seller, marketplace string, n, unscanned, from, days int) []string {
	w.T.Helper()
	var orders, scans []string
	var without []string
	for i := range n {
		d := from + i%days
		at := time.Date(2026, 10, d, 10, 0, 0, 0, time.UTC)
		id := fmt.Sprintf("%s-%s-%02d-%02d", seller, marketplace, d, i)
		tn := fmt.Sprintf("LP%s%02d%04d", seller, d, i)
		orders = append(orders,
			fmt.Sprintf(`{"event_id":"%s-s","order_id":"%s","seller_id":"%s","buyer_id":"b-%s","status":"shipped","marketplace":"%s","occurred_at":"%s","tracking_number":"%s","carrier":"cainiao"}`,
				id, id, seller, id, marketplace, at.Format(time.RFC3339), tn))
		if i < unscanned {
			without = append(without, id)
			continue
		}
		scans = append(scans, fmt.Sprintf(`{"event_id":"%s-a","tracking_number":"%s","raw_status":"Accepted","occurred_at":"%s","location":{"country":"CN"}}`,
			tn, tn, at.Add(24*time.Hour).Format(time.RFC3339)))
	}
	w.Orders(orders...)
	for _, s := range scans {
		w.ScanJSON(s)
	}
	slices.Sort(without)
	return without
}

// sellerFindings evaluates seller_valid_tracking_rate alone as of at, both ways.
func (w *world) sellerFindings(cfg detect.Config, at time.Time) []detect.Finding {
	w.T.Helper()
	set, err := detect.NewSet(db, detect.SellerValidTrackingRate)
	if err != nil {
		w.T.Fatal(err)
	}
	return w.evalBothWays(set, cfg, at)
}

func sellersOf(fs []detect.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.SellerID+"@"+f.Marketplace)
	}
	slices.Sort(out)
	return out
}

func TestSellerValidTrackingRate(t *testing.T) {
	w := newWorld(t)
	at := asOf(28) // the window: shipped from September 28 to October 23
	unscanned := w.shipments("bad", "aliexpress", 30, 12, 1, 15)
	w.shipments("good", "aliexpress", 30, 0, 1, 15)
	w.shipments("small", "aliexpress", 10, 10, 1, 10)
	w.shipments("near", "aliexpress", 30, 2, 1, 15)  // 0.933: just below 0.95
	w.shipments("amz", "amazon", 12, 3, 1, 12)       // 0.75, but under 20 orders
	w.shipments("late", "aliexpress", 30, 30, 24, 4) // shipped under 5 days before: not counted yet

	fs := w.sellerFindings(detect.Config{}, at)
	expect(t, "default settings", sellersOf(fs), "bad@aliexpress", "near@aliexpress")
	for _, f := range fs {
		if f.Detector != detect.SellerValidTrackingRate || f.OrderID != "" || f.TrackingNumber != "" || f.BuyerID != "" ||
			f.Recommendation != detect.RecommendReviewSeller || f.ProtectionEndsAt != nil || f.Amount != nil || f.Reasons["ja"] == "" {
			t.Errorf("seller finding: %+v", f)
		}
	}
	bad := fs[0]
	if bad.Severity != detect.SeverityCritical || fs[1].Severity != detect.SeverityLow {
		t.Errorf("severities: %s for 0.60, %s for 0.933; want critical, low", bad.Severity, fs[1].Severity)
	}
	var ev struct {
		Rate          float64  `json:"valid_tracking_rate"`
		Target        float64  `json:"target"`
		WindowDays    int      `json:"window_days"`
		Shipped       int      `json:"shipped"`
		Valid         int      `json:"valid"`
		WithoutScan   int      `json:"without_scan"`
		Orders        []string `json:"orders_without_scan"`
		AlertedOrders []string `json:"orders_with_firing_alerts"`
		From          string   `json:"shipped_from"`
	}
	if err := json.Unmarshal(bad.Evidence, &ev); err != nil {
		t.Fatalf("evidence %s: %v", bad.Evidence, err)
	}
	if ev.Rate != 0.6 || ev.Target != 0.95 || ev.WindowDays != 30 || ev.Shipped != 30 || ev.Valid != 18 || ev.WithoutScan != 12 ||
		!slices.Equal(ev.Orders, unscanned) || ev.From != "2026-09-28" {
		t.Errorf("evidence: %s; want rate 0.6 of 30, the 12 orders %v", bad.Evidence, unscanned)
	}
	want := "Seller bad has a valid tracking rate of 60% on aliexpress: 12 of its 30 orders shipped from 2026-09-28 to 2026-10-23 had no physical carrier scan within 5 days of shipment (target 95%). Review the seller and its open orders."
	if bad.Reason != want {
		t.Errorf("reason:\n%s\nwant\n%s", bad.Reason, want)
	}

	// per marketplace: amazon judges from 10 orders; aliexpress's target is 0.9
	cfg := detect.Config{ByMarketplace: map[string]detect.Thresholds{
		"amazon":     {SellerVTRMinOrders: 10},
		"aliexpress": {SellerVTRTarget: 0.9},
	}}
	expect(t, "per-marketplace settings", sellersOf(w.sellerFindings(cfg, at)), "amz@amazon", "bad@aliexpress")
	// a longer scan allowance is no help to a number never scanned; a shorter window
	// leaves too few orders
	expect(t, "a 10-day window", sellersOf(w.sellerFindings(detect.Config{SellerVTRWindowDays: 10}, at)))
	// November 2nd: the late shipments are past their 5 days and count; near's two
	// unscanned orders (October 1st and 2nd) have left the window
	expect(t, "late shipments once counted", sellersOf(w.sellerFindings(detect.Config{}, asOf(33))), "bad@aliexpress", "late@aliexpress")
}

func TestSellerAlertFiresOnceAndResolvesWhenTheRateRecovers(t *testing.T) {
	w := newWorld(t)
	w.shipments("bad", "aliexpress", 30, 12, 1, 15)
	st := alert.NewStore(w.Conn, db)
	set, err := detect.NewSet(db)
	if err != nil {
		t.Fatal(err)
	}
	record := func(at time.Time) alert.Result {
		t.Helper()
		var res alert.Result
		if _, err := set.Evaluate(context.Background(), w.Conn, detect.Config{}, at, detect.Scheduled, st.Consumer(&res)); err != nil {
			t.Fatal(err)
		}
		return res
	}
	sellerAlerts := func() []alert.Alert {
		t.Helper()
		as, err := st.List(context.Background(), alert.Filter{Detector: detect.SellerValidTrackingRate})
		if err != nil {
			t.Fatal(err)
		}
		return as
	}
	if res := record(asOf(28)); res.Firing[detect.SellerValidTrackingRate] != 1 {
		t.Fatalf("firing after the first run: %v", res.Firing)
	}
	as := sellerAlerts()
	if len(as) != 1 || as[0].SellerID != "bad" || as[0].OrderID != "" || as[0].Status != alert.StatusFiring {
		t.Fatalf("seller alerts: %+v", as)
	}
	// a scoped run a few minutes later changes nothing
	if res := record(asOf(28).Add(5 * time.Minute)); res.Changed() || res.Firing[detect.SellerValidTrackingRate] != 1 {
		t.Errorf("a scoped run changed %v, firing %v", res.Counts, res.Firing)
	}
	// November: the seller ships 40 orders that all get a scan, the October ones leave
	// the window, the rate recovers
	w.shipments("bad", "aliexpress", 40, 0, 32, 20)
	res := record(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
	if res.Count(alert.ChangeResolved) != 1 || res.Firing[detect.SellerValidTrackingRate] != 0 {
		t.Errorf("after the recovery: %v, firing %v", res.Counts, res.Firing)
	}
	if as := sellerAlerts(); len(as) != 1 || as[0].Status != alert.StatusResolved {
		t.Errorf("seller alerts after the recovery: %+v", as)
	}
}

// A set of the seller detector alone (its own detect.schedules entry) has no order
// state and no candidates: its scheduled runs, full then scoped, record the sellers'.
func TestASellerDetectorOnItsOwnSchedule(t *testing.T) {
	w := newWorld(t)
	w.shipments("bad", "aliexpress", 30, 12, 1, 15)
	st := alert.NewStore(w.Conn, db)
	set, err := detect.NewSet(db, detect.SellerValidTrackingRate)
	if err != nil {
		t.Fatal(err)
	}
	for i, at := range []time.Time{asOf(28), asOf(28).Add(5 * time.Minute)} {
		var res alert.Result
		ev, err := set.Evaluate(context.Background(), w.Conn, detect.Config{}, at, detect.Scheduled, st.Consumer(&res))
		if err != nil {
			t.Fatal(err)
		}
		if ev.Scoped != (i == 1) || res.Firing[detect.SellerValidTrackingRate] != 1 || res.Count(alert.ChangeFired) != 1-i {
			t.Errorf("run %d (%s): firing %v, changes %v", i, ev, res.Firing, res.Counts)
		}
	}
}

// A scoped run within the hour of the previous run leaves the sellers' alerts as they
// are, whatever changed; the first scoped run of the next hour evaluates the sellers
// again.
func TestScopedRunsEvaluateTheSellersOnceAnHour(t *testing.T) {
	w := newWorld(t)
	w.shipments("bad", "aliexpress", 30, 12, 1, 15)
	st := alert.NewStore(w.Conn, db)
	set, err := detect.NewSet(db)
	if err != nil {
		t.Fatal(err)
	}
	record := func(at time.Time) (detect.Evaluation, alert.Result) {
		t.Helper()
		var res alert.Result
		ev, err := set.Evaluate(context.Background(), w.Conn, detect.Config{}, at, detect.Scheduled, st.Consumer(&res))
		if err != nil {
			t.Fatal(err)
		}
		return ev, res
	}
	if _, res := record(asOf(28)); res.Firing[detect.SellerValidTrackingRate] != 1 {
		t.Fatalf("firing after the first run: %v", res.Firing)
	}
	// 300 scanned shipments in the window: the rate recovers (318 of 330)
	w.shipments("bad", "aliexpress", 300, 0, 10, 10)
	ev, res := record(asOf(28).Add(5 * time.Minute))
	if !ev.Scoped || res.Count(alert.ChangeResolved) != 0 || res.Firing[detect.SellerValidTrackingRate] != 1 {
		t.Errorf("a scoped run within the hour (%s): changes %v, firing %v", ev, res.Counts, res.Firing)
	}
	ev, res = record(asOf(28).Add(time.Hour))
	if !ev.Scoped || res.Count(alert.ChangeResolved) != 1 || res.Firing[detect.SellerValidTrackingRate] != 0 {
		t.Errorf("the first scoped run of the next hour (%s): changes %v, firing %v", ev, res.Counts, res.Firing)
	}
}
