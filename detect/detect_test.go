package detect_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/trackwatch/trackwatch/alert"
	"github.com/trackwatch/trackwatch/detect"
	"github.com/trackwatch/trackwatch/devstack"
	"github.com/trackwatch/trackwatch/devstack/devstacktest"
	"github.com/trackwatch/trackwatch/ingest"
	"github.com/trackwatch/trackwatch/schemas"
	"github.com/trackwatch/trackwatch/store"
)

func TestMain(m *testing.M) {
	devstack.RunChildIfRequested()
	os.Exit(m.Run())
}

const db = "det"

// world is a ClickHouse with the schema and fixture events inserted through ingest's
// own decoding, as if they had come from Kafka.
type world struct {
	t    *testing.T
	addr string
	conn driver.Conn // one connection, as a detector run needs
	n    int
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ch := devstacktest.StartClickHouse(t, t.TempDir())
	conn, err := store.OpenSession(context.Background(), storeConfig, ch.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := schemas.Migrate(context.Background(), conn, schemas.DDLOptions{Database: db}, time.Now); err != nil {
		t.Fatal(err)
	}
	return &world{t: t, addr: ch.Addr(), conn: conn}
}

var storeConfig = store.Config{Username: "default", DialTimeout: 5 * time.Second}

func day(d int, hour int) string {
	return time.Date(2026, 10, d, hour, 0, 0, 0, time.UTC).Format(time.RFC3339)
}

func asOf(d int) time.Time { return time.Date(2026, 10, d, 12, 0, 0, 0, time.UTC) }

// shipped inserts an order placed two days before and shipped on October d.
func (w *world) shipped(order, tn, carrier string, d int) {
	w.t.Helper()
	w.orders(
		fmt.Sprintf(`{"event_id":"%s-p","order_id":"%s","seller_id":"s1","buyer_id":"b-%s","status":"placed","marketplace":"aliexpress","occurred_at":"%s","ship_to":{"country":"JP","city":"Tokyo","postal_code":"100-0001"},"amount":25.5}`, order, order, order, day(d-2, 9)),
		fmt.Sprintf(`{"event_id":"%s-s","order_id":"%s","seller_id":"s1","buyer_id":"b-%s","status":"shipped","marketplace":"aliexpress","occurred_at":"%s","tracking_number":"%s","carrier":"%s"}`, order, order, order, day(d, 10), tn, carrier),
	)
}

func (w *world) orders(msgs ...string) {
	w.t.Helper()
	var rows []ingest.OrderRow
	for _, m := range msgs {
		r, rej := ingest.DecodeOrder([]byte(m))
		if rej != nil {
			w.t.Fatalf("fixture rejected: %v: %s", rej, m)
		}
		rows = append(rows, r)
	}
	w.n++
	if err := ingest.InsertOrders(context.Background(), w.conn, db, rows, "order-events", 0, int64(w.n*1000), fmt.Sprint("o", w.n)); err != nil {
		w.t.Fatal(err)
	}
}

// scan inserts a carrier event for tn on October d.
func (w *world) scan(tn, rawStatus string, d int) {
	w.t.Helper()
	w.scanJSON(fmt.Sprintf(`{"event_id":"%s-%s-%d","tracking_number":"%s","raw_status":"%s","occurred_at":"%s","location":{"country":"CN"}}`, tn, rawStatus, d, tn, rawStatus, day(d, 8)))
}

func (w *world) scanJSON(m string) {
	w.t.Helper()
	r, rej := ingest.DecodeTracking([]byte(m))
	if rej != nil {
		w.t.Fatalf("fixture rejected: %v", rej)
	}
	w.n++
	if err := ingest.InsertTracking(context.Background(), w.conn, db, []ingest.TrackingRow{r}, "tracking-events", 0, int64(w.n), fmt.Sprint("t", w.n)); err != nil {
		w.t.Fatal(err)
	}
}

var cfgZero detect.Config

func detectNew(t *testing.T, name string) (*detect.Set, error) {
	t.Helper()
	d, err := detect.NewSet(db, name)
	if err != nil {
		t.Fatal(err)
	}
	return d, nil
}

func (w *world) flagged(name string, at time.Time) []string {
	w.t.Helper()
	return w.flaggedWith(name, detect.Config{}, at)
}

func (w *world) flaggedWith(name string, cfg detect.Config, at time.Time) []string {
	w.t.Helper()
	d, err := detect.NewSet(db, name)
	if err != nil {
		w.t.Fatal(err)
	}
	fs, err := d.Eval(context.Background(), w.conn, cfg, at)
	if err != nil {
		w.t.Fatal(err)
	}
	var ids []string
	for _, f := range fs {
		ids = append(ids, f.OrderID)
		if f.Detector != name {
			w.t.Errorf("a %s run returned a %q finding", name, f.Detector)
		}
		if !json.Valid([]byte(f.Evidence)) {
			w.t.Errorf("%s evidence for %s is not JSON: %s", name, f.OrderID, f.Evidence)
		}
		okRec := f.Recommendation == "open_dispute" || (name == "protection_expiry" && f.Recommendation == "extend_protection")
		if f.Reason == "" || f.Evidence == "" || !okRec || f.ProtectionEndsAt == nil || f.SellerID != "s1" {
			w.t.Errorf("%s finding for %s lacks a field: %+v", name, f.OrderID, f)
		}
	}
	return ids
}

func expect(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
		t.Errorf("%s: flagged %v, want %v", what, got, want)
	}
}

