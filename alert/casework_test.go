package alert_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/trackwatch/trackwatch/alert"
	"github.com/trackwatch/trackwatch/detect"
	"github.com/trackwatch/trackwatch/detect/detecttest"
)

// caseWorld: "both" is a stalled label whose protection ends within the week
// (stalled_eir and protection_expiry), ring-1 and ring-2 carry one number to two
// buyers (tracking_reuse), "moving" is in transit; recorded as of November 28th.
func caseWorld(t *testing.T) (*detecttest.World, *alert.Store, time.Time) {
	w := detecttest.NewWorld(t, db)
	w.Shipped("both", "RR123456785CN", "china-post", 5)
	w.Scan("RR123456785CN", "Electronic information received", 5)
	w.Shipped("ring-1", "RR444444445CN", "china-post", 25)
	w.Shipped("ring-2", "RR444444445CN", "china-post", 25)
	w.Scan("RR444444445CN", "In transit", 26)
	set, err := detect.NewSet(db, "stalled_eir", "protection_expiry", "tracking_reuse")
	if err != nil {
		t.Fatal(err)
	}
	s := alert.NewStore(w.Conn, db)
	at := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	record(t, s, w.Conn, set, detect.Config{}, at)
	return w, s, at
}

func casesByOrder(t *testing.T, s *alert.Store, q alert.CaseQuery) map[string]alert.CaseSummary {
	t.Helper()
	p, err := s.Cases(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]alert.CaseSummary{}
	for _, c := range p.Cases {
		out[c.OrderID] = c
	}
	return out
}

