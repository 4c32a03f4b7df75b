package backtest_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/trackwatch/trackwatch/backtest"
	"github.com/trackwatch/trackwatch/detect"
	"github.com/trackwatch/trackwatch/detect/detecttest"
	"github.com/trackwatch/trackwatch/devstack"
	"github.com/trackwatch/trackwatch/store"
)

func TestMain(m *testing.M) {
	devstack.RunChildIfRequested()
	os.Exit(m.Run())
}

const db = "bt"

func order(w *detecttest.World, id, buyer, country, tn string, placed, shipped string, extra ...string) {
	w.Orders(
		fmt.Sprintf(`{"event_id":"%s-p","order_id":"%s","seller_id":"s1","buyer_id":"%s","status":"placed","occurred_at":"%s","ship_to":{"country":"%s","city":"C","postal_code":"1"}}`, id, id, buyer, placed, country),
		fmt.Sprintf(`{"event_id":"%s-s","order_id":"%s","seller_id":"s1","buyer_id":"%s","status":"shipped","occurred_at":"%s","tracking_number":"%s","carrier":"china-post"}`, id, id, buyer, shipped, tn))
	for i := 0; i+1 < len(extra); i += 2 {
		w.Orders(fmt.Sprintf(`{"event_id":"%s-x%d","order_id":"%s","seller_id":"s1","buyer_id":"%s","status":"%s","occurred_at":"%s"}`, id, i, id, buyer, extra[i], extra[i+1]))
	}
}

func scan(w *detecttest.World, tn, raw, at string, dest string) {
	d := ""
	if dest != "" {
		d = fmt.Sprintf(`,"destination":{"country":"%s"}`, dest)
	}
	w.ScanJSON(fmt.Sprintf(`{"event_id":"%s-%s","tracking_number":"%s","raw_status":"%s","occurred_at":"%s"%s}`, tn, at, tn, raw, at, d))
}

// oct is October d, 2026 at h:00 UTC, in RFC 3339; nov likewise.
func oct(d, h int) string { return detecttest.Day(d, h) }
func nov(d, h int) string {
	return time.Date(2026, 11, d, h, 0, 0, 0, time.UTC).Format(time.RFC3339)
}

