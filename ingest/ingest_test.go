package ingest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/segmentio/kafka-go"

	"github.com/trackwatch/trackwatch/deadletter"
	"github.com/trackwatch/trackwatch/devstack"
	"github.com/trackwatch/trackwatch/devstack/devstacktest"
	"github.com/trackwatch/trackwatch/ingest"
	"github.com/trackwatch/trackwatch/kafkaclient"
	"github.com/trackwatch/trackwatch/schemas"
	"github.com/trackwatch/trackwatch/store"
)

func TestMain(m *testing.M) {
	devstack.RunChildIfRequested()
	if spec := os.Getenv(childEnv); spec != "" {
		os.Exit(runChild(spec))
	}
	os.Exit(m.Run())
}

const partitions = 4

// stack is a ClickHouse server and a Kafka broker for one test.
type stack struct {
	ch      *devstack.ClickHouse
	brokers []string
	conn    driver.Conn
}

func newStack(t *testing.T) *stack {
	t.Helper()
	ch := devstacktest.StartClickHouse(t, t.TempDir())
	k := devstacktest.StartKafka(t, partitions, schemas.TrackingTopic, schemas.OrderTopic)
	s := &stack{ch: ch, brokers: []string{k.Addr()}}
	s.conn = openCH(t, ch.Addr())
	return s
}

