package detect_test

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trackwatch/trackwatch/detect"
	"github.com/trackwatch/trackwatch/ingest"
	"github.com/trackwatch/trackwatch/schemas"
	"github.com/trackwatch/trackwatch/simulate"
)

// drafts is a consumer that reads a run's findings without timelines, one line each:
// for a varied set, by value.
func drafts(out map[int][]string, varied bool) detect.Consumer {
	return func(ctx context.Context, f *detect.Findings) error {
		value := "toUInt16(0)"
		if varied {
			value = "vary_value"
		}
		var rows []struct {
			Value uint16     `ch:"value"`
			Line  string     `ch:"line"`
			Ends  *time.Time `ch:"protection_ends_at"`
		}
		q := "SELECT " + value + " AS value, concat(detector, ' ', order_id, ' ', tracking_number, ' ', severity, ' ', recommendation, ' ', reason) AS line, protection_ends_at FROM (" +
			f.Data(f.Database())["Drafts"].(string) + ")"
		if err := f.Select(ctx, "", &rows, q); err != nil {
			return err
		}
		for _, r := range rows {
			out[int(r.Value)] = append(out[int(r.Value)], fmt.Sprint(r.Line, " ", r.Ends))
		}
		return nil
	}
}

// A varied set finds, for each value of every threshold it can vary, what a run with
// that value finds: over the simulator's traffic (every detector's cases and traps),
// with values around each default, the findings of every detector the threshold
// changes, their severities, recommendations, reasons and protection ends. And which
// detectors a threshold changes is what their SQL reads.
func TestAVariedSetFindsForEachValueWhatARunWithThatValueFinds(t *testing.T) {
	w := newWorld(t)
	asOf := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	sim := simulate.Run(simulate.Options{Orders: 400, Seed: 5, AsOf: asOf})
	var orders []string
	var scans []ingest.TrackingRow
	for _, m := range sim.Messages {
		if m.Topic == schemas.OrderTopic {
			orders = append(orders, string(m.Value))
			continue
		}
		r, rej := ingest.DecodeTracking(m.Value)
		if rej != nil {
			t.Fatalf("simulated event rejected: %v", rej)
		}
		scans = append(scans, r)
	}
	w.Orders(orders...)
	if err := ingest.InsertTracking(t.Context(), w.Conn, db, scans, "tracking-events", 0, 1, "vary"); err != nil {
		t.Fatal(err)
	}

	if got, _ := detect.Affected("stalled_days"); !slices.Equal(got, []string{"stalled_eir", "cancel_dodged"}) {
		t.Errorf("stalled_days changes %v", got)
	}
	if got, _ := detect.Affected("recycle_months", "stalled_eir", "went_silent"); !slices.Equal(got, []string{"stalled_eir", "went_silent"}) {
		t.Errorf("recycle_months (read before the detectors) changes %v of two", got)
	}
	if got, _ := detect.Affected("silent_days_express"); !slices.Equal(got, []string{"went_silent"}) {
		t.Errorf("silent_days_express changes %v", got)
	}
	if got, _ := detect.Affected("seller_vtr_min_orders"); detect.Shared("seller_vtr_min_orders") || !slices.Equal(got, []string{detect.SellerValidTrackingRate}) {
		t.Errorf("seller_vtr_min_orders (the sellers' own stage) changes %v, shared %v", got, detect.Shared("seller_vtr_min_orders"))
	}
	if got, err := detect.Affected("seller_vtr_scan_days", "stalled_eir"); err != nil || len(got) != 0 {
		t.Errorf("seller_vtr_scan_days changes %v of stalled_eir (%v)", got, err)
	}
	if got, err := detect.Affected("seller_vtr_target"); err != nil || detect.Shared("seller_vtr_target") || !detect.IsShare("seller_vtr_target") ||
		!slices.Equal(got, []string{detect.SellerValidTrackingRate}) {
		t.Errorf("the target, a share of the sellers' own stage: changes %v (%v)", got, err)
	}
	if err := (detect.Variation{Key: "seller_vtr_target", Values: []float64{0.9, 1.5}}).Validate(); err == nil || !strings.Contains(err.Error(), "1.5 is not a share") {
		t.Errorf("a target of 1.5: %v", err)
	}
	if err := (detect.Variation{Key: "seller_vtr_target", Values: []float64{0.9, 0.9000001}}).Validate(); err == nil || !strings.Contains(err.Error(), "0.9000001 is given twice") {
		t.Errorf("targets within a millionth: %v", err)
	}
	if err := (detect.Variation{Key: "seller_vtr_target", Values: []float64{0.9, math.NaN()}}).Validate(); err == nil || !strings.Contains(err.Error(), "NaN is not a number") {
		t.Errorf("a target of NaN: %v", err)
	}
	if err := (detect.Variation{Key: "stalled_days", Values: []float64{5, 7.5}}).Validate(); err == nil || !strings.Contains(err.Error(), "7.5 is not a whole number") {
		t.Errorf("stalled_days of 7.5: %v", err)
	}
	if c, err := (detect.Config{}).With("seller_vtr_target", 0.8); err != nil || c.SellerVTRTarget != 0.8 {
		t.Errorf("With the target 0.8: %+v, %v", c.SellerVTRTarget, err)
	}
	defaults := detect.Config{}.WithDefaults()
	differed := 0
	for _, key := range detect.VariableSettings() {
		if !detect.Shared(key) {
			continue
		}
		names, err := detect.Affected(key)
		if err != nil || len(names) == 0 {
			t.Fatalf("%s changes %v (%v)", key, names, err)
		}
		def, _ := defaults.Value(key)
		v := detect.Variation{Key: key, Values: []float64{max(1, math.Floor(def/3)), def, def * 2}}
		if def < 3 {
			v.Values = []float64{def, def + 2, def + 5}
		}
		set, err := detect.NewVariedSet(db, v, names...)
		if err != nil {
			t.Fatal(err)
		}
		varied := map[int][]string{}
		if _, err := set.Evaluate(t.Context(), w.Conn, cfgZero, asOf, detect.Plain, drafts(varied, true)); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		var counts []int
		for _, x := range v.Values {
			cfg, _ := cfgZero.With(key, x)
			plain, err := detect.NewSet(db, names...)
			if err != nil {
				t.Fatal(err)
			}
			alone := map[int][]string{}
			if _, err := plain.Evaluate(t.Context(), w.Conn, cfg, asOf, detect.Plain, drafts(alone, false)); err != nil {
				t.Fatal(err)
			}
			got, want := varied[int(x)], alone[0]
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("%s=%v over %v: the varied set finds %d, a run with the value %d:\n%s\n---\n%s", key, x, names, len(got), len(want),
					strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			counts = append(counts, len(want))
		}
		if counts[0] != counts[1] || counts[1] != counts[2] {
			differed++
		}
		t.Logf("%s=%v over %v: %v findings", key, v.Values, names, counts)
	}
	if differed < 3 {
		t.Errorf("only %d thresholds' values changed the findings: the traffic does not test the variants", differed)
	}
	if _, err := detect.NewVariedSet(db, detect.Variation{Key: "recycle_months", Values: []float64{6, 12}}); err == nil {
		t.Error("a varied set of recycle_months (read before the detectors) was made")
	}
	if _, err := detect.NewVariedSet(db, detect.Variation{Key: "seller_vtr_window_days", Values: []float64{30, 60}}); err == nil {
		t.Error("a varied set of seller_vtr_window_days (the sellers' own stage) was made")
	}
	set, _ := detect.NewVariedSet(db, detect.Variation{Key: "stalled_days", Values: []float64{5, 7}})
	if _, err := set.Evaluate(t.Context(), w.Conn, cfgZero, asOf, detect.Scheduled); err == nil {
		t.Error("a varied set made a scheduled run")
	}
}