func TestStalledEIR(t *testing.T) {
	w := newWorld(t)
	w.shipped("stalled", "RR123456785CN", "china-post", 5)
	w.scan("RR123456785CN", "Electronic information received", 5)
	w.shipped("slow-seller", "RR000000000CN", "china-post", 5) // trap: EIR, then it moved
	w.scan("RR000000000CN", "Shipping information received", 5)
	w.scan("RR000000000CN", "Accepted", 8)
	w.shipped("moves-later", "RR111111115CN", "china-post", 5) // moves on the 14th
	w.scan("RR111111115CN", "Label created", 5)
	w.scan("RR111111115CN", "In transit", 14)

	expect(t, "6 days after the first EIR", w.flagged("stalled_eir", asOf(11)))
	expect(t, "8 days after", w.flagged("stalled_eir", asOf(13)), "moves-later", "stalled")
	expect(t, "after the parcel moved", w.flagged("stalled_eir", asOf(15)), "stalled")

	d, _ := detect.NewSet(db, "stalled_eir")
	fs, _ := d.Eval(context.Background(), w.conn, detect.Config{}, asOf(15))
	var ev struct {
		Timeline []struct{ At, Status, RawStatus string } `json:"timeline"`
	}
	if err := json.Unmarshal([]byte(fs[0].Evidence), &ev); err != nil || len(ev.Timeline) != 1 || ev.Timeline[0].Status != "info_received" {
		t.Fatalf("evidence timeline: %+v (%v) from %s", ev, err, fs[0].Evidence)
	}
}

func TestNeverScannedCountsWorkingDays(t *testing.T) {
	w := newWorld(t)
	w.shipped("silent", "RR222222225CN", "china-post", 5) // Monday
	w.shipped("scanned", "RR333333335CN", "china-post", 5)
	w.scan("RR333333335CN", "Electronic information received", 6)

	expect(t, "Friday, 4 working days", w.flagged("never_scanned", asOf(9)))
	expect(t, "Sunday, still 4 working days", w.flagged("never_scanned", asOf(11)))
	expect(t, "next Monday, 5 working days", w.flagged("never_scanned", asOf(12)), "silent")
}

func TestNeverScannedLeavesOrdersShippedBeforeTheRecycleWindowAlone(t *testing.T) {
	w := newWorld(t)
	w.order("ancient", "b1", tokyo, date(2025, 8, 1), date(2025, 8, 2), "RR222222225CN", 60) // still "shipped" 14 months on
	w.event("RR222222225CN", "Delivered", date(2025, 8, 20), nil, nil)                       // history outside the window
	w.order("silent", "b2", tokyo, date(2026, 10, 3), date(2026, 10, 5), "RR333333335CN", 60)

	expect(t, "never scanned", w.flagged("never_scanned", asOf(20)), "silent")
}

