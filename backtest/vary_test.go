package backtest_test

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/trackwatch/trackwatch/alert"
	"github.com/trackwatch/trackwatch/backtest"
	"github.com/trackwatch/trackwatch/detect"
	"github.com/trackwatch/trackwatch/detect/detecttest"
	"github.com/trackwatch/trackwatch/store"
)

// varyWorld is a small handmade history for comparisons: four numbers that show only
// pre-advice from October 5 08:00 (orders A, B and C, shipped at 10:00 with 60, 10 and
// 30 days of protection, all of which end badly), one from October 20 (E), and an order
// shipped two hours after its buyer asked to cancel, never scanned (D).
func varyWorld(t *testing.T, db string) (*detecttest.World, *backtest.Runner) {
	w := detecttest.NewWorld(t, db)
	eir := func(id, tn string, protection string, day int, extra ...string) {
		w.Orders(
			fmt.Sprintf(`{"event_id":"%s-p","order_id":"%s","seller_id":"s1","buyer_id":"b-%s","status":"placed","occurred_at":"%s","ship_to":{"country":"JP","city":"C","postal_code":"1"}}`, id, id, id, oct(day-2, 9)),
			fmt.Sprintf(`{"event_id":"%s-s","order_id":"%s","seller_id":"s1","buyer_id":"b-%s","status":"shipped","occurred_at":"%s","tracking_number":"%s","carrier":"china-post"%s}`, id, id, id, oct(day, 10), tn, protection))
		for i := 0; i+1 < len(extra); i += 2 {
			w.Orders(fmt.Sprintf(`{"event_id":"%s-x%d","order_id":"%s","seller_id":"s1","buyer_id":"b-%s","status":"%s","occurred_at":"%s"}`, id, i, id, id, extra[i], extra[i+1]))
		}
		scan(w, tn, "Electronic information received", oct(day, 8), "")
	}
	eir("A", "RR123456785CN", "", 5, "disputed", oct(20, 9))
	eir("B", "RR222222225CN", `,"protection_days":10`, 5, "refunded", nov(1, 9))
	eir("C", "RR313131315CN", `,"protection_days":30`, 5, "disputed", oct(28, 9))
	eir("E", "RR666666665CN", "", 20)
	w.Orders(`{"event_id":"D-p","order_id":"D","seller_id":"s1","buyer_id":"b-D","status":"placed","occurred_at":"`+oct(2, 9)+`","ship_to":{"country":"JP","city":"C","postal_code":"1"}}`,
		`{"event_id":"D-c","order_id":"D","seller_id":"s1","buyer_id":"b-D","status":"cancel_requested","occurred_at":"`+oct(4, 9)+`"}`,
		`{"event_id":"D-s","order_id":"D","seller_id":"s1","buyer_id":"b-D","status":"shipped","occurred_at":"`+oct(4, 11)+`","tracking_number":"RR555555555CN","carrier":"china-post"}`)
	r := &backtest.Runner{Conn: w.Pooled(), Database: db, Session: func(ctx context.Context) (driver.Conn, error) {
		return store.OpenSession(ctx, detecttest.StoreConfig, w.Addr)
	}}
	return w, r
}

// history is a backtest's alert_history, one line per row, sorted.
func history(t *testing.T, w *detecttest.World, db, id string) []string {
	t.Helper()
	rows, err := w.Conn.Query(t.Context(), "SELECT as_of, detector, order_id, tracking_number, severity, recommendation, protection_ends_at, reason FROM "+db+
		".alert_history FINAL WHERE backtest_id = {id:String} ORDER BY ALL", clickhouseNamed("id", id))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var asOf time.Time
		var det, order, tn, sev, rec, reason string
		var ends *time.Time
		if err := rows.Scan(&asOf, &det, &order, &tn, &sev, &rec, &ends, &reason); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprint(asOf.UTC(), det, order, tn, sev, rec, ends, reason))
	}
	return out
}