// An order with two firing detectors is one case with both signals, one dispute text
// per language stating each signal's facts once, and closing it records the outcome on
// both alerts, which the precision per detector counts.
func TestAnOrderWithTwoSignalsIsOneCaseClosedOnBothAlerts(t *testing.T) {
	_, s, at := caseWorld(t)
	cs := casesByOrder(t, s, alert.CaseQuery{})
	c, ok := cs["both"]
	if !ok || len(cs) != 3 {
		t.Fatalf("cases %+v", cs)
	}
	if c.CaseID != alert.CaseID("aliexpress", "both", "") || c.Signals != 2 || c.Firing != 2 ||
		!slices.Equal(c.Detectors, []string{"protection_expiry", "stalled_eir"}) || c.Status != alert.StatusFiring ||
		c.Severity != detect.SeverityCritical && c.Severity != detect.SeverityHigh || c.Recommendation != detect.RecommendOpenDispute ||
		c.State != alert.CaseOpen || c.Linked != 0 || !slices.Equal(c.TrackingNumbers, []string{"RR123456785CN"}) {
		t.Errorf("case %+v", c)
	}
	d, err := s.GetCase(t.Context(), c.CaseID)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Alerts) != 2 || len(d.LinkedCases) != 0 {
		t.Fatalf("detail: %d alerts, linked %+v", len(d.Alerts), d.LinkedCases)
	}
	en, ja := d.Dispute["en"], d.Dispute["ja"]
	if strings.Count(en, "I request a full refund") != 1 || !strings.HasSuffix(en, "I request a full refund before protection ends.") ||
		strings.Count(en, "has shown only electronic information") != 1 || !strings.Contains(en, "Buyer protection for this order ends on 2026-12-04") {
		t.Errorf("dispute (en): %s", en)
	}
	if strings.Count(ja, "返金") != 1 || ja == "" {
		t.Errorf("dispute (ja): %s", ja)
	}
	for _, a := range d.Alerts { // each alert keeps its own text
		if !strings.Contains(a.Reasons["en"], "I request a full refund") {
			t.Errorf("%s: %s", a.Detector, a.Reasons["en"])
		}
	}

	st, err := s.Stats(t.Context(), at)
	if err != nil || st.QueueCases != 3 || st.UntouchedCases != 3 || st.Queue != st.Untouched || st.Queue < 4 {
		t.Errorf("stats before any action: %+v, %v; want 3 cases queued and untouched, at least 4 alerts", st, err)
	}
	alertsQueued := st.Queue

	now := at.Add(time.Hour)
	for _, tc := range []struct {
		a    alert.Action
		want string
	}{
		{alert.Action{Action: "escalate"}, "not one of"},
		{alert.Action{Action: alert.ActClose}, "close needs an outcome"},
	} {
		if _, err := s.ActCase(t.Context(), c.CaseID, tc.a, now); !errors.Is(err, alert.ErrBadAction) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ActCase(%+v) = %v, want %q", tc.a, err, tc.want)
		}
	}
	if _, err := s.ActCase(t.Context(), "0123", alert.Action{Action: alert.ActAcknowledge}, now); !errors.Is(err, alert.ErrNotFound) {
		t.Errorf("unknown case: %v", err)
	}
	if _, err := s.ActCase(t.Context(), c.CaseID, alert.Action{Action: alert.ActAssign, Actor: "ana", Assignee: "bo"}, now); err != nil {
		t.Fatal(err)
	}
	after, err := s.ActCase(t.Context(), c.CaseID, alert.Action{Action: alert.ActClose, Actor: "bo", Outcome: alert.OutcomeConfirmedFake}, now.Add(time.Minute))
	if err != nil || after.State != alert.CaseClosed || after.Outcome != alert.OutcomeConfirmedFake || after.Assignee != "bo" || after.Actions != 2 {
		t.Fatalf("after close: %+v, %v", after, err)
	}
	for _, a := range d.Alerts {
		ac, acts, err := s.CaseOf(t.Context(), a.AlertID)
		if err != nil || ac.State != alert.CaseClosed || ac.Outcome != alert.OutcomeConfirmedFake || len(acts) != 2 {
			t.Errorf("%s: case %+v, %d actions, %v", a.Detector, ac, len(acts), err)
		}
	}
	d, err = s.GetCase(t.Context(), c.CaseID)
	if err != nil || len(d.Actions) != 2 || d.Actions[1].Action != alert.ActClose {
		t.Errorf("case history %+v, %v", d.Actions, err)
	}
	st, err = s.Stats(t.Context(), now)
	if err != nil {
		t.Fatal(err)
	}
	if st.QueueCases != 2 || st.UntouchedCases != 2 || st.Queue != alertsQueued-2 || st.Untouched != alertsQueued-2 {
		t.Errorf("stats after closing case both (two alerts): %+v; want 2 cases queued and untouched, %d alerts", st, alertsQueued-2)
	}
	confirmed := map[string]uint64{}
	for _, p := range st.Precision {
		confirmed[p.Detector] = p.ConfirmedFake
	}
	if confirmed["stalled_eir"] != 1 || confirmed["protection_expiry"] != 1 {
		t.Errorf("precision counts %v, want one confirmed fake each for stalled_eir and protection_expiry", confirmed)
	}
	if _, ok := casesByOrder(t, s, alert.CaseQuery{Query: alert.Query{NotClosed: true}})["both"]; ok {
		t.Error("a closed case is still in the queue")
	}
}

