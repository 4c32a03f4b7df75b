package backfill

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/segmentio/kafka-go"

	"github.com/trackwatch/trackwatch/ingest"
)

// Replay re-reads the topics from a moment into ClickHouse, in a consumer group of its
// own so that the live group's offsets are never touched. Each message is stored
// unless a row or dead letter from the same topic, partition and offset is already
// there: a replay over history the live ingest stored adds nothing, and one over a gap
// (a dropped partition of the table, a restored backup) fills exactly the gap.
type Replay struct {
	Brokers []string
	Dialer  *kafka.Dialer
	// Group is the replay's consumer group: a replay stopped half-way and started
	// again with the same group goes on from its committed offsets.
	Group                     string
	TrackingTopic, OrderTopic string
	// Since is the moment to read from (offsets looked up by timestamp); Until, when
	// set, the moment to stop at (exclusive), otherwise the end of each partition when
	// the replay starts.
	Since, Until time.Time
	Conn         driver.Conn
	Database     string
	Writer       *ingest.Writer
	// BlockMessages is the messages per insert block. Default 50000.
	BlockMessages int
	Logger        *slog.Logger
	// Progress is told after each block of a partition; nil reports nothing.
	Progress func(topic string, partition int, offset, end int64)
}

// ReplayResult counts what a replay did.
type ReplayResult struct {
	Messages      uint64 `json:"messages"`
	Stored        uint64 `json:"stored"`
	AlreadyStored uint64 `json:"already_stored"`
	DeadLettered  uint64 `json:"dead_lettered"`
	Duplicates    uint64 `json:"duplicates"`
}

// Run replays until every partition reached its end, then returns.
func (r *Replay) Run(ctx context.Context) (ReplayResult, error) {
	var res ReplayResult
	if r.Since.IsZero() {
		return res, errors.New("--since is required")
	}
	if !r.Until.IsZero() && !r.Until.After(r.Since) {
		return res, fmt.Errorf("--until %s is not after --since %s", r.Until.Format(time.RFC3339), r.Since.Format(time.RFC3339))
	}
	if r.BlockMessages <= 0 {
		r.BlockMessages = 50_000
	}
	if r.Logger == nil {
		r.Logger = slog.Default()
	}
	log := r.Logger
	kinds := map[string]ingest.EventKind{r.TrackingTopic: ingest.TrackingEvents, r.OrderTopic: ingest.OrderEvents}
	// The range of each partition, fixed when the replay starts.
	type span struct{ from, end int64 }
	spans := map[string]map[int]span{}
	total := 0
	for topic := range kinds {
		parts, err := r.Dialer.LookupPartitions(ctx, "tcp", r.Brokers[0], topic)
		if err != nil {
			return res, fmt.Errorf("partitions of %s: %w", topic, err)
		}
		spans[topic] = map[int]span{}
		for _, p := range parts {
			from, end, err := r.offsets(ctx, topic, p.ID)
			if err != nil {
				return res, err
			}
			spans[topic][p.ID] = span{from, end}
			total++
		}
	}
	group, err := kafka.NewConsumerGroup(kafka.ConsumerGroupConfig{
		ID: r.Group, Brokers: r.Brokers, Dialer: r.Dialer, Topics: []string{r.TrackingTopic, r.OrderTopic},
		StartOffset: kafka.FirstOffset, SessionTimeout: 10 * time.Second, RebalanceTimeout: 10 * time.Second,
	})
	if err != nil {
		return res, fmt.Errorf("replay consumer group %s: %w", r.Group, err)
	}
	defer group.Close()
	var mu sync.Mutex
	finished := map[string]bool{}
	for {
		gen, err := group.Next(ctx)
		if err != nil {
			return res, fmt.Errorf("replay consumer group %s: %w", r.Group, err)
		}
		done := make(chan error, total)
		started := 0
		for topic, parts := range gen.Assignments {
			for _, a := range parts {
				sp := spans[topic][a.ID]
				start := sp.from
				if a.Offset >= 0 { // committed by an earlier run of this replay
					start = max(a.Offset, sp.from)
				}
				key := topic + "/" + strconv.Itoa(a.ID)
				started++
				gen.Start(func(gctx context.Context) {
					pr, err := r.partition(gctx, gen, kinds[topic], topic, a.ID, start, sp.end)
					if gctx.Err() != nil && ctx.Err() == nil {
						// A rebalance ended the generation: what was stored is committed
						// or skipped as stored when the partition is read again.
						err = nil
					}
					mu.Lock()
					res.Messages += pr.Messages
					res.Stored += pr.Stored
					res.AlreadyStored += pr.AlreadyStored
					res.DeadLettered += pr.DeadLettered
					res.Duplicates += pr.Duplicates
					if err == nil && gctx.Err() == nil {
						finished[key] = true
					}
					mu.Unlock()
					done <- err
				})
			}
		}
		log.Info("replay generation started", "group", r.Group, "partitions", started, "since", r.Since)
		var firstErr error
		for range started {
			if err := <-done; err != nil && firstErr == nil {
				firstErr = err
			}
		}
		if firstErr != nil {
			return res, firstErr
		}
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		mu.Lock()
		all := len(finished) == total
		mu.Unlock()
		if all {
			return res, nil
		}
		// A rebalance ended the generation before the partitions were done: rejoin.
	}
}

