package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/trackwatch/trackwatch/carrier"
	"github.com/trackwatch/trackwatch/kafkaclient"
	"github.com/trackwatch/trackwatch/trackingnumber"
)

// Hooks let tests stop the process at the exact points where a crash matters. Each is
// called with the topic, partition and the block's offset range; nil hooks are skipped.
type Hooks struct {
	BeforeInsert func(topic string, partition int32, first, last int64)
	AfterInsert  func(topic string, partition int32, first, last int64)
	AfterCommit  func(topic string, partition int32, first, last int64)
}

// Options are what Run needs.
type Options struct {
	Kafka    kafkaclient.Config
	Brokers  []string // bootstrap brokers: Kafka.Brokers, or the embedded broker
	Config   Config
	Conn     Conn
	Database string
	Logger   *slog.Logger
	Metrics  *Metrics
	Hooks    Hooks
	// Phrases classifies carrier wording; nil: the embedded tables.
	Phrases *carrier.Table
	// Numbers judges the order events' tracking numbers into number_checks; nil: none.
	Numbers *trackingnumber.Checker
}

// Run consumes both topics in one consumer group until ctx ends, then flushes what it
// holds and returns nil. It returns an error only for a permanent failure (such as a
// schema mismatch), having committed nothing it did not store.
//
// Exactly-once effect: each assigned partition is consumed by its own goroutine, in
// blocks of contiguous offsets. A block is inserted (rows, then dead letters, each with a
// deduplication token topic:partition:first-last) and only then committed. When a
// partition is assigned, the highest offsets already stored in ClickHouse are read, and
// messages at or below them are skipped: a block inserted by a member that died before
// committing is not inserted twice. On a rebalance the consumer group waits for every
// partition goroutine to return; they let an insert in flight finish and drop what they
// had not inserted, so the next owner starts exactly where the stored data ends.
func Run(ctx context.Context, opts Options) error {
	if err := opts.Config.Validate(); err != nil {
		return fmt.Errorf("ingest config: %w", err)
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Metrics == nil {
		opts.Metrics = NewMetrics(nil)
	}
	dialer, err := opts.Kafka.Dialer()
	if err != nil {
		return err
	}
	group, err := kafka.NewConsumerGroup(kafka.ConsumerGroupConfig{
		ID:                opts.Kafka.GroupID,
		Brokers:           opts.Brokers,
		Dialer:            dialer,
		Topics:            opts.Kafka.Topics(),
		SessionTimeout:    opts.Config.SessionTimeout,
		RebalanceTimeout:  opts.Config.SessionTimeout,
		HeartbeatInterval: max(opts.Config.SessionTimeout/10, 100*time.Millisecond),
		StartOffset:       kafka.FirstOffset,
		ErrorLogger: kafka.LoggerFunc(func(msg string, args ...any) {
			opts.Logger.Warn("kafka group: " + fmt.Sprintf(msg, args...))
		}),
	})
	if err != nil {
		return fmt.Errorf("kafka consumer group: %w", err)
	}
	defer group.Close()

	w := NewWriter(opts.Conn, opts.Database, opts.Config, opts.Phrases, opts.Metrics, opts.Logger).CheckNumbers(opts.Numbers)
	handlers := map[string]partitionHandler{
		opts.Kafka.TrackingTopic: newConsumer(opts, w, dialer, opts.Kafka.TrackingTopic, TrackingEvents),
		opts.Kafka.OrderTopic:    newConsumer(opts, w, dialer, opts.Kafka.OrderTopic, OrderEvents),
	}
	runCtx, fail := context.WithCancelCause(ctx)
	defer fail(nil)
	opts.Logger.Info("ingest consuming", "group", opts.Kafka.GroupID, "topics", opts.Kafka.Topics())
	for {
		gen, err := group.Next(runCtx)
		if err != nil {
			if cause := context.Cause(runCtx); cause != nil && !errors.Is(cause, context.Canceled) {
				return cause
			}
			if ctx.Err() != nil {
				return nil
			}
			opts.Metrics.Retries.WithLabelValues("kafka_join").Inc()
			opts.Logger.Warn("joining the consumer group failed; retrying", "err", err)
			if !sleep(ctx, time.Second) {
				return nil
			}
			continue
		}
		var assigned []string
		for topic, parts := range gen.Assignments {
			h := handlers[topic]
			for _, a := range parts {
				assigned = append(assigned, topic+"/"+strconv.Itoa(a.ID))
				gen.Start(func(gctx context.Context) {
					if err := h.consume(ctx, gctx, gen, int32(a.ID), a.Offset); err != nil {
						fail(err)
					}
				})
			}
		}
		opts.Logger.Info("generation started", "generation", gen.ID, "member", gen.MemberID, "partitions", assigned)
	}
}

// partitionHandler consumes one assigned partition until its generation or ctx ends.
type partitionHandler interface {
	consume(ctx, gctx context.Context, gen *kafka.Generation, pid int32, offset int64) error
}

// consumer reads one topic's partitions and writes one table.
type consumer struct {
	opts   Options
	topic  string
	kind   EventKind
	w      *Writer
	dialer *kafka.Dialer
	log    *slog.Logger
}

// partition is one partition's block in the making.
type partition struct {
	pid     int32
	block   Block
	first   int64 // first offset in the block, -1 when empty
	last    int64 // last offset consumed
	pending bool  // consumed messages not yet committed
}

func newConsumer(opts Options, w *Writer, dialer *kafka.Dialer, topic string, kind EventKind) *consumer {
	return &consumer{opts: opts, topic: topic, kind: kind, w: w, dialer: dialer, log: opts.Logger.With("topic", topic)}
}

// consume reads one partition from offset. ctx is the process: when it ends, the block
// is flushed and committed. gctx is the generation: when it ends (a rebalance), an
// insert in flight completes, the rest of the block is dropped, and consume returns so
// the group can rejoin.
func (c *consumer) consume(ctx, gctx context.Context, gen *kafka.Generation, pid int32, offset int64) error {
	log := c.log.With("partition", pid)
	p := &partition{pid: pid, first: -1, block: c.w.NewBlock(c.kind)}
	bothCtx, stop := context.WithCancel(gctx)
	defer stop()
	go func() {
		select {
		case <-ctx.Done():
			stop()
		case <-bothCtx.Done():
		}
	}()
	var storedRows, storedDead int64
	err := c.w.retry(bothCtx, "read_stored_offsets", func(qctx context.Context) error {
		var err error
		storedRows, storedDead, err = storedOffsets(qctx, c.opts.Conn, c.opts.Database, p.block.table(), c.topic, pid)
		return err
	})
	if err != nil {
		if bothCtx.Err() != nil {
			return nil
		}
		return err
	}
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:       c.opts.Brokers,
		Topic:         c.topic,
		Partition:     int(pid),
		Dialer:        c.dialer,
		MinBytes:      1,
		MaxBytes:      max(1<<20, 2*c.opts.Config.MaxMessageBytes),
		MaxWait:       250 * time.Millisecond,
		QueueCapacity: 1000,
		ErrorLogger:   kafka.LoggerFunc(func(msg string, args ...any) { log.Warn("kafka: " + fmt.Sprintf(msg, args...)) }),
	})
	defer r.Close()
	if err := r.SetOffset(offset); err != nil {
		return fmt.Errorf("seek %s/%d to %d: %w", c.topic, pid, offset, err)
	}
	p.block.SkipThrough(storedRows, storedDead)
	log.Debug("partition assigned", "offset", offset, "stored_rows", storedRows, "stored_dead", storedDead)

	// Regular flushes run under ctx, the process, which a generation's end does not
	// cancel: a rebalance never abandons an insert half-way. The final flush at shutdown
	// runs detached from ctx (which has ended by then), bounded by shutdown_timeout.
	flushCtx := context.WithoutCancel(ctx)
	interval := c.opts.Config.FlushInterval
	for {
		fctx, cancel := context.WithTimeout(bothCtx, interval)
		c.fetch(fctx, r, p)
		cancel()
		switch {
		case ctx.Err() != nil: // stopping: store and commit what is held
			sctx, cancel := context.WithTimeout(flushCtx, c.opts.Config.ShutdownTimeout)
			err := c.flush(sctx, gen, p)
			cancel()
			if err != nil {
				log.Warn("final flush incomplete; the rest is re-delivered on the next start", "err", err)
			}
			return nil
		case gctx.Err() != nil: // rebalance: the next owner re-reads what was not stored
			return nil
		}
		if err := c.flush(ctx, gen, p); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if st := r.Stats(); st.Lag >= 0 {
			c.opts.Metrics.Lag.WithLabelValues(c.topic, strconv.Itoa(int(pid))).Set(float64(st.Lag))
		}
	}
}

