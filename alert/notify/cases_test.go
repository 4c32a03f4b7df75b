package notify_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/trackwatch/trackwatch/alert"
	"github.com/trackwatch/trackwatch/alert/notify"
	"github.com/trackwatch/trackwatch/detect"
	"github.com/trackwatch/trackwatch/detect/detecttest"
)

// A receiver that groups by case gets one notification per change of a case: an order
// with two firing detectors opens one case in one delivery; one of them resolving
// updates it; the last resolving resolves it. A receiver per alert gets each change,
// and each receiver gets each change once.
func TestAReceiverGroupedByCaseGetsOneNotificationPerCaseChange(t *testing.T) {
	w := detecttest.NewWorld(t, db)
	w.Shipped("both", "RR123456785CN", "china-post", 5)
	w.Scan("RR123456785CN", "Electronic information received", 5)
	w.Shipped("other", "RR111111115CN", "china-post", 5)
	w.Scan("RR111111115CN", "Electronic information received", 5)
	set, err := detect.NewSet(db, "stalled_eir", "protection_expiry")
	if err != nil {
		t.Fatal(err)
	}
	s := alert.NewStore(w.Conn, db)
	day := func(d int) time.Time { return time.Date(2026, 11, d, 12, 0, 0, 0, time.UTC) }
	run := func(cfg detect.Config, at time.Time) {
		t.Helper()
		if _, err := s.RecordAt(t.Context(), w.Conn, set, cfg, at); err != nil {
			t.Fatal(err)
		}
	}
	byCase, byAlert := newSink(t, nil), newSink(t, nil)
	rc := receiver("cases", byCase.srv.URL)
	rc.GroupBy = notify.GroupByCase
	d, _ := dispatcher(t, w, opts{}, rc, receiver("alerts", byAlert.srv.URL))
	drain := func() {
		t.Helper()
		for _, name := range []string{"cases", "alerts"} {
			if err := d.Drain(t.Context(), name); err != nil {
				t.Fatal(err)
			}
		}
	}
	// what the case receiver got of order "both", as "type changes firing/signals"
	seen := 0
	caseDeliveries := func() []string {
		var out []string
		for _, g := range byCase.deliveries()[seen:] {
			data, _ := g.Body["data"].(map[string]any)
			c, _ := data["case"].(map[string]any)
			changes, _ := data["changes"].([]any)
			if c["order_id"] == "both" {
				out = append(out, fmt.Sprintf("%v %d %v/%v", g.Body["type"], len(changes), c["firing"], c["signals"]))
			}
			if c["case_id"] != alert.CaseID("aliexpress", fmt.Sprint(c["order_id"]), "") {
				t.Errorf("case_id %v of order %v", c["case_id"], c["order_id"])
			}
		}
		seen = len(byCase.deliveries())
		return out
	}

	run(detect.Config{}, day(28)) // both: stalled_eir and protection_expiry fire
	drain()
	if got := caseDeliveries(); !slices.Equal(got, []string{"case.opened 2 2/2"}) {
		t.Errorf("after the first run, the case receiver got %v; want one case.opened with both changes", got)
	}
	if n := len(byAlert.deliveries()); n != 4 {
		t.Errorf("the receiver per alert got %d deliveries, want 4 (two orders, two alerts each)", n)
	}
	run(detect.Config{StalledDays: 100}, day(29)) // stalled_eir resolves, protection_expiry fires on
	drain()
	if got := caseDeliveries(); !slices.Equal(got, []string{"case.updated 1 1/2"}) {
		t.Errorf("after stalled_eir resolved: %v; want one case.updated", got)
	}
	w.ScanJSON(`{"event_id":"both-delivered","tracking_number":"RR123456785CN","raw_status":"Delivered","occurred_at":"2026-11-29T18:00:00Z","location":{"country":"JP"}}`)
	run(detect.Config{StalledDays: 100}, day(30)) // delivered: protection_expiry resolves
	drain()
	if got := caseDeliveries(); !slices.Equal(got, []string{"case.resolved 1 0/2"}) {
		t.Errorf("after the parcel was delivered: %v; want one case.resolved", got)
	}
	drain() // nothing is due twice
	for name, sk := range map[string]*sink{"cases": byCase, "alerts": byAlert} {
		for id, n := range sk.delivered() {
			if n != 1 {
				t.Errorf("%s: delivery %s made %d times", name, id, n)
			}
		}
	}
	if got := outcomes(t, w, "cases"); len(got) != len(outcomes(t, w, "alerts")) {
		t.Errorf("the delivery log: %d changes delivered by case, %d by alert; want every change once for each", len(got), len(outcomes(t, w, "alerts")))
	}
}
