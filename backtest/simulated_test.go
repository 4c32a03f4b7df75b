package backtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/trackwatch/trackwatch/backfill"
	"github.com/trackwatch/trackwatch/backtest"
	"github.com/trackwatch/trackwatch/detect"
	"github.com/trackwatch/trackwatch/detect/detecttest"
	"github.com/trackwatch/trackwatch/ingest"
	"github.com/trackwatch/trackwatch/schemas"
	"github.com/trackwatch/trackwatch/simulate"
	"github.com/trackwatch/trackwatch/store"
)

// The simulator's history, loaded as a data engineer would (backfill load of its NDJSON
// files), backtested day by day: every order the simulator labels is flagged by its
// detectors on the last day, and where a rule's day can be read off the events, the
// first alert comes on that day. The rules, with the default thresholds:
// invalid_tracking_number from the day the number is uploaded, stalled_eir 7 days after
// the number's first event when it never moved, protection_expiry 7 days before the
// protection ends.
func TestABacktestOfTheSimulatorsHistoryFlagsEachOrderOnItsRulesDay(t *testing.T) {
	w := detecttest.NewWorld(t, "sim")
	asOf := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	res := simulate.Run(simulate.Options{Orders: 300, Seed: 11, AsOf: asOf})
	dir := t.TempDir()
	files := map[string]*bytes.Buffer{}
	for _, m := range res.Messages {
		if files[m.Topic] == nil {
			files[m.Topic] = &bytes.Buffer{}
		}
		files[m.Topic].Write(m.Value)
		files[m.Topic].WriteByte('\n')
	}
	var paths []string
	for topic, b := range files {
		p := filepath.Join(dir, topic+".ndjson")
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	conn := w.Pooled()
	var icfg ingest.Config
	_ = icfg.Validate()
	l := &backfill.Loader{Conn: conn, Database: "sim", Writer: ingest.NewWriter(conn, "sim", icfg, nil, nil, nil).CheckNumbers(detecttest.Numbers(t)),
		TrackingTopic: schemas.TrackingTopic, OrderTopic: schemas.OrderTopic}
	if _, err := l.Load(t.Context(), paths); err != nil {
		t.Fatal(err)
	}

	// What the events say of each order: its number, when it was shipped and for how
	// long it is protected; of each number, its first event and whether it ever moved
	// past pre-advice.
	type orderFacts struct {
		tn        string
		shipped   time.Time
		days, ext int
	}
	orders := map[string]*orderFacts{}
	first, moved := map[string]time.Time{}, map[string]bool{}
	cfg := detect.Config{}.WithDefaults()
	for _, m := range res.Messages {
		var e struct {
			OrderID, Status, TrackingNumber, RawStatus string
			OccurredAt                                 time.Time
			ProtectionDays, ProtectionExtendedDays     *int
		}
		var raw map[string]json.RawMessage
		_ = json.Unmarshal(m.Value, &raw)
		get := func(k string, v any) { _ = json.Unmarshal(raw[k], v) }
		get("order_id", &e.OrderID)
		get("status", &e.Status)
		get("tracking_number", &e.TrackingNumber)
		get("raw_status", &e.RawStatus)
		get("occurred_at", &e.OccurredAt)
		get("protection_days", &e.ProtectionDays)
		get("protection_extended_days", &e.ProtectionExtendedDays)
		if m.Topic == schemas.OrderTopic {
			o := orders[e.OrderID]
			if o == nil {
				o = &orderFacts{days: cfg.DefaultProtectionDays}
				orders[e.OrderID] = o
			}
			if e.Status == "shipped" && e.OccurredAt.After(o.shipped) {
				o.tn, o.shipped = ingest.NormaliseTrackingNumber(e.TrackingNumber), e.OccurredAt
			}
			if e.ProtectionDays != nil {
				o.days = *e.ProtectionDays
			}
			if e.ProtectionExtendedDays != nil {
				o.ext = *e.ProtectionExtendedDays
			}
			continue
		}
		tn := ingest.NormaliseTrackingNumber(e.TrackingNumber)
		if f, ok := first[tn]; !ok || e.OccurredAt.Before(f) {
			first[tn] = e.OccurredAt
		}
		r, rej := ingest.DecodeTracking(m.Value)
		if rej == nil && r.SubStatus.Physical() {
			moved[tn] = true
		}
	}

	r := &backtest.Runner{Conn: conn, Database: "sim", Session: func(ctx context.Context) (driver.Conn, error) {
		return store.OpenSession(ctx, detecttest.StoreConfig, w.Addr)
	}}
	o := backtest.Options{From: asOf.AddDate(0, 0, -45), To: asOf, Step: 24 * time.Hour}
	bt, err := r.Run(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	fa, err := r.FirstAlerts(t.Context(), bt.ID)
	if err != nil {
		t.Fatal(err)
	}
	firstAlert := map[[2]string]time.Time{}
	for _, f := range fa {
		firstAlert[[2]string{f.Detector, f.OrderID}] = f.FirstAt
	}
	var lastDay []struct {
		Detector string `ch:"detector"`
		OrderID  string `ch:"order_id"`
	}
	if err := conn.Select(t.Context(), &lastDay, "SELECT detector, order_id FROM sim.alert_history FINAL WHERE backtest_id = {id:String} AND as_of = {t:DateTime64(3, 'UTC')}",
		clickhouseNamed("id", bt.ID), clickhouseNamed("t", asOf)); err != nil {
		t.Fatal(err)
	}
	flaggedLast := map[[2]string]bool{}
	for _, x := range lastDay {
		flaggedLast[[2]string{x.Detector, x.OrderID}] = true
	}
	// The first step at or after a moment.
	stepOf := func(at time.Time) time.Time {
		s := o.From
		for s.Before(at) {
			s = s.Add(o.Step)
		}
		return s
	}
	checked := map[string]int{}
	for order, dets := range res.Truth {
		f := orders[order]
		for _, d := range dets {
			key := [2]string{d, order}
			if !flaggedLast[key] {
				t.Errorf("%s: the simulator labels %s, the backtest's last day does not flag it", order, d)
				continue
			}
			var rule time.Time
			switch {
			case d == "invalid_tracking_number":
				rule = f.shipped
			case d == "stalled_eir" && !moved[f.tn]:
				rule = first[f.tn].AddDate(0, 0, cfg.StalledDays)
			case d == "protection_expiry":
				rule = f.shipped.AddDate(0, 0, f.days+f.ext-cfg.ExpiryWindowDays)
			default:
				continue
			}
			if rule.Before(o.From) {
				continue // crossed before the backtest began
			}
			checked[d]++
			if want, got := stepOf(rule), firstAlert[key]; !got.Equal(want) {
				t.Errorf("%s %s: first alert %s, its rule crosses at %s: want %s", d, order, got.Format(time.RFC3339), rule.Format(time.RFC3339), want.Format(time.RFC3339))
			}
		}
	}
	for _, d := range []string{"invalid_tracking_number", "stalled_eir", "protection_expiry"} {
		if checked[d] < 3 {
			t.Errorf("only %d %s orders had their rule's day inside the backtest: the check proves little", checked[d], d)
		}
	}
	t.Logf("first alerts checked against the rules' days: %v", checked)
}