// Cases that share a tracking number are linked: the ring is one query, and closing
// each of its cases empties the queue of them.
func TestCasesSharingANumberAreLinkedAndTheRingClosesInBulk(t *testing.T) {
	_, s, at := caseWorld(t)
	cs := casesByOrder(t, s, alert.CaseQuery{Linked: true})
	if len(cs) != 2 || cs["ring-1"].Linked != 1 || cs["ring-2"].Linked != 1 || !slices.Contains(cs["ring-1"].Detectors, "tracking_reuse") {
		t.Fatalf("linked cases %+v", cs)
	}
	ring := casesByOrder(t, s, alert.CaseQuery{LinkedTo: cs["ring-1"].CaseID})
	if len(ring) != 2 || ring["ring-2"].CaseID != cs["ring-2"].CaseID {
		t.Fatalf("ring of ring-1: %+v", ring)
	}
	d, err := s.GetCase(t.Context(), cs["ring-2"].CaseID)
	if err != nil || len(d.LinkedCases) != 1 || d.LinkedCases[0].OrderID != "ring-1" {
		t.Fatalf("ring-2's linked cases %+v, %v", d.LinkedCases, err)
	}
	for _, c := range ring {
		if _, err := s.ActCase(t.Context(), c.CaseID, alert.Action{Action: alert.ActClose, Actor: "ana", Outcome: alert.OutcomeConfirmedFake}, at.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	open := casesByOrder(t, s, alert.CaseQuery{Query: alert.Query{NotClosed: true}})
	if len(open) != 1 || open["both"].CaseID == "" {
		t.Errorf("queue after closing the ring: %+v", open)
	}
	for _, tc := range []struct {
		q    alert.CaseQuery
		want []string
	}{
		{alert.CaseQuery{MinSignals: 2}, []string{"both"}},
		{alert.CaseQuery{Query: alert.Query{Severity: "critical"}}, []string{"both"}},
		{alert.CaseQuery{Query: alert.Query{Severity: "high", Recommendation: "open_dispute"}}, []string{"ring-1", "ring-2"}},
		{alert.CaseQuery{Query: alert.Query{DetectedFrom: at.Add(time.Minute)}}, nil},
		{alert.CaseQuery{Query: alert.Query{Detector: "tracking_reuse"}}, []string{"ring-1", "ring-2"}},
		{alert.CaseQuery{Query: alert.Query{TrackingNumber: "rr123456785cn"}}, []string{"both"}},
		{alert.CaseQuery{Query: alert.Query{Case: alert.CaseClosed, Sort: "recency"}}, []string{"ring-1", "ring-2"}},
	} {
		got := casesByOrder(t, s, tc.q)
		var orders []string
		for o := range got {
			orders = append(orders, o)
		}
		slices.Sort(orders)
		if !slices.Equal(orders, tc.want) && !(len(orders) == 0 && tc.want == nil) {
			t.Errorf("Cases(%+v) = %v, want %v", tc.q, orders, tc.want)
		}
	}
	// pages: one case a page, in order, every case once
	var seen []string
	cursor := ""
	for range 5 {
		p, err := s.Cases(t.Context(), alert.CaseQuery{Query: alert.Query{Limit: 1, Cursor: cursor}})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range p.Cases {
			seen = append(seen, c.OrderID)
		}
		if cursor = p.Next; cursor == "" {
			break
		}
	}
	if len(seen) != 3 || seen[0] != "both" {
		t.Errorf("pages %v: want 3 cases, both first (protection ends soonest)", seen)
	}
	for _, q := range []alert.CaseQuery{{Query: alert.Query{Limit: 1001}}, {Query: alert.Query{Sort: "size"}}, {Query: alert.Query{Cursor: "garbage"}}, {MinSignals: -1}} {
		if _, err := s.Cases(t.Context(), q); !errors.Is(err, alert.ErrBadQuery) {
			t.Errorf("Cases(%+v): %v, want ErrBadQuery", q, err)
		}
	}
}

// The queue filters a case by the state of all its alerts: acknowledged once each is
// acknowledged or closed, closed once each is closed, open again after a reopen, whether
// the actions were taken on the case or on one alert.
func TestTheQueueFiltersACaseByTheStateOfAllItsAlerts(t *testing.T) {
	_, s, at := caseWorld(t)
	c := casesByOrder(t, s, alert.CaseQuery{})["both"]
	d, err := s.GetCase(t.Context(), c.CaseID)
	if err != nil || len(d.Alerts) != 2 {
		t.Fatalf("case both: %+v, %v", d.Alerts, err)
	}
	inState := func(want alert.CaseState) bool {
		t.Helper()
		_, in := casesByOrder(t, s, alert.CaseQuery{Query: alert.Query{Case: want}})["both"]
		_, queued := casesByOrder(t, s, alert.CaseQuery{Query: alert.Query{NotClosed: true}})["both"]
		return in && queued == (want != alert.CaseClosed)
	}
	act := func(alertID string, a alert.ActionKind, outcome alert.Outcome, min int) {
		t.Helper()
		if _, err := s.Act(t.Context(), alertID, alert.Action{Action: a, Actor: "ana", Outcome: outcome}, at.Add(time.Duration(min)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	first, second := d.Alerts[0].AlertID, d.Alerts[1].AlertID
	steps := []struct {
		name string
		do   func()
		want alert.CaseState
	}{
		{"one alert acknowledged", func() { act(first, alert.ActAcknowledge, "", 1) }, alert.CaseOpen},
		{"the other closed", func() { act(second, alert.ActClose, alert.OutcomeConfirmedFake, 2) }, alert.CaseAcknowledged},
		{"the first closed too", func() { act(first, alert.ActClose, alert.OutcomeConfirmedFake, 3) }, alert.CaseClosed},
		{"one reopened", func() { act(second, alert.ActReopen, "", 4) }, alert.CaseOpen},
		{"the case acknowledged", func() {
			if _, err := s.ActCase(t.Context(), c.CaseID, alert.Action{Action: alert.ActAcknowledge, Actor: "ana"}, at.Add(5*time.Minute)); err != nil {
				t.Fatal(err)
			}
		}, alert.CaseAcknowledged},
	}
	for _, st := range steps {
		st.do()
		if !inState(st.want) {
			t.Errorf("%s: case both is not listed as %s (alone)", st.name, st.want)
		}
		for _, other := range []alert.CaseState{alert.CaseOpen, alert.CaseAcknowledged, alert.CaseClosed} {
			if _, in := casesByOrder(t, s, alert.CaseQuery{Query: alert.Query{Case: other}})["both"]; in && other != st.want {
				t.Errorf("%s: case both is listed as %s too", st.name, other)
			}
		}
		if got, err := s.GetCase(t.Context(), c.CaseID); err != nil || got.State != st.want {
			t.Errorf("%s: the case page says %q, %v; the queue %q", st.name, got.State, err, st.want)
		}
	}
}

// An alert without an order (a seller-level alert) is in its seller's case.
func TestAnAlertWithoutAnOrderIsItsSellersCase(t *testing.T) {
	w, s, at := caseWorld(t)
	if err := w.Conn.Exec(t.Context(), `INSERT INTO al.alerts (alert_id, detector, order_id, tracking_number, seller_id, buyer_id, marketplace,
		severity, recommendation, reason, reasons, evidence, first_detected_at, last_detected_at, status, as_of)
		VALUES ('seller-alert', 'seller_rate', '', '', 's9', '', 'aliexpress', 'medium', 'review_seller', 'rate low', map('en', 'Rate low.'), '{}',
		{at:DateTime64(3, 'UTC')}, {at:DateTime64(3, 'UTC')}, 'firing', {at:DateTime64(3, 'UTC')})`, clickhouse.Named("at", at)); err != nil {
		t.Fatal(err)
	}
	p, err := s.Cases(t.Context(), alert.CaseQuery{Query: alert.Query{SellerID: "s9"}})
	if err != nil || len(p.Cases) != 1 {
		t.Fatalf("seller cases %+v, %v", p.Cases, err)
	}
	c := p.Cases[0]
	if c.CaseID != alert.CaseID("aliexpress", "", "s9") || c.OrderID != "" || c.Signals != 1 || c.Recommendation != "review_seller" {
		t.Errorf("seller case %+v", c)
	}
	if _, err := s.ActCase(t.Context(), c.CaseID, alert.Action{Action: alert.ActAcknowledge, Actor: "ana"}, at); err != nil {
		t.Fatal(err)
	}
	d, err := s.GetCase(t.Context(), c.CaseID)
	if err != nil || d.State != alert.CaseAcknowledged || d.Dispute["en"] != "Rate low." {
		t.Errorf("seller case %+v, %v", d.CaseSummary, err)
	}
}

func TestCaseDisputeStatesEachFactOnceAndTheStrongestRequest(t *testing.T) {
	a := func(status alert.Status, en string) alert.Alert {
		x := alert.Alert{Status: status}
		x.Reasons = map[string]string{"en": en}
		return x
	}
	got := alert.CaseDispute([]alert.Alert{
		a(alert.StatusFiring, "Number X has not moved since 1.5 weeks. The label is all there is. I request a full refund."),
		a(alert.StatusFiring, "The label is all there is. Protection ends on 2026-12-04. I ask to extend protection."),
		a(alert.StatusResolved, "An old fact. I request a full refund."),
	})["en"]
	want := "Number X has not moved since 1.5 weeks. The label is all there is. Protection ends on 2026-12-04. I request a full refund."
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}