// Every value of a comparison gives what a backtest with that value gives: the same
// rows in alert_history and the same report, for a threshold the values share a run for
// (stalled_days, which stalled_eir and cancel_dodged read) and for one read before the
// detectors (default_protection_days, a backtest per value).
func TestEachValueOfAComparisonGivesWhatABacktestWithThatValueGives(t *testing.T) {
	w, r := varyWorld(t, "vary_eq")
	// every other day: the values still flag on different steps (3 days: October 8, 7:
	// October 12, 12: October 17; the steps are the even days)
	o := backtest.Options{From: detecttest.AsOf(2), To: detecttest.AsOf(30), Step: 48 * time.Hour}
	for _, tc := range []struct {
		vary      string
		shared    bool
		detectors []string
	}{
		{"detect.stalled_days=3,7,12", true, []string{"stalled_eir", "cancel_dodged"}},
		{"default_protection_days=20,60", false, []string{"stalled_eir", "cancel_dodged"}},
	} {
		v, err := backtest.ParseVary(tc.vary)
		if err != nil {
			t.Fatal(err)
		}
		o := o
		o.Detectors = tc.detectors
		cmp, res, err := r.Vary(t.Context(), o, v)
		if err != nil {
			t.Fatalf("%s: %v", tc.vary, err)
		}
		if cmp.Shared != tc.shared || !slices.Equal(cmp.Detectors, tc.detectors) || len(cmp.Variants) != len(v.Values) || res.Steps != 15 {
			t.Fatalf("%s: shared %v, detectors %v, %d variants, %d steps", tc.vary, cmp.Shared, cmp.Detectors, len(cmp.Variants), res.Steps)
		}
		var found uint64
		for i, x := range v.Values {
			cfg, err := detect.Config{}.With(v.Key, x)
			if err != nil {
				t.Fatal(err)
			}
			one := *r
			one.Config = cfg
			alone, err := one.Run(t.Context(), o)
			if err != nil {
				t.Fatal(err)
			}
			got, want := history(t, w, "vary_eq", cmp.Variants[i].BacktestID), history(t, w, "vary_eq", alone.ID)
			if len(want) == 0 || !slices.Equal(got, want) {
				t.Fatalf("%s value %v: %d rows in the comparison, %d in a backtest with that value:\n%s\n---\n%s", tc.vary, x, len(got), len(want),
					strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			found += uint64(len(got))
			rep, err := r.Report(t.Context(), alone.ID)
			if err != nil {
				t.Fatal(err)
			}
			var reports []backtest.DetectorReport
			for _, d := range cmp.Variants[i].Detectors {
				reports = append(reports, d.DetectorReport)
			}
			if !reflect.DeepEqual(reports, rep.Detectors) {
				t.Errorf("%s value %v: the comparison reports %+v, a backtest with that value %+v", tc.vary, x, reports, rep.Detectors)
			}
		}
		if res.Findings != found {
			t.Errorf("%s: %d findings reported, %d rows recorded", tc.vary, res.Findings, found)
		}
	}
}

// The lead time to the protection deadline and the orders flagged only after it ended,
// per value, worked out by hand: A, B and C show pre-advice only from October 5 08:00,
// so stalled_eir flags them at noon on October 8 (3 days), 12 (7) or 17 (12). Their
// protection ends December 4, October 15 and November 4 at 10:00. And the precision the
// analysts' outcomes imply: live alerts for A and B (as of October 13) and E (October
// 30) were closed as confirmed fake (A) and false positive (B, E); the 12-day value
// never flags E.
func TestAComparisonReportsLeadTimesLateFlagsAndThePrecisionOfOutcomes(t *testing.T) {
	w, r := varyWorld(t, "vary_lead")
	// the live alerts, as the schedule would have recorded them with the defaults
	for _, d := range []int{13, 30} {
		if _, err := r.Run(t.Context(), backtest.Options{From: detecttest.AsOf(d), To: detecttest.AsOf(d), Step: 24 * time.Hour,
			Detectors: []string{"stalled_eir"}, Notify: true}); err != nil {
			t.Fatal(err)
		}
	}
	alerts := alert.NewStore(w.Pooled(), "vary_lead")
	var live []struct {
		ID    string `ch:"alert_id"`
		Order string `ch:"order_id"`
	}
	if err := w.Conn.Select(t.Context(), &live, "SELECT alert_id, order_id FROM vary_lead.alerts FINAL WHERE detector = 'stalled_eir' ORDER BY order_id"); err != nil {
		t.Fatal(err)
	}
	outcomes := map[string]alert.Outcome{"A": alert.OutcomeConfirmedFake, "B": alert.OutcomeFalsePositive, "E": alert.OutcomeFalsePositive}
	closed := 0
	for _, a := range live {
		if oc, ok := outcomes[a.Order]; ok {
			if _, err := alerts.Act(t.Context(), a.ID, alert.Action{Action: alert.ActClose, Outcome: oc, Actor: "analyst"}, time.Now()); err != nil {
				t.Fatal(err)
			}
			closed++
		}
	}
	if closed != 3 {
		t.Fatalf("live alerts %+v: closed %d, want A, B and E", live, closed)
	}

	v, err := backtest.ParseVary("detect.stalled_days=3,7,12")
	if err != nil {
		t.Fatal(err)
	}
	o := backtest.Options{From: detecttest.AsOf(1), To: detecttest.AsOf(30), Step: 24 * time.Hour, Detectors: []string{"stalled_eir"}}
	cmp, _, err := r.Vary(t.Context(), o, v)
	if err != nil {
		t.Fatal(err)
	}
	const h22 = 22.0 / 24
	want := map[float64]struct {
		median, p10    float64
		after, orders  uint64
		confirmed, fp  uint64
		precision      float64
		maxPerStep     uint64
		firstA, firstE string
	}{
		3:  {26 + h22, 6 + h22, 0, 4, 1, 2, 1.0 / 3, 3, "2026-10-08", "2026-10-23"},
		7:  {22 + h22, 2 + h22, 0, 4, 1, 2, 1.0 / 3, 3, "2026-10-12", "2026-10-27"},
		12: {17 + h22, -(2 + 2.0/24), 1, 3, 1, 1, 0.5, 3, "2026-10-17", ""},
	}
	near := func(p *float64, x float64) bool { return p != nil && math.Abs(*p-x) < 1e-6 }
	for _, vr := range cmp.Variants {
		wt := want[vr.Value]
		if len(vr.Detectors) != 1 {
			t.Fatalf("value %v: %+v", vr.Value, vr.Detectors)
		}
		d := vr.Detectors[0]
		if d.Detector != "stalled_eir" || d.EndedBadly != 3 || !near(d.MedianLeadDays, wt.median) || !near(d.P10LeadDays, wt.p10) ||
			d.AfterProtection != wt.after || d.Orders != wt.orders || d.MaxPerStep != wt.maxPerStep {
			t.Errorf("value %v: %+v (median %v, p10 %v), want %+v", vr.Value, d, deref(d.MedianLeadDays), deref(d.P10LeadDays), wt)
		}
		if d.ConfirmedFake != wt.confirmed || d.FalsePositive != wt.fp || !near(d.Precision, wt.precision) {
			t.Errorf("value %v: confirmed %d, false positive %d, precision %v; want %d, %d, %v", vr.Value, d.ConfirmedFake, d.FalsePositive,
				deref(d.Precision), wt.confirmed, wt.fp, wt.precision)
		}
		first, err := r.FirstAlerts(t.Context(), vr.BacktestID)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, f := range first {
			got[f.OrderID] = f.FirstAt.Format(time.DateOnly)
		}
		if got["A"] != wt.firstA || got["E"] != wt.firstE {
			t.Errorf("value %v: first flagged %v, want A on %s and E on %q", vr.Value, got, wt.firstA, wt.firstE)
		}
	}
	// The comparison is kept for the overview, with what the report said.
	last, err := backtest.Comparisons{Conn: w.Pooled(), Database: "vary_lead"}.Last(t.Context())
	if err != nil || last == nil {
		t.Fatalf("last comparison: %v, %v", last, err)
	}
	if last.ID != cmp.ID || last.Setting != "stalled_days" || len(last.Variants) != 3 || last.Steps != 30 || !last.Shared {
		t.Fatalf("last comparison %+v", last)
	}
	for i, vr := range last.Variants {
		if vr.Value != cmp.Variants[i].Value || !reflect.DeepEqual(vr.Detectors, cmp.Variants[i].Detectors) {
			t.Errorf("kept value %v: %+v, reported %+v", vr.Value, vr.Detectors, cmp.Variants[i].Detectors)
		}
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestAVaryFlagNamesWhatIsWrong(t *testing.T) {
	for _, tc := range []struct{ flag, want string }{
		{"detect.stalled_dayz=5,7", "detect.stalled_dayz is not a numeric detector setting"},
		{"detect.schedule=5,7", "detect.schedule is not a numeric detector setting"},
		{"detect.stalled_days=5,seven", `"seven" is not a whole number`},
		{"detect.stalled_days=5,7.5", `"7.5" is not a whole number`},
		{"detect.stalled_days=5", "1 values; compare 2 to 8"},
		{"detect.stalled_days=5,5", "5 is given twice"},
		{"detect.stalled_days=0,5", "0 is not a whole number from 1 to 3650"},
		{"detect.stalled_days=5,1e1", `"1e1" is not a whole number`},
		{"detect.seller_vtr_target=0.9,high", `"high" is not a share (such as 0.95)`},
		{"detect.seller_vtr_target=0.9,95", "95 is not a share above 0 and at most 1"},
		{"detect.seller_vtr_target=0,0.9", "0 is not a share above 0 and at most 1"},
		{"detect.seller_vtr_target=0.9,0.90", "0.9 is given twice (shares count to the millionth)"},
		{"stalled_days", "want detect.SETTING=V1,V2,..."},
	} {
		_, err := backtest.ParseVary(tc.flag)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("--vary %s: %v, want an error saying %q", tc.flag, err, tc.want)
		}
	}
	v, err := backtest.ParseVary("stalled_days=5,7,10")
	if err != nil || v.Key != "stalled_days" || !slices.Equal(v.Values, []float64{5, 7, 10}) {
		t.Fatalf("without the prefix: %+v, %v", v, err)
	}
}

// A setting of the sellers' detector is compared by a backtest per value, whose report
// counts the sellers flagged, their alerts per step, and the outcome analysts gave the
// seller's live alert; a plain backtest reports the seller's alerts the same way. The
// target, a share, is not compared.
func TestComparingASellerSettingCountsTheSellersFlagged(t *testing.T) {
	const db = "vary_sellers"
	w := detecttest.NewWorld(t, db)
	// seller sv: 25 orders shipped October 1-20, 12 of them never scanned (a rate of 0.52)
	var orders []string
	for i := range 25 {
		d := 1 + i%20
		id, tn := fmt.Sprintf("sv-%02d", i), fmt.Sprintf("LPSV%02d%04d", d, i)
		orders = append(orders, fmt.Sprintf(`{"event_id":"%s-s","order_id":"%s","seller_id":"sv","buyer_id":"b-%s","status":"shipped","marketplace":"aliexpress","occurred_at":"%s","tracking_number":"%s","carrier":"cainiao"}`,
			id, id, id, oct(d, 10), tn))
		if i >= 12 {
			w.ScanJSON(fmt.Sprintf(`{"event_id":"%s-a","tracking_number":"%s","raw_status":"Accepted","occurred_at":"%s","location":{"country":"CN"}}`, tn, tn, oct(d+1, 10)))
		}
	}
	w.Orders(orders...)
	session := func(ctx context.Context) (driver.Conn, error) {
		return store.OpenSession(ctx, detecttest.StoreConfig, w.Addr)
	}
	r := &backtest.Runner{Conn: w.Pooled(), Database: db, Session: session}

	// the seller's live alert, closed as confirmed fake
	s := alert.NewStore(w.Conn, db)
	set, err := detect.NewSet(db, detect.SellerValidTrackingRate)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := session(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := s.RecordAt(t.Context(), conn, set, detect.Config{}, detecttest.AsOf(30)); err != nil {
		t.Fatal(err)
	}
	p, err := s.Cases(t.Context(), alert.CaseQuery{Query: alert.Query{SellerID: "sv"}})
	if err != nil || len(p.Cases) != 1 {
		t.Fatalf("the seller's live case: %+v, %v", p.Cases, err)
	}
	if _, err := s.ActCase(t.Context(), p.Cases[0].CaseID, alert.Action{Action: alert.ActClose, Actor: "ana", Outcome: alert.OutcomeConfirmedFake}, detecttest.AsOf(30)); err != nil {
		t.Fatal(err)
	}

	o := backtest.Options{From: detecttest.AsOf(26), To: detecttest.AsOf(30), Step: 24 * time.Hour}
	v, err := backtest.ParseVary("detect.seller_vtr_min_orders=20,30")
	if err != nil {
		t.Fatal(err)
	}
	cmp, res, err := r.Vary(t.Context(), o, v)
	if err != nil {
		t.Fatal(err)
	}
	if cmp.Shared || !slices.Equal(cmp.Detectors, []string{detect.SellerValidTrackingRate}) || len(cmp.Variants) != 2 || res.Steps != 5 {
		t.Fatalf("comparison: shared %v, detectors %v, %d variants, %d steps", cmp.Shared, cmp.Detectors, len(cmp.Variants), res.Steps)
	}
	at20, at30 := cmp.Variants[0].Detectors[0], cmp.Variants[1].Detectors[0]
	if at20.MinPerStep != 1 || at20.MaxPerStep != 1 || at20.Orders != 1 || at20.ConfirmedFake != 1 || at20.Precision == nil || *at20.Precision != 1 {
		t.Errorf("min_orders 20 (the seller's 25 orders count): %+v, want one seller flagged at every step, confirmed fake", at20)
	}
	if at30.MaxPerStep != 0 || at30.Orders != 0 || at30.Precision != nil {
		t.Errorf("min_orders 30 (more than the seller's 25 orders): %+v, want nothing flagged", at30)
	}

	o.Detectors = []string{detect.SellerValidTrackingRate}
	bt, err := r.Run(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := r.Report(t.Context(), bt.ID)
	if err != nil || len(rep.Detectors) != 1 || !reflect.DeepEqual(rep.Detectors[0], at20.DetectorReport) {
		t.Errorf("a backtest with the default (20) reports %+v, %v; the comparison %+v", rep.Detectors, err, at20.DetectorReport)
	}

	// the target, a share: the seller's rate of 0.52 is under 0.6 and 0.95, not under 0.5
	v, err = backtest.ParseVary("detect.seller_vtr_target=0.5,0.6,0.95")
	if err != nil {
		t.Fatal(err)
	}
	cmp, _, err = r.Vary(t.Context(), o, v)
	if err != nil {
		t.Fatal(err)
	}
	if cmp.Shared || cmp.Current != 0.95 || len(cmp.Variants) != 3 {
		t.Fatalf("targets compared: shared %v, current %v, %d variants", cmp.Shared, cmp.Current, len(cmp.Variants))
	}
	for i, want := range []uint64{0, 1, 1} {
		if vr := cmp.Variants[i]; vr.Value != v.Values[i] || vr.Detectors[0].Orders != want {
			t.Errorf("target %v: %d sellers flagged, want %d", vr.Value, vr.Detectors[0].Orders, want)
		}
	}
	if at95 := cmp.Variants[2].Detectors[0]; !reflect.DeepEqual(at95.DetectorReport, at20.DetectorReport) {
		t.Errorf("target 0.95 (the default) reports %+v, the default backtest %+v", at95.DetectorReport, at20.DetectorReport)
	}
	last, err := backtest.Comparisons{Conn: w.Pooled(), Database: db}.Last(t.Context())
	if err != nil || last == nil || last.ID != cmp.ID || len(last.Variants) != 3 {
		t.Fatalf("the kept comparison of targets: %+v, %v", last, err)
	}
	for i, vr := range last.Variants {
		if vr.Value != v.Values[i] || vr.BacktestID != cmp.Variants[i].BacktestID {
			t.Errorf("kept target %d: %v (%s), compared %v (%s)", i, vr.Value, vr.BacktestID, v.Values[i], cmp.Variants[i].BacktestID)
		}
	}
	// a row kept before migration 0019 added setting_value: its whole value reads as it
	if err := w.Conn.Exec(t.Context(), "INSERT INTO "+db+".backtest_comparisons (comparison_id, created_at, setting, value, detector, backtest_id)"+
		" VALUES ('before-0019', now64(3) + INTERVAL 1 HOUR, 'stalled_days', 7, 'stalled_eir', 'b7')"); err != nil {
		t.Fatal(err)
	}
	if last, err = (backtest.Comparisons{Conn: w.Pooled(), Database: db}).Last(t.Context()); err != nil || last == nil || len(last.Variants) != 1 || last.Variants[0].Value != 7 {
		t.Errorf("a comparison kept before setting_value: %+v, %v", last, err)
	}
}