// offsets returns the first offset at or after Since and the end (exclusive): the
// first offset at or after Until, or the partition's end now.
func (r *Replay) offsets(ctx context.Context, topic string, partition int) (from, end int64, err error) {
	conn, err := r.Dialer.DialLeader(ctx, "tcp", r.Brokers[0], topic, partition)
	if err != nil {
		return 0, 0, fmt.Errorf("leader of %s/%d: %w", topic, partition, err)
	}
	defer conn.Close()
	last, err := conn.ReadLastOffset()
	if err != nil {
		return 0, 0, fmt.Errorf("end of %s/%d: %w", topic, partition, err)
	}
	at := func(t time.Time) (int64, error) {
		o, err := conn.ReadOffset(t)
		if err != nil {
			return 0, fmt.Errorf("offset of %s/%d at %s: %w", topic, partition, t.Format(time.RFC3339), err)
		}
		if o < 0 || o > last { // nothing at or after t
			return last, nil
		}
		return o, nil
	}
	if from, err = at(r.Since); err != nil {
		return 0, 0, err
	}
	end = last
	if !r.Until.IsZero() {
		if end, err = at(r.Until); err != nil {
			return 0, 0, err
		}
	}
	return from, max(end, from), nil
}

// partition replays [from, end) of one partition in blocks: each block's offsets
// already stored are skipped, the rest stored under a token of the replay's own, then
// the offset is committed in the replay's group.
func (r *Replay) partition(ctx context.Context, gen *kafka.Generation, kind ingest.EventKind, topic string, pid int, from, end int64) (ReplayResult, error) {
	var res ReplayResult
	if from >= end {
		return res, nil
	}
	rd := kafka.NewReader(kafka.ReaderConfig{Brokers: r.Brokers, Dialer: r.Dialer, Topic: topic, Partition: pid, MinBytes: 1, MaxBytes: 8 << 20, MaxWait: 250 * time.Millisecond})
	defer rd.Close()
	if err := rd.SetOffset(from); err != nil {
		return res, err
	}
	block := r.Writer.NewBlock(kind)
	table := "tracking_events"
	if kind == ingest.OrderEvents {
		table = "order_events"
	}
	var msgs []kafka.Message
	for off := from; off < end; {
		msgs = msgs[:0]
		for len(msgs) < r.BlockMessages && off < end {
			m, err := rd.FetchMessage(ctx)
			if err != nil {
				return res, fmt.Errorf("read %s/%d at %d: %w", topic, pid, off, err)
			}
			off = m.Offset + 1
			if m.Offset >= end {
				break
			}
			msgs = append(msgs, m)
		}
		if len(msgs) == 0 {
			break
		}
		first, last := msgs[0].Offset, msgs[len(msgs)-1].Offset
		stored, err := r.storedOffsets(ctx, table, topic, pid, first, last)
		if err != nil {
			return res, err
		}
		block.Reset()
		for _, m := range msgs {
			res.Messages++
			if stored[m.Offset] {
				res.AlreadyStored++
				continue
			}
			switch block.Add(m.Value, m.Key, ingest.Source{Topic: topic, Partition: int32(pid), Offset: m.Offset}, m.Time) {
			case ingest.Inserted:
				res.Stored++
			case ingest.DeadLettered:
				res.DeadLettered++
			case ingest.Duplicate:
				res.Duplicates++
			}
		}
		// The token is the replay's own: a live block over the same offsets may be in
		// the deduplication window, and sharing its token would drop this one.
		token := "replay:" + topic + ":" + strconv.Itoa(pid) + ":" + strconv.FormatInt(first, 10) + "-" + strconv.FormatInt(last, 10)
		if err := r.Writer.Write(ctx, block, token); err != nil {
			return res, err
		}
		if err := gen.CommitOffsets(map[string]map[int]int64{topic: {pid: last + 1}}); err != nil {
			r.Logger.Warn("replay commit failed; a restart re-reads the block and skips what is stored", "topic", topic, "partition", pid, "err", err)
		}
		if r.Progress != nil {
			r.Progress(topic, pid, last+1, end)
		}
	}
	return res, nil
}

// storedOffsets returns the offsets in [first, last] of a partition already stored as
// rows or dead letters.
func (r *Replay) storedOffsets(ctx context.Context, table, topic string, pid int, first, last int64) (map[int64]bool, error) {
	q := "SELECT source_offset FROM `" + r.Database + "`." + table +
		" WHERE source_kind = 'kafka' AND source_topic = {topic:String} AND source_partition = {p:Int32} AND source_offset BETWEEN {a:Int64} AND {b:Int64}" +
		" UNION DISTINCT SELECT offset FROM `" + r.Database + "`.dead_letters" +
		" WHERE topic = {topic:String} AND partition = {p:Int32} AND offset BETWEEN {a:Int64} AND {b:Int64}"
	rows, err := r.Conn.Query(ctx, q, clickhouse.Named("topic", topic), clickhouse.Named("p", int32(pid)),
		clickhouse.Named("a", first), clickhouse.Named("b", last))
	if err != nil {
		return nil, fmt.Errorf("stored offsets of %s/%d: %w", topic, pid, err)
	}
	defer rows.Close()
	out := map[int64]bool{}
	for rows.Next() {
		var o int64
		if err := rows.Scan(&o); err != nil {
			return nil, err
		}
		out[o] = true
	}
	return out, rows.Err()
}
