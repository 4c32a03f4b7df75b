package detect_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/trackwatch/trackwatch/alert"
	"github.com/trackwatch/trackwatch/detect"
	"github.com/trackwatch/trackwatch/ingest"
	"github.com/trackwatch/trackwatch/schemas"
	"github.com/trackwatch/trackwatch/simulate"
)

// scheduledRun records one scheduled run as the scheduler does (Evaluate, Scheduled,
// with the alert store as its consumer) and returns how many orders it evaluated (-1: every order), or why it
// evaluated every order.
func scheduledRun(t *testing.T, conn driver.Conn, set *detect.Set, store *alert.Store, cfg detect.Config, at time.Time) (int, string) {
	t.Helper()
	var res alert.Result
	ev, err := set.Evaluate(context.Background(), conn, cfg, at, detect.Scheduled, store.Consumer(&res))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Scoped {
		return ev.Orders, ""
	}
	return -1, ev.FullReason
}

// Scheduled runs that evaluate only what can have changed since the previous run record
// exactly what runs over every order record, run after run: the same alerts, fired,
// rewritten and resolved at the same moments, with the same texts and evidence, and the
// same counts of alerts firing. Two databases get the simulator's traffic (every
// detector's cases and traps); one is run scoped, the other with detect.always_full, at
// moments 37 hours apart (so that they cross midnights at different hours) over five
// weeks, during which a quarter of the carrier events and a fifth of the order events
// arrive late (stored after moments they occurred before, as a carrier's backlog does)
// and the rest become visible as the moments pass them.
func TestScopedRunsRecordWhatRunsOverEveryOrderRecord(t *testing.T) {
	w := newWorld(t)
	const full = "det_full"
	if _, err := schemas.Migrate(t.Context(), w.Conn, schemas.DDLOptions{Database: full}, time.Now); err != nil {
		t.Fatal(err)
	}
	end := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	res := simulate.Run(simulate.Options{Orders: 600, Seed: 11, AsOf: end})
	var tracking, trackingLate []ingest.TrackingRow
	var orders, ordersLate []ingest.OrderRow
	for i, m := range res.Messages {
		if r, rej := ingest.DecodeTracking(m.Value); rej == nil && m.Topic == "tracking-events" {
			if i%4 == 0 {
				trackingLate = append(trackingLate, r)
			} else {
				tracking = append(tracking, r)
			}
		} else if r, rej := ingest.DecodeOrder(m.Value); rej == nil && m.Topic == "order-events" {
			if i%5 == 0 {
				ordersLate = append(ordersLate, r)
			} else {
				orders = append(orders, r)
			}
		}
	}
	insert := func(tr []ingest.TrackingRow, or []ingest.OrderRow, token string) {
		for _, d := range []string{db, full} {
			if err := ingest.InsertTracking(t.Context(), w.Conn, d, tr, "tracking-events", 0, 0, token+"t"); err != nil {
				t.Fatal(err)
			}
			if err := ingest.InsertOrders(t.Context(), w.Conn, d, or, "order-events", 0, 0, token+"o"); err != nil {
				t.Fatal(err)
			}
		}
	}
	insert(tracking, orders, "early")

	sets := map[string]*detect.Set{}
	for _, d := range []string{db, full} {
		s, err := detect.NewSet(d)
		if err != nil {
			t.Fatal(err)
		}
		sets[d] = s
	}
	scopedCfg := detect.Config{FullRunEvery: 1000 * time.Hour, ChangeMargin: -1}
	fullCfg := detect.Config{AlwaysFull: true}
	stores := map[string]*alert.Store{db: alert.NewStore(w.Conn, db), full: alert.NewStore(w.Conn, full)}
	var scoped []int
	fired := map[string]bool{}
	steps := 0
	for at := end.AddDate(0, 0, -36); !at.After(end); at = at.Add(37 * time.Hour) {
		steps++
		if steps == 10 {
			insert(trackingLate, ordersLate, "late")
		}
		n, why := scheduledRun(t, w.Conn, sets[db], stores[db], scopedCfg, at)
		if steps > 1 {
			if n < 0 {
				t.Fatalf("step %d (%s): a run over every order (%s), want a scoped one", steps, at, why)
			}
			scoped = append(scoped, n)
		}
		if m, _ := scheduledRun(t, w.Conn, sets[full], stores[full], fullCfg, at); m != -1 {
			t.Fatalf("detect.always_full: a scoped run of %d orders", m)
		}
		got, err := stores[db].List(t.Context(), alert.Filter{Limit: 100000})
		if err != nil {
			t.Fatal(err)
		}
		want, err := stores[full].List(t.Context(), alert.Filter{Limit: 100000})
		if err != nil {
			t.Fatal(err)
		}
		byID := func(a, b alert.Alert) int {
			if a.AlertID < b.AlertID {
				return -1
			}
			if a.AlertID > b.AlertID {
				return 1
			}
			return 0
		}
		slices.SortFunc(got, byID)
		slices.SortFunc(want, byID)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("step %d (%s, %d orders evaluated): scoped runs recorded %d alerts, full runs %d; %s", steps, at, n, len(got), len(want), firstAlertDifference(got, want))
		}
		for _, a := range got {
			if a.Status == alert.StatusFiring {
				fired[a.Detector] = true
			}
		}
		var counts [2][]uint64
		for i, d := range []string{db, full} {
			if err := w.Conn.QueryRow(t.Context(), "SELECT groupArray(firing) FROM (SELECT detector, firing FROM `"+d+"`.alert_runs FINAL WHERE as_of = {at:DateTime64(3, 'UTC')} ORDER BY detector)",
				clickhouse.Named("at", at)).Scan(&counts[i]); err != nil {
				t.Fatal(err)
			}
		}
		if !reflect.DeepEqual(counts[0], counts[1]) {
			t.Fatalf("step %d (%s): alerts firing per detector, scoped %v, full %v", steps, at, counts[0], counts[1])
		}
	}
	if len(fired) < 6 {
		t.Errorf("only %d detectors fired over the steps: %v", len(fired), fired)
	}
	// A run a minute after the last, with nothing stored meanwhile, evaluates only the
	// orders whose next check falls in that minute.
	var total uint64
	if err := w.Conn.QueryRow(t.Context(), "SELECT uniqExact(order_id) FROM `"+db+"`.order_events").Scan(&total); err != nil {
		t.Fatal(err)
	}
	last := end.Add(-36*24*time.Hour + time.Duration(steps-1)*37*time.Hour)
	n, why := scheduledRun(t, w.Conn, sets[db], stores[db], scopedCfg, last.Add(time.Minute))
	if n < 0 || uint64(n)*20 > total {
		t.Errorf("a run a minute after the previous one evaluated %d of %d orders (%s)", n, total, why)
	}
	t.Logf("%d steps; orders evaluated by the scoped runs (of %d): %v; a minute later: %d", steps, total, scoped, n)

	// What the changes cannot show makes the next run one over every order, and says why.
	at := last.Add(2 * time.Minute)
	for _, c := range []struct {
		before func()
		cfg    detect.Config
		why    string
	}{
		{func() {}, detect.Config{FullRunEvery: 1000 * time.Hour, ChangeMargin: -1, StalledDays: 9}, "the detectors or their thresholds changed"},
		{func() {}, scopedCfg, "the detectors or their thresholds changed"}, // and back
		{func() {
			if err := w.Conn.Exec(t.Context(), schemas.ResetDetectRuns(db)); err != nil {
				t.Fatal(err)
			}
		}, scopedCfg, "stored history was changed in place"},
		{func() {}, detect.Config{FullRunEvery: time.Minute, ChangeMargin: -1}, "detect.full_run_every"},
		{func() {}, scopedCfg, ""},
	} {
		c.before()
		at = at.Add(time.Minute)
		n, why := scheduledRun(t, w.Conn, sets[db], stores[db], c.cfg, at)
		if why != c.why || (c.why == "") != (n >= 0) {
			t.Errorf("as of %s: evaluated %d orders (%q), want %q", at, n, why, c.why)
		}
	}
}

func firstAlertDifference(got, want []alert.Alert) string {
	g := map[string]alert.Alert{}
	for _, a := range got {
		g[a.AlertID] = a
	}
	for _, b := range want {
		a, ok := g[b.AlertID]
		if !ok {
			return fmt.Sprintf("missing in the scoped runs: %s %s %s (%s since %s)", b.Detector, b.OrderID, b.TrackingNumber, b.Status, b.FirstDetectedAt)
		}
		if !reflect.DeepEqual(a, b) {
			return fmt.Sprintf("differs:\nscoped %+v\n  evidence %s\nfull   %+v\n  evidence %s", a, a.Evidence, b, b.Evidence)
		}
		delete(g, b.AlertID)
	}
	for _, a := range g {
		return fmt.Sprintf("only in the scoped runs: %s %s %s (%s since %s)", a.Detector, a.OrderID, a.TrackingNumber, a.Status, a.FirstDetectedAt)
	}
	return ""
}
