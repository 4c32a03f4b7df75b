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
	"github.com/trackwatch/trackwatch/sqlfile"
)

// Replay re-reads the topics from a moment into ClickHouse. Its progress is kept as the
// committed offsets of a consumer group of its own (committed as a simple consumer, with
// no group membership, so there is no rebalance to wait for), and the live group's
// offsets are never touched. Each message is stored unless a row or dead letter from the
// same topic, partition and offset is already there: a replay over history the live
// ingest stored adds nothing, and one over a gap (a dropped partition of the table, a
// restored backup) fills exactly the gap.
type Replay struct {
	Brokers []string
	Dialer  *kafka.Dialer
	// Transport carries the offset requests (TLS and SASL as the Dialer); nil is
	// kafka-go's default transport.
	Transport kafka.RoundTripper
	// Group keeps the replay's offsets: a replay stopped half-way and started again
	// with the same group goes on from them. It must not be the live group.
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
	// Parallel partitions replayed at once. Default 4.
	Parallel int
	Logger   *slog.Logger
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
	if r.Group == "" {
		return res, errors.New("a replay needs a consumer group of its own")
	}
	if r.BlockMessages <= 0 {
		r.BlockMessages = 50_000
	}
	if r.Parallel <= 0 {
		r.Parallel = 4
	}
	if r.Logger == nil {
		r.Logger = slog.Default()
	}
	client := &kafka.Client{Addr: kafka.TCP(r.Brokers...), Transport: r.Transport}
	kinds := map[string]ingest.EventKind{r.TrackingTopic: ingest.TrackingEvents, r.OrderTopic: ingest.OrderEvents}
	type work struct {
		topic      string
		pid        int
		start, end int64
	}
	var todo []work
	for _, topic := range []string{r.TrackingTopic, r.OrderTopic} {
		parts, err := r.Dialer.LookupPartitions(ctx, "tcp", r.Brokers[0], topic)
		if err != nil {
			return res, fmt.Errorf("partitions of %s: %w", topic, err)
		}
		ids := make([]int, len(parts))
		for i, p := range parts {
			ids[i] = p.ID
		}
		committed, err := client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: r.Group, Topics: map[string][]int{topic: ids}})
		if err != nil {
			return res, fmt.Errorf("offsets of the replay group %s: %w", r.Group, err)
		}
		done := map[int]int64{}
		for _, p := range committed.Topics[topic] {
			if p.Error == nil && p.CommittedOffset >= 0 {
				done[p.Partition] = p.CommittedOffset
			}
		}
		for _, id := range ids {
			from, end, err := r.offsets(ctx, topic, id)
			if err != nil {
				return res, err
			}
			if c, ok := done[id]; ok {
				from = max(from, c) // an earlier run of this replay got this far
			}
			todo = append(todo, work{topic, id, from, max(end, from)})
		}
	}
	r.Logger.Info("replay started", "group", r.Group, "since", r.Since, "until", r.Until, "partitions", len(todo))
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, r.Parallel)
	for _, w := range todo {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-pctx.Done():
				return
			}
			defer func() { <-sem }()
			pr, err := r.partition(pctx, client, kinds[w.topic], w.topic, w.pid, w.start, w.end)
			mu.Lock()
			defer mu.Unlock()
			res.Messages += pr.Messages
			res.Stored += pr.Stored
			res.AlreadyStored += pr.AlreadyStored
			res.DeadLettered += pr.DeadLettered
			res.Duplicates += pr.Duplicates
			if err != nil && firstErr == nil {
				firstErr = err
				cancel()
			}
		}()
	}
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return res, firstErr
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
// the next offset is committed in the replay's group.
func (r *Replay) partition(ctx context.Context, client *kafka.Client, kind ingest.EventKind, topic string, pid int, from, end int64) (ReplayResult, error) {
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
			fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			m, err := rd.FetchMessage(fctx)
			cancel()
			if err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
				if rd.Lag() <= 0 {
					// Nothing more to read below end: offsets up to it that hold no
					// message (transaction markers, compacted records) never arrive.
					off = end
					break
				}
				continue // a slow broker: ask again
			}
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
		if err := r.commit(ctx, client, topic, pid, last+1); err != nil {
			r.Logger.Warn("replay commit failed; a restart re-reads the block and skips what is stored", "topic", topic, "partition", pid, "err", err)
		}
		if r.Progress != nil {
			r.Progress(topic, pid, last+1, end)
		}
	}
	return res, nil
}

// commit records the replay's next offset of a partition in its group, as a simple
// consumer (generation -1, no member): the group has no members to rebalance.
func (r *Replay) commit(ctx context.Context, client *kafka.Client, topic string, pid int, next int64) error {
	resp, err := client.OffsetCommit(ctx, &kafka.OffsetCommitRequest{GroupID: r.Group, GenerationID: -1,
		Topics: map[string][]kafka.OffsetCommit{topic: {{Partition: pid, Offset: next}}}})
	if err != nil {
		return err
	}
	for _, p := range resp.Topics[topic] {
		if p.Error != nil {
			return p.Error
		}
	}
	return nil
}

// storedOffsets returns the offsets in [first, last] of a partition already stored as
// rows or dead letters.
func (r *Replay) storedOffsets(ctx context.Context, table, topic string, pid int, first, last int64) (map[int64]bool, error) {
	q := statements.Text("stored_offsets", sqlfile.DB(r.Database).With("Table", sqlfile.Ident(table)))
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