// fetch stages messages until fctx ends or the block is full (rows or bytes).
func (c *consumer) fetch(fctx context.Context, r *kafka.Reader, p *partition) {
	for {
		m, err := r.FetchMessage(fctx)
		if err != nil {
			if fctx.Err() != nil {
				return
			}
			// The reader reconnects by itself; pause so a dead broker is not spun on.
			c.opts.Metrics.Retries.WithLabelValues("kafka_fetch").Inc()
			c.log.Warn("fetch failed; retrying", "partition", p.pid, "err", err)
			if !sleep(fctx, 500*time.Millisecond) {
				return
			}
			continue
		}
		c.add(p, m)
		if rows, _ := p.block.Len(); rows >= c.opts.Config.MaxBatchRows || p.block.Bytes() >= c.opts.Config.MaxBatchBytes {
			return
		}
	}
}

// add stages one message in the block, or skips it when already stored.
func (c *consumer) add(p *partition, m kafka.Message) {
	p.last, p.pending = m.Offset, true
	outcome := p.block.Add(m.Value, m.Key, Source{Topic: c.topic, Partition: p.pid, Offset: m.Offset}, m.Time)
	if outcome != AlreadyStored && p.first < 0 {
		p.first = m.Offset
	}
	c.opts.Metrics.Messages.WithLabelValues(c.topic, string(outcome)).Inc()
}

