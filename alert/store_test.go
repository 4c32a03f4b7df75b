package alert_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/trackwatch/trackwatch/alert"
	"github.com/trackwatch/trackwatch/detect"
	"github.com/trackwatch/trackwatch/detect/detecttest"
	"github.com/trackwatch/trackwatch/devstack"
	"github.com/trackwatch/trackwatch/devstack/devstacktest"
	"github.com/trackwatch/trackwatch/store"
)

func TestMain(m *testing.M) {
	devstack.RunChildIfRequested()
	os.Exit(m.Run())
}

const db = "al"

var asOf = detecttest.AsOf

// stalledWorld has two stalled-EIR orders: "stalled" never moves, "moves-later" moves
// on the 14th. stalled_eir flags both as of the 13th, only "stalled" from the 14th.
func stalledWorld(t *testing.T) (*detecttest.World, *alert.Store, *detect.Set) {
	w := detecttest.NewWorld(t, db)
	w.Shipped("stalled", "RR123456785CN", "china-post", 5)
	w.Scan("RR123456785CN", "Electronic information received", 5)
	w.Shipped("moves-later", "RR111111115CN", "china-post", 5)
	w.Scan("RR111111115CN", "Label created", 5)
	w.Scan("RR111111115CN", "In transit", 14)
	set, err := detect.NewSet(db, "stalled_eir")
	if err != nil {
		t.Fatal(err)
	}
	return w, alert.NewStore(w.Conn, db), set
}

func record(t *testing.T, s *alert.Store, conn driver.Conn, set *detect.Set, cfg detect.Config, at time.Time) alert.Result {
	t.Helper()
	res, err := s.RecordAt(t.Context(), conn, set, cfg, at)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// changes renders a result's changes as "kind order" in order.
func changes(res alert.Result) []string {
	var out []string
	for _, c := range res.Changes {
		out = append(out, string(c.Kind)+" "+c.OrderID)
	}
	slices.Sort(out)
	return out
}

func expectChanges(t *testing.T, what string, res alert.Result, want ...string) {
	t.Helper()
	if got := changes(res); !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
		t.Errorf("%s: changes %v, want %v", what, got, want)
	}
}

func alertsByOrder(t *testing.T, s *alert.Store) map[string]alert.Alert {
	t.Helper()
	as, err := s.List(t.Context(), alert.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]alert.Alert{}
	for _, a := range as {
		out[a.OrderID] = a
	}
	return out
}

func TestARunReportsWhatFiredAndResolvedAndKeepsIDs(t *testing.T) {
	w, s, set := stalledWorld(t)
	res := record(t, s, w.Conn, set, detect.Config{}, asOf(13))
	expectChanges(t, "the first run", res, "fired moves-later", "fired stalled")
	if res.Firing["stalled_eir"] != 2 {
		t.Errorf("firing %v, want 2", res.Firing)
	}
	for _, c := range res.Changes {
		if c.Status != alert.StatusFiring || !c.AsOf.Equal(asOf(13)) || c.ChangeID == "" || c.Severity != detect.SeverityHigh ||
			c.Recommendation != detect.RecommendOpenDispute {
			t.Errorf("change %+v", c)
		}
	}
	first := alertsByOrder(t, s)
	expectChanges(t, "the same moment again", record(t, s, w.Conn, set, detect.Config{}, asOf(13)))

	res = record(t, s, w.Conn, set, detect.Config{}, asOf(15))
	expectChanges(t, "after the parcel moved", res, "resolved moves-later")
	later := alertsByOrder(t, s)
	moved, stalled := later["moves-later"], later["stalled"]
	if moved.Status != alert.StatusResolved || moved.ResolvedAt == nil || !moved.ResolvedAt.Equal(asOf(15)) || !moved.AsOf.Equal(asOf(15)) {
		t.Errorf("the parcel that moved: %+v", moved)
	}
	if stalled.Status != alert.StatusFiring || !stalled.FirstDetectedAt.Equal(asOf(13)) || !stalled.LastDetectedAt.Equal(asOf(15)) {
		t.Errorf("the stalled parcel: %+v", stalled)
	}
	if moved.AlertID != first["moves-later"].AlertID || stalled.AlertID != first["stalled"].AlertID {
		t.Errorf("alert ids changed between runs")
	}
	// Evidence is a JSON object, not a string holding one.
	b, _ := json.Marshal(stalled)
	var decoded struct {
		Evidence struct {
			Timeline []any `json:"timeline"`
		} `json:"evidence"`
	}
	if err := json.Unmarshal(b, &decoded); err != nil || len(decoded.Evidence.Timeline) != 1 {
		t.Errorf("alert JSON evidence: %v, %s", err, b)
	}
	// The change log holds every change once, with the alert as it was after it.
	var logged []alert.Change
	if err := w.Conn.Select(t.Context(), &logged, "SELECT * FROM al.alert_changes FINAL ORDER BY as_of, order_id"); err != nil {
		t.Fatal(err)
	}
	if len(logged) != 3 || logged[2].Kind != alert.ChangeResolved || logged[2].Reason == "" || !json.Valid(logged[2].Evidence) {
		t.Errorf("change log: %+v", logged)
	}
}