func openCH(t *testing.T, addr string) driver.Conn {
	t.Helper()
	conn, err := store.Open(context.Background(), store.Config{Database: "trackwatch", Username: "default", DialTimeout: 5 * time.Second, MaxOpenConns: 16}, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func (s *stack) migrate(t *testing.T, db string) {
	t.Helper()
	if _, err := schemas.Migrate(context.Background(), s.conn, schemas.DDLOptions{Database: db}, time.Now); err != nil {
		t.Fatal(err)
	}
}

// corpus is what a test produced and what it expects stored.
type corpus struct {
	tracking, orders []kafka.Message
	trackingIDs      map[string]bool // distinct valid tracking event ids
	orderIDs         map[string]bool
	bad              map[string]int // dead-letter reason -> count
}

// makeCorpus builds n tracking and n/4 order events with re-sent duplicates, events out
// of order, offsets other than UTC, and one bad message of each kind among them.
func makeCorpus(seed uint64, n int, withBad bool) *corpus {
	rng := rand.New(rand.NewPCG(seed, 1))
	c := &corpus{trackingIDs: map[string]bool{}, orderIDs: map[string]bool{}, bad: map[string]int{}}
	base := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	zones := []*time.Location{time.UTC, time.FixedZone("CST", 8*3600), time.FixedZone("EST", -5*3600)}
	statuses := []string{"Electronic information received", "Accepted", "In transit", "Arrived at destination country", "Out for delivery", "Delivered"}
	for i := range n {
		tn := fmt.Sprintf("RR%08dCN", rng.IntN(n/5+1))
		at := base.Add(time.Duration(rng.IntN(30*24*3600)) * time.Second).In(zones[rng.IntN(len(zones))])
		ev := map[string]any{
			"event_id": fmt.Sprintf("te-%d-%d", seed, i), "tracking_number": strings.ToLower(tn[:2]) + " " + tn[2:],
			"carrier": "china-post", "raw_status": statuses[rng.IntN(len(statuses))], "occurred_at": at.Format(time.RFC3339),
			"location":    map[string]string{"country": "China", "city": "Shenzhen"},
			"destination": map[string]string{"country": "JP", "city": "Tokyo", "postal_code": "100-0001"},
		}
		b, _ := json.Marshal(ev)
		m := kafka.Message{Key: []byte(tn), Value: b}
		c.tracking = append(c.tracking, m)
		c.trackingIDs[ev["event_id"].(string)] = true
		if rng.IntN(10) == 0 { // the producer sends it again
			c.tracking = append(c.tracking, m)
		}
		if i%4 == 0 {
			oev := map[string]any{
				"event_id": fmt.Sprintf("oe-%d-%d", seed, i), "order_id": fmt.Sprintf("A-%d", i), "marketplace": "aliexpress",
				"seller_id": "s1", "buyer_id": fmt.Sprintf("b%d", i%97), "status": "shipped", "tracking_number": tn,
				"occurred_at": at.Format(time.RFC3339), "protection_days": 60, "amount": 19.99, "currency": "USD",
			}
			ob, _ := json.Marshal(oev)
			c.orders = append(c.orders, kafka.Message{Key: []byte(oev["order_id"].(string)), Value: ob})
			c.orderIDs[oev["event_id"].(string)] = true
		}
	}
	if withBad {
		bad := []struct{ reason, msg string }{
			{ingest.ReasonNotJSON, `{"event_id": "broken`},
			{ingest.ReasonMissingField, `{"event_id":"x1","raw_status":"Delivered","occurred_at":"2026-10-02T08:15:00Z"}`},
			{ingest.ReasonBadTimestamp, `{"event_id":"x2","tracking_number":"RR1","raw_status":"Delivered","occurred_at":"yesterday"}`},
			{ingest.ReasonInvalidValue, `{"event_id":"x3","tracking_number":"RR1","status":"vanished","occurred_at":"2026-10-02T08:15:00Z"}`},
			{ingest.ReasonTooLarge, `{"event_id":"x4","tracking_number":"RR1","raw_status":"` + strings.Repeat("x", 2<<10) + `","occurred_at":"2026-10-02T08:15:00Z"}`},
			{ingest.ReasonInvalidValue, `{"event_id":"x5","tracking_number":"` + strings.Repeat("RR", 50) + `","raw_status":"Delivered","occurred_at":"2026-10-02T08:15:00Z"}`},
			{ingest.ReasonInvalidValue, `{"event_id":"x6","tracking_number":"RR1","raw_status":"Delivered\u0000","occurred_at":"2026-10-02T08:15:00Z"}`},
		}
		for i, b := range bad {
			// Spread them through the stream, on the same keys as good events.
			pos := (i + 1) * len(c.tracking) / (len(bad) + 1)
			m := kafka.Message{Key: c.tracking[pos].Key, Value: []byte(b.msg)}
			c.tracking = append(c.tracking[:pos], append([]kafka.Message{m}, c.tracking[pos:]...)...)
			c.bad[b.reason]++
		}
	}
	return c
}

func produce(t *testing.T, brokers []string, topic string, msgs []kafka.Message) {
	t.Helper()
	w := &kafka.Writer{Addr: kafka.TCP(brokers...), Topic: topic, Balancer: &kafka.Hash{}, BatchSize: 500,
		BatchTimeout: 5 * time.Millisecond, RequiredAcks: kafka.RequireAll}
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatalf("produce %d messages to %s: %v", len(msgs), topic, err)
	}
}

// waitCommitted waits until group has committed every partition of topics to its end:
// since ingest commits only after inserting, everything is stored by then.
func waitCommitted(t *testing.T, brokers []string, group string, within time.Duration, topics ...string) {
	t.Helper()
	waitCommittedOr(t, brokers, group, within, func() string { return "" }, topics...)
}

// waitCommittedOr is waitCommitted with more to say on failure (a child's stderr).
func waitCommittedOr(t *testing.T, brokers []string, group string, within time.Duration, more func() string, topics ...string) {
	t.Helper()
	var kc kafkaclient.Config
	_ = kc.Validate()
	deadline := time.Now().Add(within)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		lag, err := kafkaclient.GroupLag(ctx, kc, brokers, group, topics...)
		cancel()
		if err == nil && lag == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("group %s still %d messages behind (err %v) after %s%s", group, lag, err, within, more())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// assertExactlyOnce checks what the issue asks: every accepted event stored exactly once.
func assertExactlyOnce(t *testing.T, conn driver.Conn, db string, c *corpus) {
	t.Helper()
	ctx := context.Background()
	for _, tc := range []struct {
		table string
		want  int
	}{{"tracking_events", len(c.trackingIDs)}, {"order_events", len(c.orderIDs)}} {
		var rows, ids, final, positions uint64
		q := fmt.Sprintf("SELECT count(), uniqExact(event_id), (SELECT count() FROM `%[1]s`.%[2]s FINAL), uniqExact(source_topic, source_partition, source_offset) FROM `%[1]s`.%[2]s", db, tc.table)
		if err := conn.QueryRow(ctx, q).Scan(&rows, &ids, &final, &positions); err != nil {
			t.Fatal(err)
		}
		// No Kafka message is stored twice (no loss or duplicate across crashes)...
		if rows != positions {
			t.Errorf("%s: %d rows for %d distinct Kafka positions: a re-delivered message was stored twice", tc.table, rows, positions)
		}
		// ...every distinct event is there, and producer re-sends collapse to one row.
		if ids != uint64(tc.want) || final != uint64(tc.want) {
			t.Errorf("%s: uniqExact(event_id) = %d, count() FINAL = %d, want %d distinct events", tc.table, ids, final, tc.want)
		}
		if rows < uint64(tc.want) {
			t.Errorf("%s: %d rows, fewer than %d distinct events", tc.table, rows, tc.want)
		}
	}
	var dl []struct {
		Reason string `ch:"reason"`
		N      uint64 `ch:"n"`
	}
	if err := conn.Select(ctx, &dl, "SELECT reason, count() AS n FROM `"+db+"`.dead_letters FINAL GROUP BY reason"); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, d := range dl {
		got[d.Reason] = int(d.N)
	}
	if fmt.Sprint(got) != fmt.Sprint(c.bad) {
		t.Errorf("dead letters by reason = %v, want %v", got, c.bad)
	}
}

func ingestOptions(s *stack, db, group string) ingest.Options {
	return ingestOpts(s.brokers, s.conn, db, group)
}

func ingestOpts(brokers []string, conn ingest.Conn, db, group string) ingest.Options {
	return ingest.Options{
		Kafka:   kafkaclient.Config{TrackingTopic: schemas.TrackingTopic, OrderTopic: schemas.OrderTopic, GroupID: group},
		Brokers: brokers, Conn: conn, Database: db, Logger: devstacktest.Logger(),
		Config: ingest.Config{FlushInterval: 200 * time.Millisecond, MaxBatchRows: 700, MaxMessageBytes: 1 << 10,
			SessionTimeout: 6 * time.Second, RetryInitial: 50 * time.Millisecond, RetryMax: time.Second},
	}
}

// runIngest runs ingest in this process until the returned stop is called.
func runIngest(t *testing.T, opts ingest.Options) (stop func()) {
	t.Helper()
	_ = opts.Kafka.Validate()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ingest.Run(ctx, opts) }()
	return func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("ingest.Run: %v", err)
			}
		case <-time.After(time.Minute):
			t.Error("ingest did not stop within a minute")
		}
	}
}

