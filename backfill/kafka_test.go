package backfill_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/trackwatch/trackwatch/backfill"
	"github.com/trackwatch/trackwatch/devstack/devstacktest"
	"github.com/trackwatch/trackwatch/ingest"
	"github.com/trackwatch/trackwatch/kafkaclient"
	"github.com/trackwatch/trackwatch/schemas"
)

func TestAKafkaReplayBesideTheLiveGroupFillsAGapExactlyOnce(t *testing.T) {
	s := newServer(t, false)
	s.database("rp")
	k := devstacktest.StartKafka(t, 2, schemas.TrackingTopic, schemas.OrderTopic)
	brokers := []string{k.Addr()}
	// Without the simulator's re-sent events: rows with the same key collapse when
	// ClickHouse merges parts, which would blur the counts this test compares.
	ev := map[string][][]byte{}
	seen := map[string]bool{}
	for topic, vals := range traffic(t, 200) {
		for _, v := range vals {
			var e struct {
				EventID string `json:"event_id"`
			}
			if json.Unmarshal(v, &e) == nil && !seen[e.EventID] {
				seen[e.EventID] = true
				ev[topic] = append(ev[topic], v)
			}
		}
	}
	// The first half of each topic was produced on October 1, the rest on October 10.
	early, late := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 10, 10, 0, 0, 0, 0, time.UTC)
	w := &kafka.Writer{Addr: kafka.TCP(brokers...), Balancer: &kafka.Hash{}, BatchSize: 1000, BatchTimeout: 10 * time.Millisecond}
	var total int
	for topic, vals := range ev {
		msgs := make([]kafka.Message, len(vals))
		for i, v := range vals {
			at := early
			if i >= len(vals)/2 {
				at = late
			}
			msgs[i] = kafka.Message{Topic: topic, Key: []byte{byte(i)}, Value: v, Time: at}
		}
		if err := w.WriteMessages(t.Context(), msgs...); err != nil {
			t.Fatal(err)
		}
		total += len(msgs)
	}
	w.Close()

	// The live ingest stores everything and keeps running beside the replay.
	var icfg ingest.Config
	icfg.FlushInterval, icfg.SessionTimeout = 200*time.Millisecond, 6*time.Second
	opts := ingest.Options{Kafka: kafkaclient.Config{TrackingTopic: schemas.TrackingTopic, OrderTopic: schemas.OrderTopic, GroupID: "live"},
		Brokers: brokers, Conn: s.conn, Database: "rp", Logger: devstacktest.Logger(), Config: icfg}
	_ = opts.Kafka.Validate()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ingest.Run(ctx, opts) }()
	defer func() { cancel(); <-done }()
	stored := func() uint64 {
		return s.count("SELECT count() FROM rp.tracking_events") + s.count("SELECT count() FROM rp.order_events") + s.count("SELECT count() FROM rp.dead_letters")
	}
	deadline := time.Now().Add(time.Minute)
	var full uint64
	for {
		live := liveOffsets(t, brokers)
		if live == int64(total) {
			full = stored()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the live group committed %d of %d", live, total)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// A gap: partition 0 of the tracking topic is lost from the table.
	if err := s.conn.Exec(t.Context(), "DELETE FROM rp.tracking_events WHERE source_partition = 0"); err != nil {
		t.Fatal(err)
	}
	gap := full - stored()
	lostLate := s.count("SELECT count() FROM rp.tracking_events WHERE source_partition = 0") // 0: all lost

	replay := func(group string) backfill.ReplayResult {
		var cfg ingest.Config
		_ = cfg.Validate()
		r := &backfill.Replay{Brokers: brokers, Dialer: &kafka.Dialer{Timeout: 5 * time.Second}, Group: group,
			TrackingTopic: schemas.TrackingTopic, OrderTopic: schemas.OrderTopic, Since: late.Add(-time.Hour),
			Conn: s.conn, Database: "rp", Writer: ingest.NewWriter(s.conn, "rp", cfg, nil, nil, nil), BlockMessages: 97, Logger: devstacktest.Logger()}
		rctx, rcancel := context.WithTimeout(t.Context(), 2*time.Minute)
		defer rcancel()
		res, err := r.Run(rctx)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	res := replay("replay-1")
	if res.Messages == 0 || res.Messages >= uint64(total) {
		t.Fatalf("replayed %d messages of %d: the --since lookup did not pick the late half", res.Messages, total)
	}
	restored := stored() - (full - gap)
	if res.Stored+res.DeadLettered == 0 || restored != res.Stored+res.DeadLettered {
		t.Fatalf("the replay says %+v, the tables gained %d", res, restored)
	}
	// What was produced early on the lost partition stays lost (it is before --since);
	// the rest is back, once.
	if n, u := s.count("SELECT count() FROM rp.tracking_events"), s.count("SELECT uniqExact(source_topic, source_partition, source_offset) FROM rp.tracking_events"); n != u {
		t.Fatalf("%d rows for %d offsets: stored twice", n, u)
	}
	if s.count("SELECT countIf(source_partition = 0) FROM rp.tracking_events") <= lostLate {
		t.Fatal("nothing of the lost partition came back")
	}
	// The live group's offsets are untouched, and the same replay again reads nothing
	// (its group committed its end); another group reads it all and stores nothing.
	if live := liveOffsets(t, brokers); live != int64(total) {
		t.Fatalf("the live group's committed offsets moved: %d of %d", live, total)
	}
	if again := replay("replay-1"); again.Messages != 0 {
		t.Fatalf("the same replay again read %+v", again)
	}
	before := stored()
	other := replay("replay-2")
	if other.Stored != 0 || other.DeadLettered != 0 || other.AlreadyStored != res.Messages || stored() != before {
		t.Fatalf("another replay over stored history: %+v (first: %+v)", other, res)
	}
}

// liveOffsets sums the live group's committed offsets over both topics.
func liveOffsets(t *testing.T, brokers []string) int64 {
	c := &kafka.Client{Addr: kafka.TCP(brokers...)}
	resp, err := c.OffsetFetch(t.Context(), &kafka.OffsetFetchRequest{GroupID: "live", Topics: map[string][]int{
		schemas.TrackingTopic: {0, 1}, schemas.OrderTopic: {0, 1}}})
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, parts := range resp.Topics {
		for _, p := range parts {
			if p.CommittedOffset > 0 {
				n += p.CommittedOffset
			}
		}
	}
	return n
}