func TestAnAlertThatResolvedFiresAgainAsRefired(t *testing.T) {
	w, s, set := stalledWorld(t)
	expectChanges(t, "13th", record(t, s, w.Conn, set, detect.Config{}, asOf(13)), "fired moves-later", "fired stalled")
	// A stricter threshold for one run clears the stalled order...
	expectChanges(t, "14th, stalled_days 20", record(t, s, w.Conn, set, detect.Config{StalledDays: 20}, asOf(14)),
		"resolved moves-later", "resolved stalled")
	// ...and the default brings it back: a new firing episode.
	expectChanges(t, "15th", record(t, s, w.Conn, set, detect.Config{}, asOf(15)), "refired stalled")
	if a := alertsByOrder(t, s)["stalled"]; a.Status != alert.StatusFiring || !a.FirstDetectedAt.Equal(asOf(15)) || a.ResolvedAt != nil {
		t.Errorf("refired alert: %+v", a)
	}
}

func TestARunForAnEarlierMomentNeverOverwritesALaterState(t *testing.T) {
	w, s, set := stalledWorld(t)
	record(t, s, w.Conn, set, detect.Config{}, asOf(13))
	record(t, s, w.Conn, set, detect.Config{}, asOf(15))
	before := alertsByOrder(t, s)

	res := record(t, s, w.Conn, set, detect.Config{}, asOf(13).Add(time.Hour)) // as of a moment both were firing
	expectChanges(t, "a past moment", res)
	if at, ok := res.Behind["stalled_eir"]; !ok || !at.Equal(asOf(15)) {
		t.Errorf("Behind = %v, want stalled_eir recorded as of the 15th", res.Behind)
	}
	after := alertsByOrder(t, s)
	if after["moves-later"].Status != alert.StatusResolved || !after["stalled"].LastDetectedAt.Equal(before["stalled"].LastDetectedAt) {
		t.Errorf("the past run changed the alerts: %+v", after)
	}

	// A late write of an older state (a slow instance) loses to the later one, whatever
	// the order of the writes.
	if err := w.Conn.Exec(t.Context(), "INSERT INTO al.alerts SELECT * REPLACE ('firing' AS status, NULL AS resolved_at, "+
		"toDateTime64('2026-10-14 00:00:00', 3, 'UTC') AS as_of, now64(3) AS updated_at) FROM al.alerts FINAL WHERE order_id = 'moves-later'"); err != nil {
		t.Fatal(err)
	}
	if a := alertsByOrder(t, s)["moves-later"]; a.Status != alert.StatusResolved {
		t.Errorf("an older state written later won: %+v", a)
	}
}

