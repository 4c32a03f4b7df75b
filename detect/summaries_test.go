package detect_test

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/trackwatch/trackwatch/detect"
	"github.com/trackwatch/trackwatch/ingest"
	"github.com/trackwatch/trackwatch/internal/bench"
	"github.com/trackwatch/trackwatch/simulate"
)

// The stored monthly summaries stand for a number's and an order's events exactly at the edges
// of a run's window: a number whose history crosses the start of the recycle window (an
// earlier parcel with the same number), one with events after the moment in the same
// month, in the month before, and a carrier whose window is shorter; and a month that
// starts or ends on the moment itself. Every moment gives the same findings both ways
// (evalBothWays), and the moments are chosen so that both edges cut through rows, of
// carrier events and of order events.
func TestSummariesGiveTheEventsFindingsAtEveryEdgeOfTheWindow(t *testing.T) {
	w := newWorld(t)
	// An earlier parcel with this number a year ago, then the order's parcel that never moved.
	w.event("RR555555555CN", "Accepted", date(2025, 11, 10), nil, &tokyo)
	w.event("RR555555555CN", "Delivered", date(2025, 11, 25), nil, &tokyo)
	w.order("recycled", "b1", tokyo, date(2026, 10, 28), date(2026, 10, 30), "RR555555555CN", 60)
	w.event("RR555555555CN", "Electronic information received", date(2026, 10, 30), nil, nil)
	// Pre-advice, then movement after some of the moments below, within one month.
	w.order("late-mover", "b2", tokyo, date(2026, 11, 1), date(2026, 11, 2), "RR121212125CN", 60)
	w.event("RR121212125CN", "Electronic information received", date(2026, 11, 2), nil, nil)
	w.event("RR121212125CN", "Accepted", date(2026, 11, 14), nil, nil)
	w.event("RR121212125CN", "Delivered", date(2026, 11, 20), &addr{"US", "Austin", "73301"}, &addr{"US", "Austin", "73301"})
	// A label voided after its pre-advice, the void in the next month.
	w.order("voided", "b3", tokyo, date(2026, 10, 20), date(2026, 10, 25), "RR313131315CN", 60)
	w.event("RR313131315CN", "Label created", date(2026, 10, 25), nil, nil)
	w.event("RR313131315CN", "Shipment cancelled by sender", date(2026, 11, 3), nil, nil)
	// Movement that went quiet, spread over three months.
	w.order("quiet", "b4", tokyo, date(2026, 9, 1), date(2026, 9, 2), "RR363636365CN", 90)
	w.event("RR363636365CN", "Accepted", date(2026, 9, 3), nil, nil)
	w.event("RR363636365CN", "Departed from outward office of exchange", date(2026, 10, 1), nil, nil)
	w.event("RR363636365CN", "Arrived at inward office of exchange", date(2026, 11, 5), &tokyo, nil)

	// Orders whose events cross a moment: cancelled the day after shipment, within a month
	// and across a month's end (a number with a wrong check digit flags them until then).
	w.order("cancelled-later", "b5", tokyo, date(2026, 11, 8), date(2026, 11, 9).Add(time.Hour), "RR123456784CN", 60, "cancelled")
	w.order("cancelled-next-month", "b6", tokyo, date(2026, 10, 29), date(2026, 10, 31).Add(time.Hour), "RR123456783CN", 60, "cancelled")

	all, err := detect.NewSet(db)
	if err != nil {
		t.Fatal(err)
	}
	short := detect.Config{ByCarrier: map[string]detect.Thresholds{"china-post": {RecycleMonths: 1}}}
	fired := map[string]bool{}
	for _, at := range []time.Time{
		date(2026, 11, 10), date(2026, 11, 17), date(2026, 11, 1), date(2026, 11, 30), date(2026, 12, 5),
		time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 10, 31, 23, 59, 59, 999e6, time.UTC),
	} {
		for _, cfg := range []detect.Config{{}, short} {
			for _, f := range w.evalBothWays(all, cfg, at) {
				fired[f.Detector] = true
			}
		}
	}
	for _, d := range []string{"stalled_eir", "label_voided", "went_silent", "destination_mismatch", "invalid_tracking_number"} {
		if !fired[d] {
			t.Errorf("the fixture should trip %s at some moment; tripped %v", d, fired)
		}
	}
}

// On the simulator's traffic (every detector's cases and traps, re-sent and out-of-order
// events) and on the benchmark's generated data, every detector finds the same over the
// summaries as over the events, as of the data's moment and of earlier ones that cut
// through months, with the default window and a carrier's short one.
func TestSummariesGiveTheEventsFindingsOnSimulatedAndBenchmarkData(t *testing.T) {
	w := newWorld(t)
	asOfSim := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	res := simulate.Run(simulate.Options{Orders: 400, Seed: 5, AsOf: asOfSim})
	var tracking []ingest.TrackingRow
	var orders []ingest.OrderRow
	for _, m := range res.Messages {
		if r, rej := ingest.DecodeTracking(m.Value); rej == nil && m.Topic == "tracking-events" {
			tracking = append(tracking, r)
		} else if r, rej := ingest.DecodeOrder(m.Value); rej == nil && m.Topic == "order-events" {
			orders = append(orders, r)
		}
	}
	if len(tracking) < 1000 || len(orders) < 400 {
		t.Fatalf("simulated %d tracking and %d order events", len(tracking), len(orders))
	}
	for i := 0; i < len(tracking); i += 500 { // several blocks, as the ingest writes them
		if err := ingest.InsertTracking(t.Context(), w.Conn, db, tracking[i:min(i+500, len(tracking))], "tracking-events", 0, int64(i), fmt.Sprint("st", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := ingest.InsertOrders(t.Context(), w.Conn, db, orders, "order-events", 0, 0, "so"); err != nil {
		t.Fatal(err)
	}
	const benchDB = "det_bench"
	if err := bench.GenerateDetectData(t.Context(), w.Conn, benchDB, 5000, false); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		db   string
		asOf time.Time
	}{{db, asOfSim}, {benchDB, bench.BenchAsOf()}} {
		all, err := detect.NewSet(c.db)
		if err != nil {
			t.Fatal(err)
		}
		short := detect.Config{ByCarrier: map[string]detect.Thresholds{"china-post": {RecycleMonths: 1}, "cainiao": {RecycleMonths: 2}}}
		for _, at := range []time.Time{c.asOf, c.asOf.AddDate(0, 0, -12), c.asOf.AddDate(0, 0, -30)} {
			for _, cfg := range []detect.Config{{}, short} {
				if n := len(w.evalBothWays(all, cfg, at)); n == 0 && at.Equal(c.asOf) {
					t.Errorf("%s as of %s: no findings", c.db, at)
				}
			}
		}
		// A run in passes (each over the orders and numbers that hash to it) finds the same.
		one, err := all.Eval(t.Context(), w.Conn, detect.Config{}, c.asOf)
		if err != nil {
			t.Fatal(err)
		}
		three := w.evalBothWays(all, detect.Config{Passes: 3}, c.asOf)
		if !reflect.DeepEqual(one, three) {
			t.Errorf("%s: one pass %d findings, three passes %d; %s", c.db, len(one), len(three), firstDifference(one, three))
		}
	}
}