// flush stores the block (rows, then dead letters), then commits the next offset. Each
// insert is one block for a contiguous offset range carrying topic:partition:first-last
// as its deduplication token, so a retried insert whose first attempt landed is dropped.
func (c *consumer) flush(ctx context.Context, gen *kafka.Generation, p *partition) error {
	if !p.pending {
		return nil
	}
	pid, first, last := p.pid, p.first, p.last
	h := c.opts.Hooks
	if h.BeforeInsert != nil {
		h.BeforeInsert(c.topic, pid, first, last)
	}
	token := c.topic + ":" + strconv.Itoa(int(pid)) + ":" + strconv.FormatInt(first, 10) + "-" + strconv.FormatInt(last, 10)
	if err := c.w.Write(ctx, p.block, token); err != nil {
		return err
	}
	if h.AfterInsert != nil {
		h.AfterInsert(c.topic, pid, first, last)
	}
	// A failed commit loses nothing and duplicates nothing: the messages come again and
	// are skipped as already stored. So it is retried briefly, then left to the next one.
	if err := c.commit(ctx, gen, pid, last); err != nil {
		c.log.Warn("commit failed; the next commit or a re-delivery covers it", "partition", pid, "offset", last, "err", err)
	} else if h.AfterCommit != nil {
		h.AfterCommit(c.topic, pid, first, last)
	}
	p.block.Reset()
	p.first, p.pending = -1, false
	return nil
}

func (c *consumer) commit(ctx context.Context, gen *kafka.Generation, pid int32, last int64) error {
	offsets := map[string]map[int]int64{c.topic: {int(pid): last + 1}}
	var err error
	for attempt := range 3 {
		if err = gen.CommitOffsets(offsets); err == nil || ctx.Err() != nil {
			return err
		}
		c.opts.Metrics.Retries.WithLabelValues("kafka_commit").Inc()
		if !sleep(ctx, backoff(c.opts.Config, attempt)) {
			return ctx.Err()
		}
	}
	return err
}

// backoff is exponential from RetryInitial, capped at RetryMax, with ±20% jitter.
func backoff(cfg Config, attempt int) time.Duration {
	d := cfg.RetryInitial << min(attempt, 20)
	if d <= 0 || d > cfg.RetryMax {
		d = cfg.RetryMax
	}
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