func TestARunThatDiedAfterLoggingItsChangesIsNotRepeated(t *testing.T) {
	w, s, set := stalledWorld(t)
	logged := record(t, s, w.Conn, set, detect.Config{}, asOf(13))
	// As if the run had died between the change log and the alerts table.
	for _, q := range []string{"TRUNCATE TABLE al.alerts", "TRUNCATE TABLE al.alert_runs"} {
		if err := w.Conn.Exec(t.Context(), q); err != nil {
			t.Fatal(err)
		}
	}
	res := record(t, s, w.Conn, set, detect.Config{}, asOf(13).Add(time.Minute))
	expectChanges(t, "the next run", res)
	a := alertsByOrder(t, s)["stalled"]
	if a.Status != alert.StatusFiring || !a.FirstDetectedAt.Equal(asOf(13)) {
		t.Errorf("the next run did not continue the logged episode: %+v", a)
	}
	if len(logged.Changes) != 2 {
		t.Fatalf("first run: %v", changes(logged))
	}
}

func TestTwoInstancesRecordingOneMomentLogEachChangeOnce(t *testing.T) {
	w, s, set := stalledWorld(t)
	other, err := store.OpenSession(t.Context(), detecttest.StoreConfig, w.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	a := record(t, s, w.Conn, set, detect.Config{}, asOf(13))
	b := record(t, alert.NewStore(other, db), other, set, detect.Config{}, asOf(13))
	if len(b.Changes) != 0 && (len(b.Changes) != len(a.Changes) || b.Changes[0].ChangeID != a.Changes[0].ChangeID) {
		t.Errorf("the second instance made other changes: %v vs %v", changes(b), changes(a))
	}
	var n uint64
	if err := w.Conn.QueryRow(t.Context(), "SELECT count() FROM al.alert_changes FINAL").Scan(&n); err != nil || n != 2 {
		t.Errorf("change log: %d rows (%v), want 2", n, err)
	}
}

func TestListFilters(t *testing.T) {
	w, s, set := stalledWorld(t)
	record(t, s, w.Conn, set, detect.Config{}, asOf(13))
	record(t, s, w.Conn, set, detect.Config{}, asOf(15))
	for _, tc := range []struct {
		f    alert.Filter
		want []string
	}{
		{alert.Filter{Status: alert.StatusResolved}, []string{"moves-later"}},
		{alert.Filter{Detector: "stalled_eir", Status: alert.StatusFiring}, []string{"stalled"}},
		{alert.Filter{Detector: "never_scanned"}, nil},
		{alert.Filter{Limit: 1}, []string{"stalled"}}, // most recently detected first
	} {
		as, err := s.List(t.Context(), tc.f)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, a := range as {
			got = append(got, a.OrderID)
			if a.Reason == "" || !json.Valid(a.Evidence) || a.Amount == nil {
				t.Errorf("alert %s lacks fields: %+v", a.OrderID, a)
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("List(%+v) = %v, want %v", tc.f, got, tc.want)
		}
	}
}

func TestTwoSchedulersOnOneClickHouseWriteEachAlertOnce(t *testing.T) {
	w := detecttest.NewWorldForKilledClients(t, db) // its schedulers are cancelled mid-run
	w.Shipped("stalled", "RR123456785CN", "china-post", 5)
	w.Scan("RR123456785CN", "Electronic information received", 5)
	cfg := detect.Config{Schedule: "@every 1s"}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var metrics []*detect.Metrics
	done := make(chan struct{}, 2)
	// A pooled connection, as trackwatch run gives the store: the world's connection is a
	// single session, and two schedulers waiting on it could time out acquiring it.
	s := alert.NewStore(w.Pooled(), db)
	rec := func(ctx context.Context, f *detect.Findings) (map[string]int, error) {
		res, err := s.Record(ctx, f)
		return res.Firing, err
	}
	for range 2 { // two trackwatch instances
		m := detect.NewMetrics(nil)
		metrics = append(metrics, m)
		open := func(ctx context.Context) (driver.Conn, error) {
			return store.OpenSession(ctx, detecttest.StoreConfig, w.Addr)
		}
		// The clock is a month on, so the order has stalled.
		now := func() time.Time { return time.Now().AddDate(0, 0, 30) }
		sc, err := detect.NewScheduler(detect.SchedulerOptions{Open: open, Database: db, Config: cfg, Record: rec, Logger: devstacktest.Logger(), Metrics: m, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		go func() { _ = sc.Run(ctx); done <- struct{}{} }()
	}
	deadline := time.Now().Add(time.Minute)
	for {
		ran := 0
		for _, m := range metrics {
			if testutil.ToFloat64(m.Runs.WithLabelValues("stalled_eir", "ok")) >= 2 {
				ran++
			}
		}
		if ran == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("schedulers did not run stalled_eir twice each within a minute")
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Before stopping: a run that the stop cancels counts as an error, by design.
	for _, m := range metrics {
		if got := testutil.ToFloat64(m.Runs.WithLabelValues("stalled_eir", "error")); got != 0 {
			t.Fatalf("%v failed runs", got)
		}
	}
	// Checked before stopping: a run cancelled mid-query can make libchdb's server abort.
	var rows, ids, fired uint64
	if err := w.Conn.QueryRow(t.Context(), "SELECT count(), uniqExact(alert_id) FROM al.alerts FINAL").Scan(&rows, &ids); err != nil {
		t.Fatal(err)
	}
	if rows != 1 || ids != 1 {
		t.Fatalf("alerts FINAL: %d rows, %d ids; want one alert for the one stalled order", rows, ids)
	}
	if err := w.Conn.QueryRow(t.Context(), "SELECT count() FROM al.alert_changes FINAL WHERE kind = 'fired'").Scan(&fired); err != nil || fired != 1 {
		t.Fatalf("%d fired changes logged (%v), want 1", fired, err)
	}
	cancel()
	<-done
	<-done
}

func TestCaseActionsSetTheCaseAndAFalsePositiveDoesNotFireAgain(t *testing.T) {
	w, s, set := stalledWorld(t)
	record(t, s, w.Conn, set, detect.Config{}, asOf(13))
	id := alertsByOrder(t, s)["stalled"].AlertID
	now := asOf(13).Add(time.Hour)
	for _, tc := range []struct {
		a    alert.Action
		want string
	}{
		{alert.Action{Action: "escalate"}, "not one of"},
		{alert.Action{Action: alert.ActClose}, "close needs an outcome"},
		{alert.Action{Action: alert.ActAssign}, "assign needs an assignee"},
		{alert.Action{Action: alert.ActAcknowledge, Outcome: alert.OutcomeDuplicate}, "only close takes an outcome"},
	} {
		if _, err := s.Act(t.Context(), id, tc.a, now); !errors.Is(err, alert.ErrBadAction) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Act(%+v) = %v, want %q", tc.a, err, tc.want)
		}
	}
	if _, err := s.Act(t.Context(), "no-such-alert", alert.Action{Action: alert.ActAcknowledge}, now); !errors.Is(err, alert.ErrNotFound) {
		t.Errorf("unknown alert: %v", err)
	}
	steps := []struct {
		a    alert.Action
		want alert.Case
	}{
		{alert.Action{Action: alert.ActAcknowledge, Actor: "ana"}, alert.Case{State: alert.CaseAcknowledged, Actions: 1}},
		{alert.Action{Action: alert.ActAssign, Actor: "ana", Assignee: "bo"}, alert.Case{State: alert.CaseAcknowledged, Assignee: "bo", Actions: 2}},
		{alert.Action{Action: alert.ActComment, Actor: "bo", Comment: "<b>seller says</b> it shipped"}, alert.Case{State: alert.CaseAcknowledged, Assignee: "bo", Actions: 3}},
		{alert.Action{Action: alert.ActClose, Actor: "bo", Outcome: alert.OutcomeFalsePositive}, alert.Case{State: alert.CaseClosed, Assignee: "bo", Outcome: alert.OutcomeFalsePositive, Actions: 4}},
	}
	for i, st := range steps {
		c, err := s.Act(t.Context(), id, st.a, now.Add(time.Duration(i)*time.Minute))
		if err != nil || c != st.want {
			t.Fatalf("after %s: %+v, %v; want %+v", st.a.Action, c, err, st.want)
		}
	}
	_, acts, _ := s.CaseOf(t.Context(), id)
	if len(acts) != 4 || acts[2].Comment != "<b>seller says</b> it shipped" || acts[0].Actor != "ana" {
		t.Errorf("history %+v", acts)
	}
	// The finding clears, then returns: a false positive does not fire again.
	expectChanges(t, "14th, stalled_days 20", record(t, s, w.Conn, set, detect.Config{StalledDays: 20}, asOf(14)), "resolved moves-later", "resolved stalled")
	expectChanges(t, "15th", record(t, s, w.Conn, set, detect.Config{}, asOf(15)))
	// Reopened, it fires again at the next run that finds it.
	if _, err := s.Act(t.Context(), id, alert.Action{Action: alert.ActReopen, Actor: "ana"}, asOf(15).Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	expectChanges(t, "16th", record(t, s, w.Conn, set, detect.Config{}, asOf(16)), "refired stalled")
}

func TestQueryFiltersSortsAndPagesWithCases(t *testing.T) {
	w, s, set := stalledWorld(t)
	w.Shipped("stalled-2", "RR222222225CN", "china-post", 6)
	w.Scan("RR222222225CN", "Label created", 6)
	w.Shipped("stalled-3", "RR333333335CN", "china-post", 4)
	w.Scan("RR333333335CN", "Label created", 4)
	record(t, s, w.Conn, set, detect.Config{}, asOf(15)) // stalled, stalled-2, stalled-3 fire; moves-later does not
	ids := alertsByOrder(t, s)
	if _, err := s.Act(t.Context(), ids["stalled-2"].AlertID, alert.Action{Action: alert.ActAcknowledge, Actor: "ana"}, asOf(15)); err != nil {
		t.Fatal(err)
	}
	orders := func(p alert.Page) []string {
		var out []string
		for _, a := range p.Alerts {
			out = append(out, a.OrderID+":"+string(a.Case.State))
		}
		return out
	}
	// Urgency: protection ending soonest first (shipped on the 4th, 5th, 6th).
	var all []string
	var cursor string
	for range 5 {
		p, err := s.Query(t.Context(), alert.Query{Limit: 2, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, orders(p)...)
		if cursor = p.Next; cursor == "" {
			break
		}
	}
	if want := []string{"stalled-3:open", "stalled:open", "stalled-2:acknowledged"}; !slices.Equal(all, want) {
		t.Errorf("urgency pages: %v, want %v", all, want)
	}
	for _, tc := range []struct {
		q    alert.Query
		want []string
	}{
		{alert.Query{Case: alert.CaseOpen}, []string{"stalled-3:open", "stalled:open"}},
		{alert.Query{Case: alert.CaseAcknowledged}, []string{"stalled-2:acknowledged"}},
		{alert.Query{TrackingNumber: "rr222222225cn"}, []string{"stalled-2:acknowledged"}},
		{alert.Query{Detector: "never_scanned"}, nil},
		{alert.Query{ProtectionFrom: time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)}, []string{"stalled:open", "stalled-2:acknowledged"}},
	} {
		p, err := s.Query(t.Context(), tc.q)
		if err != nil || !slices.Equal(orders(p), tc.want) && !(len(p.Alerts) == 0 && tc.want == nil) {
			t.Errorf("Query(%+v) = %v, %v; want %v", tc.q, orders(p), err, tc.want)
		}
	}
	if _, err := s.Query(t.Context(), alert.Query{Cursor: "garbage"}); !errors.Is(err, alert.ErrBadQuery) {
		t.Errorf("bad cursor: %v", err)
	}
	st, err := s.Stats(t.Context(), asOf(15))
	if err != nil || st.Queue != 3 || st.Untouched != 2 || st.OldestUntouched == nil {
		t.Fatalf("stats %+v, %v", st, err)
	}
	// A closed alert leaves the queue (NotClosed) and is listed as closed.
	if _, err := s.Act(t.Context(), ids["stalled-3"].AlertID, alert.Action{Action: alert.ActClose, Actor: "ana", Outcome: alert.OutcomeConfirmedFake}, asOf(15)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		q    alert.Query
		want []string
	}{
		{alert.Query{NotClosed: true}, []string{"stalled:open", "stalled-2:acknowledged"}},
		{alert.Query{Case: alert.CaseClosed, Sort: "recency"}, []string{"stalled-3:closed"}},
	} {
		p, err := s.Query(t.Context(), tc.q)
		if err != nil || !slices.Equal(orders(p), tc.want) {
			t.Errorf("Query(%+v) = %v, %v; want %v", tc.q, orders(p), err, tc.want)
		}
	}
}

func TestARunWhoseSessionWasReplacedSaysSoAndTheNextRunRecordsIt(t *testing.T) {
	w, s, set := stalledWorld(t)
	// Any failed statement makes the driver close the session's connection, and the
	// run's temporary tables go with it.
	breakSession := func(ctx context.Context, _ *detect.Findings) error {
		if err := w.Conn.Exec(ctx, "SELECT throwIf(1)"); err == nil {
			t.Fatal("throwIf(1) did not fail")
		}
		return nil
	}
	var res alert.Result
	_, err := set.Evaluate(t.Context(), w.Conn, detect.Config{}, asOf(13), detect.Plain, breakSession, s.Consumer(&res))
	if !errors.Is(err, detect.ErrSessionLost) {
		t.Fatalf("Record after the session was replaced: %v, want ErrSessionLost", err)
	}
	expectChanges(t, "the next run", record(t, s, w.Conn, set, detect.Config{}, asOf(13)), "fired moves-later", "fired stalled")
}

// A run rewrites only the alerts whose content changed; readers still see every firing
// alert as last detected by the latest run, and a resolved alert as last detected by the
// run before it resolved.
func TestARunRewritesOnlyTheAlertsThatChanged(t *testing.T) {
	w, s, set := stalledWorld(t)
	written := func(at time.Time) []string {
		t.Helper()
		var rows []struct {
			OrderID string `ch:"order_id"`
		}
		if err := w.Conn.Select(t.Context(), &rows, "SELECT order_id FROM al.alerts WHERE as_of = {at:DateTime64(3, 'UTC')} ORDER BY order_id",
			clickhouse.Named("at", at)); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range rows {
			out = append(out, r.OrderID)
		}
		return out
	}
	first, again, evidence, moved := asOf(13), asOf(13).Add(5*time.Minute), asOf(13).Add(10*time.Minute), asOf(15)
	record(t, s, w.Conn, set, detect.Config{}, first)
	if got := written(first); !slices.Equal(got, []string{"moves-later", "stalled"}) {
		t.Fatalf("first run wrote %v", got)
	}
	record(t, s, w.Conn, set, detect.Config{}, again)
	if got := written(again); len(got) != 0 {
		t.Errorf("a run that changed nothing rewrote %v", got)
	}
	for order, a := range alertsByOrder(t, s) {
		if a.Status != alert.StatusFiring || !a.LastDetectedAt.Equal(again) || !a.FirstDetectedAt.Equal(first) {
			t.Errorf("%s after an unchanged run: %+v", order, a)
		}
	}
	if a, err := s.Get(t.Context(), alertsByOrder(t, s)["stalled"].AlertID); err != nil || !a.LastDetectedAt.Equal(again) {
		t.Errorf("Get after an unchanged run: %+v, %v", a, err)
	}
	// A second pre-advice for one number changes its evidence (the timeline) only.
	w.Scan("RR123456785CN", "Shipment information received", 6)
	record(t, s, w.Conn, set, detect.Config{}, evidence)
	if got := written(evidence); !slices.Equal(got, []string{"stalled"}) {
		t.Errorf("a run where one alert's evidence changed rewrote %v", got)
	}
	res := record(t, s, w.Conn, set, detect.Config{}, moved)
	expectChanges(t, "after the parcel moved", res, "resolved moves-later")
	if res.Count(alert.ChangeResolved) != 1 || res.Count(alert.ChangeFired) != 0 || !res.Changed() {
		t.Errorf("counts %v", res.Counts)
	}
	if len(res.Changes) == 1 && !res.Changes[0].LastDetectedAt.Equal(evidence) {
		t.Errorf("resolved change: last detected %s, want the previous run's %s", res.Changes[0].LastDetectedAt, evidence)
	}
	if a := alertsByOrder(t, s)["moves-later"]; a.Status != alert.StatusResolved || !a.LastDetectedAt.Equal(evidence) {
		t.Errorf("resolved alert: %+v", a)
	}
}

// A recording that writes its alerts in chunks (WriteChunk) writes what one that builds
// them all at once writes: the same alerts, the same change log, over a first run (every
// alert new), a run where some alerts' evidence changed and one where some resolved.
func TestChunkedWritesEqualOneWrite(t *testing.T) {
	w := detecttest.NewWorld(t, db)
	for i := range 23 {
		number := fmt.Sprintf("RR%09dCN", 100000000+i)
		w.Shipped(fmt.Sprintf("order-%02d", i), number, "china-post", 5)
		w.Scan(number, "Electronic information received", 5)
	}
	set, err := detect.NewSet(db, "stalled_eir")
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		What string `ch:"what"`
	}
	snapshot := func() []string {
		t.Helper()
		var rows []row
		q := `SELECT what FROM (SELECT concat('alert ', toString(tuple(alert_id, detector, order_id, tracking_number, seller_id, buyer_id, marketplace, severity,
			recommendation, reason, reasons, evidence, protection_ends_at, amount, first_detected_at, last_detected_at, status, resolved_at, as_of,
			content_hash))) AS what FROM al.alerts FINAL
		UNION ALL SELECT concat('change ', toString(tuple(change_id, kind, alert_id, reason, evidence, status, as_of))) FROM al.alert_changes FINAL
		UNION ALL SELECT concat('run ', toString(tuple(detector, as_of, firing, fired, refired, resolved))) FROM al.alert_runs)
		ORDER BY what`
		if err := w.Conn.Select(t.Context(), &rows, q); err != nil {
			t.Fatal(err)
		}
		out := make([]string, len(rows))
		for i, r := range rows {
			out[i] = r.What
		}
		return out
	}
	// Two runs, then evidence changes for some numbers, then some move.
	sequence := func(chunk int) []string {
		t.Helper()
		for _, table := range []string{"alerts", "alert_changes", "alert_runs"} {
			if err := w.Conn.Exec(t.Context(), "TRUNCATE TABLE al."+table); err != nil {
				t.Fatal(err)
			}
		}
		s := alert.NewStore(w.Conn, db)
		s.WriteChunk = chunk
		var out []string
		for i, at := range []time.Time{asOf(13), asOf(14), asOf(16), asOf(18)} {
			res := record(t, s, w.Conn, set, detect.Config{}, at)
			out = append(out, fmt.Sprintf("run %d: %v", i, res.Counts))
		}
		return append(out, snapshot()...)
	}
	for i := range 5 { // evidence changes on the 15th, movement on the 17th
		w.Scan(fmt.Sprintf("RR%09dCN", 100000000+i), "Shipment information received", 15)
	}
	for i := 5; i < 9; i++ {
		w.Scan(fmt.Sprintf("RR%09dCN", 100000000+i), "In transit", 17)
	}
	whole := sequence(0)
	chunked := sequence(4) // 23 alerts: six chunks in the first run
	if !slices.Equal(whole, chunked) {
		for i := range max(len(whole), len(chunked)) {
			var a, b string
			if i < len(whole) {
				a = whole[i]
			}
			if i < len(chunked) {
				b = chunked[i]
			}
			if a != b {
				c := 0
				for c < min(len(a), len(b)) && a[c] == b[c] {
					c++
				}
				c = max(0, c-80)
				t.Errorf("first difference at row %d:\n  whole:   %.300s\n  chunked: %.300s", i, a[min(c, len(a)):], b[min(c, len(b)):])
				break
			}
		}
	}
	if len(whole) < 23+23 {
		t.Fatalf("the runs wrote too little to compare: %d rows", len(whole))
	}
}