func TestEveryEventStoredOnceAndBadMessagesDeadLettered(t *testing.T) {
	s := newStack(t)
	s.migrate(t, "trackwatch")
	c := makeCorpus(1, 3000, true)
	produce(t, s.brokers, schemas.TrackingTopic, c.tracking)
	produce(t, s.brokers, schemas.OrderTopic, c.orders)

	stop := runIngest(t, ingestOptions(s, "trackwatch", "g1"))
	waitCommitted(t, s.brokers, "g1", 2*time.Minute, schemas.TrackingTopic, schemas.OrderTopic)
	stop()
	assertExactlyOnce(t, s.conn, "trackwatch", c)

	// A dead letter keeps the raw bytes and where they came from.
	var raw, reason, errText, topic string
	if err := s.conn.QueryRow(context.Background(), "SELECT raw, reason, error, topic FROM trackwatch.dead_letters WHERE reason = 'bad_timestamp'").Scan(&raw, &reason, &errText, &topic); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(raw, `"occurred_at":"yesterday"`) || !strings.Contains(errText, "occurred_at") || topic != schemas.TrackingTopic {
		t.Fatalf("dead letter = %q %q %q %q", raw, reason, errText, topic)
	}

	// Stored values are normalised: UTC, upper-case number without separators, ISO country.
	var tn, country, status string
	var at time.Time
	if err := s.conn.QueryRow(context.Background(), "SELECT tracking_number, dest_country, status, occurred_at FROM trackwatch.tracking_events WHERE event_id = 'te-1-0'").Scan(&tn, &country, &status, &at); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(tn, " -") || tn != strings.ToUpper(tn) || country != "JP" || status == "" || at.Location().String() != "UTC" {
		t.Fatalf("stored %q %q %q %v", tn, country, status, at)
	}

	// Running again over the same topics with a new group stores nothing new.
	stop = runIngest(t, ingestOptions(s, "trackwatch", "g1-again"))
	waitCommitted(t, s.brokers, "g1-again", 2*time.Minute, schemas.TrackingTopic, schemas.OrderTopic)
	stop()
	assertExactlyOnce(t, s.conn, "trackwatch", c)
}