func TestABacktestFlagsEachOrderFirstOnTheDayItsRuleCrosses(t *testing.T) {
	w := detecttest.NewWorld(t, db)
	// One order per detector, each with the day its rule first holds at the daily step
	// (noon UTC), worked out from the rule and the defaults:
	order(w, "stalled", "b1", "JP", "RR123456785CN", oct(3, 9), oct(5, 10), "disputed", oct(20, 9))
	scan(w, "RR123456785CN", "Electronic information received", oct(5, 8), "") // stalled_days 7: Oct 12 08:00
	order(w, "silent", "b2", "JP", "RR222222225CN", oct(3, 9), oct(5, 10))     // 5 working days from Monday Oct 5: Monday Oct 12
	order(w, "bad-check", "b3", "JP", "RR123456784CN", oct(5, 9), oct(7, 10))  // the number fails S10 when it is uploaded: Oct 7
	order(w, "reuse-1", "b4", "JP", "RR900000005CN", oct(1, 9), oct(3, 10))    // a second buyer gets the same number on Oct 9
	order(w, "reuse-2", "b5", "US", "RR900000005CN", oct(7, 9), oct(9, 10))
	order(w, "voided", "b6", "JP", "RR313131315CN", oct(3, 9), oct(5, 10)) // the label is voided on Oct 6
	scan(w, "RR313131315CN", "Label created", oct(5, 8), "")
	scan(w, "RR313131315CN", "Shipment cancelled by sender", oct(6, 8), "")
	order(w, "express", "b7", "JP", "1Z999AA10123456784", oct(3, 9), oct(5, 10)) // silent 10 days (express) after Oct 6
	w.Orders(`{"event_id":"express-c","order_id":"express","seller_id":"s1","buyer_id":"b7","status":"shipped","occurred_at":"` + oct(5, 11) + `","tracking_number":"1Z999AA10123456784","carrier":"ups"}`)
	scan(w, "1Z999AA10123456784", "Departed from Facility", oct(6, 8), "")
	order(w, "prior", "b8", "JP", "RR555555555CN", oct(8, 9), oct(10, 10)) // scanned a week before the order: flagged when shipped
	scan(w, "RR555555555CN", "Accepted", oct(1, 8), "")
	order(w, "elsewhere", "b9", "JP", "RR666666665CN", oct(3, 9), oct(5, 10)) // the carrier has Germany on record from Oct 8
	scan(w, "RR666666665CN", "In transit", oct(8, 8), "DE")
	order(w, "expiring", "b10", "JP", "RR777777775CN", oct(3, 9), oct(5, 10)) // 60 days: ends Dec 4 10:00, window 7 days: Nov 27
	scan(w, "RR777777775CN", "In transit", nov(25, 8), "")

	want := map[[2]string]string{
		{"stalled_eir", "stalled"}:               "2026-10-12",
		{"never_scanned", "silent"}:              "2026-10-12",
		{"invalid_tracking_number", "bad-check"}: "2026-10-07",
		{"tracking_reuse", "reuse-1"}:            "2026-10-09",
		{"tracking_reuse", "reuse-2"}:            "2026-10-09",
		{"label_voided", "voided"}:               "2026-10-06",
		{"went_silent", "express"}:               "2026-10-16",
		{"scan_before_order", "prior"}:           "2026-10-10",
		{"destination_mismatch", "elsewhere"}:    "2026-10-08",
		{"protection_expiry", "expiring"}:        "2026-11-27",
	}
	r := &backtest.Runner{Conn: w.Pooled(), Database: db, Session: func(ctx context.Context) (driver.Conn, error) {
		return store.OpenSession(ctx, detecttest.StoreConfig, w.Addr)
	}}
	o := backtest.Options{From: detecttest.AsOf(1), To: detecttest.AsOf(1).AddDate(0, 0, 59), Step: 24 * time.Hour}
	var progress int
	r.Progress = func(done, total int, _ time.Time, _ uint64) { progress = done }
	res, err := r.Run(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Steps != 60 || progress != 60 {
		t.Fatalf("steps %d, progress %d", res.Steps, progress)
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
	rep, err := r.Report(t.Context(), res.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.PerStep) != 60*len(detect.Names) {
		t.Errorf("%d per-step counts, want 60 steps x %d detectors", len(rep.PerStep), len(detect.Names))
	}
	for _, d := range rep.Detectors {
		// Only the stalled order was disputed later; whichever detectors flagged it
		// count it (protection_expiry does too, near its deadline).
		if _, flagged := got[[2]string{d.Detector, "stalled"}]; flagged != (d.EndedBadly == 1) || d.EndedBadly > 1 {
			t.Errorf("%s: %d orders ended badly", d.Detector, d.EndedBadly)
		}
		if d.Detector != "stalled_eir" {
			continue
		}
		// Flagged at noon on Oct 12; protection ends Dec 4 at 10:00: 52 days 22 hours.
		if d.EndedBadly != 1 || d.MedianLeadDays == nil || math.Abs(*d.MedianLeadDays-(52+22.0/24)) > 1e-6 || d.AfterProtection != 0 || d.MaxPerStep != 1 {
			t.Errorf("stalled_eir report %+v (lead %v)", d, d.MedianLeadDays)
		}
	}
	// The same backtest again replaces its history rather than adding to it.
	o = backtest.Options{From: detecttest.AsOf(1), To: detecttest.AsOf(15), Step: 7 * 24 * time.Hour}
	if res, err = r.Run(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	first, _ = r.FirstAlerts(t.Context(), res.ID)
	before := len(first)
	again, err := r.Run(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	var rows, distinct uint64
	if err := w.Conn.QueryRow(t.Context(), "SELECT count(), uniqExact(detector, order_id, as_of) FROM bt.alert_history WHERE backtest_id = {id:String}",
		clickhouseNamed("id", res.ID)).Scan(&rows, &distinct); err != nil {
		t.Fatal(err)
	}
	if firstAgain, _ := r.FirstAlerts(t.Context(), res.ID); rows != distinct || len(firstAgain) != before {
		t.Fatalf("after a second run: %d rows for %d findings, %d first alerts (was %d)", rows, distinct, len(firstAgain), before)
	}
	// The findings a run reports are the rows its steps wrote (counted from the inserts).
	if again.Findings != rows || rows == 0 {
		t.Fatalf("the second run reported %d findings; alert_history holds %d", again.Findings, rows)
	}
	// Backtests never touch the live alerts.
	var live uint64
	if err := w.Conn.QueryRow(t.Context(), "SELECT count() FROM bt.alerts").Scan(&live); err != nil || live != 0 {
		t.Fatalf("%d live alerts after a backtest (%v)", live, err)
	}
	// With Notify, each step is also recorded as live alerts, in time order: their
	// changes reach the change log the receivers are fed from.
	o = backtest.Options{From: detecttest.AsOf(10), To: detecttest.AsOf(13), Step: 24 * time.Hour, Detectors: []string{"stalled_eir"}, Notify: true}
	if _, err := r.Run(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	var fired uint64
	if err := w.Conn.QueryRow(t.Context(), "SELECT countIf(kind = 'fired' AND order_id = 'stalled') FROM bt.alert_changes FINAL").Scan(&fired); err != nil || fired != 1 {
		t.Fatalf("%d fired changes for the stalled order after a backtest with Notify (%v)", fired, err)
	}
}

func clickhouseNamed(name string, v any) any { return clickhouse.Named(name, v) }