func TestInvalidTrackingNumber(t *testing.T) {
	w := newWorld(t)
	w.shipped("good-s10", "RR123456785CN", "china-post", 5)
	w.shipped("bad-check-digit", "RR123456784CN", "china-post", 5)
	w.shipped("not-s10-for-post", "ABC123", "china-post", 5)
	w.shipped("good-ups", "1Z999AA10123456784", "ups", 5)
	w.shipped("bad-ups", "1Z12345", "ups", 5)
	w.shipped("courier-free-form", "YT2412345678901", "yunexpress", 5)

	expect(t, "formats", w.flagged("invalid_tracking_number", asOf(6)), "bad-check-digit", "bad-ups", "not-s10-for-post")
	d, _ := detect.NewSet(db, "invalid_tracking_number")
	fs, _ := d.Eval(context.Background(), w.conn, detect.Config{}, asOf(6))
	if len(fs) == 0 || !strings.Contains(fs[0].Reason, "check digit is 4 where 5 is required") {
		t.Fatalf("reason for the bad check digit: %+v", fs)
	}
}

func TestRecordFiresThenResolvesWithStableIDs(t *testing.T) {
	w := newWorld(t)
	w.shipped("stalled", "RR123456785CN", "china-post", 5)
	w.scan("RR123456785CN", "Electronic information received", 5)
	w.shipped("moves-later", "RR111111115CN", "china-post", 5)
	w.scan("RR111111115CN", "Label created", 5)
	w.scan("RR111111115CN", "In transit", 14)
	d, _ := detect.NewSet(db, "stalled_eir")
	ctx := context.Background()

	type alertRow struct {
		ID         string     `ch:"alert_id"`
		Order      string     `ch:"order_id"`
		Status     string     `ch:"status"`
		First      time.Time  `ch:"first_detected_at"`
		Last       time.Time  `ch:"last_detected_at"`
		ResolvedAt *time.Time `ch:"resolved_at"`
	}
	read := func() []alertRow {
		var as []alertRow
		if err := w.conn.Select(ctx, &as, "SELECT alert_id, order_id, status, first_detected_at, last_detected_at, resolved_at FROM det.alerts FINAL ORDER BY order_id"); err != nil {
			t.Fatal(err)
		}
		return as
	}
	for _, at := range []time.Time{asOf(13), asOf(13)} { // twice: a re-run changes nothing
		if n, err := d.Record(ctx, w.conn, detect.Config{}, at); err != nil || n["stalled_eir"] != 2 {
			t.Fatalf("record: %v firing, %v; want 2", n, err)
		}
	}
	first := read()
	if len(first) != 2 || first[0].Status != "firing" || first[1].Status != "firing" {
		t.Fatalf("after the 13th: %+v", first)
	}
	if n, err := d.Record(ctx, w.conn, detect.Config{}, asOf(15)); err != nil || n["stalled_eir"] != 1 {
		t.Fatalf("record: %v firing, %v; want 1", n, err)
	}
	later := read()
	if len(later) != 2 {
		t.Fatalf("after the 15th: %d alerts, want the same 2 rows: %+v", len(later), later)
	}
	moved, stalled := later[0], later[1]
	if moved.Order != "moves-later" || moved.Status != "resolved" || moved.ResolvedAt == nil || !moved.ResolvedAt.Equal(asOf(15)) {
		t.Errorf("the parcel that moved: %+v", moved)
	}
	if stalled.Status != "firing" || !stalled.First.Equal(asOf(13)) || !stalled.Last.Equal(asOf(15)) {
		t.Errorf("the stalled parcel: %+v", stalled)
	}
	if moved.ID != first[0].ID || stalled.ID != first[1].ID {
		t.Errorf("alert ids changed between runs")
	}

	// The alerts as people read them (trackwatch alerts).
	for _, tc := range []struct {
		f    alert.Filter
		want []string
	}{
		{alert.Filter{Status: "resolved"}, []string{"moves-later"}},
		{alert.Filter{Detector: "stalled_eir", Status: "firing"}, []string{"stalled"}},
		{alert.Filter{Detector: "never_scanned"}, nil},
		{alert.Filter{Limit: 1}, []string{"stalled"}}, // most recently detected first
	} {
		as, err := alert.List(ctx, w.conn, db, tc.f)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, a := range as {
			got = append(got, a.OrderID)
			if a.Reason == "" || !json.Valid([]byte(a.Evidence)) || a.Amount == nil {
				t.Errorf("alert %s lacks fields: %+v", a.OrderID, a)
			}
		}
		expect(t, fmt.Sprintf("alerts %+v", tc.f), got, tc.want...)
	}
}