func TestDeadLetterReplayedAfterAFixIsIngested(t *testing.T) {
	s := newStack(t)
	s.migrate(t, "trackwatch")
	ctx := context.Background()
	// Large through a field the contract does not know (ignored): the message is too
	// large, while each of its fields is within ingest.limits.
	big := fmt.Sprintf(`{"event_id":"big-1","tracking_number":"RR123456785CN","raw_status":"In transit","occurred_at":"2026-10-02T08:15:00+08:00","note":"%s"}`, strings.Repeat("x", 1500))
	produce(t, s.brokers, schemas.TrackingTopic, []kafka.Message{
		{Key: []byte("RR123456785CN"), Value: []byte(big)},
		{Key: []byte("RR1"), Value: []byte(`{"event_id":"ok-1","tracking_number":"RR1","raw_status":"Delivered","occurred_at":"2026-10-02T08:15:00Z"}`)},
	})
	opts := ingestOptions(s, "trackwatch", "replay") // max_message_bytes 1 KiB: big is too large
	stop := runIngest(t, opts)
	waitCommitted(t, s.brokers, "replay", time.Minute, schemas.TrackingTopic)
	stop()

	open, err := deadletter.List(ctx, s.conn, "trackwatch", deadletter.Filter{Reason: ingest.ReasonTooLarge, Open: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(open) != 1 || open[0].Raw != big || open[0].Replays != 0 {
		t.Fatalf("open too_large dead letters = %+v", open)
	}

	// The fix: a larger limit. Then replay, and ingest stores the event.
	w := &kafka.Writer{Addr: kafka.TCP(s.brokers...), Balancer: &kafka.Hash{}}
	defer w.Close()
	replayed, err := deadletter.Replay(ctx, s.conn, "trackwatch", w, deadletter.Filter{Reason: ingest.ReasonTooLarge, Open: true}, time.Now())
	if err != nil || len(replayed) != 1 {
		t.Fatalf("replay: %d, %v", len(replayed), err)
	}
	opts.Config.MaxMessageBytes = 4 << 10
	stop = runIngest(t, opts)
	waitCommitted(t, s.brokers, "replay", time.Minute, schemas.TrackingTopic)
	stop()
	var n uint64
	if err := s.conn.QueryRow(ctx, "SELECT count() FROM trackwatch.tracking_events WHERE event_id = 'big-1'").Scan(&n); err != nil || n != 1 {
		t.Fatalf("replayed event stored %d times (%v), want 1", n, err)
	}
	// Replayed once: it is no longer open, and a second replay does nothing.
	again, err := deadletter.Replay(ctx, s.conn, "trackwatch", w, deadletter.Filter{Reason: ingest.ReasonTooLarge, Open: true}, time.Now())
	if err != nil || len(again) != 0 {
		t.Fatalf("second replay replayed %d (%v), want 0", len(again), err)
	}
}