func TestTwoSchedulersOnOneClickHouseWriteEachAlertOnce(t *testing.T) {
	w := newWorld(t)
	w.shipped("stalled", "RR123456785CN", "china-post", 5)
	w.scan("RR123456785CN", "Electronic information received", 5)
	cfg := detect.Config{Schedule: "@every 1s"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var metrics []*detect.Metrics
	done := make(chan struct{}, 2)
	for range 2 { // two trackwatch instances
		m := detect.NewMetrics(nil)
		metrics = append(metrics, m)
		open := func(ctx context.Context) (driver.Conn, error) { return store.OpenSession(ctx, storeConfig, w.addr) }
		s, err := detect.NewScheduler(open, db, cfg, devstacktest.Logger(), m, time.Now)
		if err != nil {
			t.Fatal(err)
		}
		go func() { _ = s.Run(ctx); done <- struct{}{} }()
	}
	// Wait until each instance has run stalled_eir at least twice.
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
	cancel()
	<-done
	<-done
	var rows, ids uint64
	if err := w.conn.QueryRow(context.Background(), "SELECT count(), uniqExact(alert_id) FROM det.alerts FINAL").Scan(&rows, &ids); err != nil {
		t.Fatal(err)
	}
	if rows != 1 || ids != 1 {
		t.Fatalf("alerts FINAL: %d rows, %d ids; want one alert for the one stalled order", rows, ids)
	}
	for _, m := range metrics {
		if got := testutil.ToFloat64(m.Runs.WithLabelValues("stalled_eir", "error")); got != 0 {
			t.Fatalf("%v failed runs", got)
		}
	}
}

func TestBadScheduleNamesTheKey(t *testing.T) {
	for _, tc := range []struct {
		cfg  detect.Config
		want string
	}{
		{detect.Config{Schedule: "every day"}, "schedule:"},
		{detect.Config{Schedules: map[string]string{"stalled_eir": "61 * * * *"}}, "schedules.stalled_eir:"},
		{detect.Config{Schedules: map[string]string{"psychic": "* * * * *"}}, "schedules.psychic: unknown detector"},
		{detect.Config{StalledDays: -1}, "stalled_days:"},
	} {
		if err := tc.cfg.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate(%+v) = %v, want %q", tc.cfg, err, tc.want)
		}
	}
}

func TestThresholdsOverridePerCarrierThenMarketplace(t *testing.T) {
	w := newWorld(t)
	w.shipped("ups-order", "1Z999AA10123456784", "ups", 5)
	w.scan("1Z999AA10123456784", "Label created", 5)
	w.shipped("post-order", "RR123456785CN", "china-post", 5)
	w.scan("RR123456785CN", "Electronic information received", 5)
	at := asOf(10) // five days of EIR only

	expect(t, "global 7 days", w.flaggedWith("stalled_eir", detect.Config{}, at))
	expect(t, "ups: 3 days", w.flaggedWith("stalled_eir", detect.Config{ByCarrier: map[string]detect.Thresholds{"ups": {StalledDays: 3}}}, at), "ups-order")
	expect(t, "aliexpress: 4 days", w.flaggedWith("stalled_eir", detect.Config{ByMarketplace: map[string]detect.Thresholds{"aliexpress": {StalledDays: 4}}}, at), "post-order", "ups-order")
	expect(t, "carrier wins over marketplace", w.flaggedWith("stalled_eir", detect.Config{
		ByCarrier:     map[string]detect.Thresholds{"ups": {StalledDays: 3}},
		ByMarketplace: map[string]detect.Thresholds{"aliexpress": {StalledDays: 10}},
	}, at), "ups-order")
	if err := (&detect.Config{ByCarrier: map[string]detect.Thresholds{"ups": {StalledDays: -2}}}).Validate(); err == nil || !strings.Contains(err.Error(), "by_carrier.ups.stalled_days") {
		t.Fatalf("bad override: %v", err)
	}
}
