package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/trackwatch/trackwatch/carrier"
	"github.com/trackwatch/trackwatch/store"
	"github.com/trackwatch/trackwatch/trackingnumber"
)

// Source is where an event came from: a Kafka message (Topic, Partition, Offset) or a
// file's line or Parquet row (File, Line). It is stored with the row or dead letter.
type Source struct {
	Topic     string
	Partition int32
	Offset    int64
	File      string
	Line      int64
}

// Kind is the stored source kind: "file" when File is set, else "kafka".
func (s Source) Kind() string {
	if s.File != "" {
		return "file"
	}
	return "kafka"
}

// pos is the source's position in its stream: the offset, or the line.
func (s Source) pos() int64 {
	if s.File != "" {
		return s.Line
	}
	return s.Offset
}

// Outcome is what became of one event added to a block.
type Outcome string

// Outcomes, also the outcome label of trackwatch_ingest_messages_total.
const (
	Inserted      Outcome = "inserted"       // staged as a row
	DeadLettered  Outcome = "dead_lettered"  // staged as a dead letter
	Duplicate     Outcome = "duplicate"      // its event_id repeats one in the block
	AlreadyStored Outcome = "already_stored" // at or below the stored position
)

// EventKind selects the contract, and so the table, of a block.
type EventKind string

// Event kinds.
const (
	TrackingEvents EventKind = "tracking"
	OrderEvents    EventKind = "order"
)

// Block is one insert's worth of one table's events from one source, decoded: rows and
// dead letters, stored together by Writer.Write under one deduplication token.
type Block interface {
	// Add decodes an event and stages it as a row or a dead letter; a message over
	// the configured size is a dead letter (too_large) without being decoded. at is
	// the message's time (the Kafka timestamp, or when a file was read). raw and key
	// may be reused by the caller after Add returns.
	Add(raw, key []byte, src Source, at time.Time) Outcome
	// SkipThrough makes Add skip, as AlreadyStored, rows at or below rows and dead
	// letters at or below dead (positions: offsets or lines; -1 skips none).
	SkipThrough(rows, dead int64)
	// Reject stages raw as a dead letter for reason without decoding it: a file's
	// record that could not be read as an event at all.
	Reject(raw []byte, src Source, at time.Time, reason, detail string) Outcome
	// Len is the rows and dead letters staged; Bytes their raw size.
	Len() (rows, dead int)
	Bytes() int
	// Reset empties the block for the next one, keeping what was stored as skipped.
	Reset()
	write(ctx context.Context, w *Writer, token string) error
	table() string
}

// Writer stores blocks of decoded events and their dead letters in ClickHouse, for every
// source (the Kafka consumer, file backfills). It owns the tables' column layout, the
// deduplication tokens' use, provenance, and the one retry loop of ingest's inserts.
type Writer struct {
	conn    Conn
	db      string
	cfg     Config
	metrics *Metrics
	log     *slog.Logger
	dec     *Decoder
	numbers *trackingnumber.Checker // judges order events' tracking numbers; nil judges none
}

// CheckNumbers makes w judge the tracking numbers of the order events it decodes, with
// c, storing each verdict with its row (see JudgeOrders). It returns w.
// The tracking events that declare no carrier are then read with the phrase table of
// the one courier their number fits.
func (w *Writer) CheckNumbers(c *trackingnumber.Checker) *Writer {
	w.numbers = c
	w.dec.detectCouriers(c)
	return w
}

// NewWriter returns a writer into database db. cfg must be validated; phrases nil uses
// the embedded carrier tables; metrics and logger nil are unregistered and the default.
func NewWriter(conn Conn, db string, cfg Config, phrases *carrier.Table, metrics *Metrics, logger *slog.Logger) *Writer {
	if metrics == nil {
		metrics = NewMetrics(nil)
	}
	if logger == nil {
		logger = slog.Default()
	}
	if phrases == nil {
		phrases = defaultDecoder.phrases
	}
	return &Writer{conn: conn, db: db, cfg: cfg, metrics: metrics, log: logger, dec: NewDecoder(phrases, cfg.Limits)}
}

// NewBlock returns an empty block of kind's events. The tracking block counts the
// events whose words no phrase covers, so that they surface (trackwatch phrases
// --unmapped).
func (w *Writer) NewBlock(kind EventKind) Block {
	if kind == OrderEvents {
		return newBlock(&orderTable, func(b []byte) (OrderRow, *Rejection) {
			r, rej := w.dec.DecodeOrder(b)
			if rej == nil && w.numbers != nil {
				judgeOrder(w.numbers, &r)
			}
			return r, rej
		}, w.cfg.MaxMessageBytes, w.metrics)
	}
	unknown, readings := w.metrics.UnknownPhrases, w.metrics.ProviderReadings
	return newBlock(&trackingTable, func(b []byte) (TrackingRow, *Rejection) {
		r, rej := w.dec.DecodeTracking(b)
		if rej == nil && r.SubStatus == carrier.Unknown {
			unknown.WithLabelValues(r.Carrier).Inc()
		}
		if rej == nil && r.ProviderStatus != "" {
			readings.WithLabelValues(r.Provider, r.ProviderReading()).Inc()
		}
		return r, rej
	}, w.cfg.MaxMessageBytes, w.metrics)
}

// Write stores b: its rows as one block under token, then its dead letters under
// token+":dlq", retrying transient errors until ctx ends. A retried insert whose first
// attempt landed is dropped by the server (insert_deduplication_token), so Write may be
// repeated with the same block and token after a crash.
func (w *Writer) Write(ctx context.Context, b Block, token string) error {
	return b.write(ctx, w, token)
}

// Retry runs fn until it succeeds, fails permanently, or ctx ends, for the statements
// a source makes beside its blocks (a file load's progress).
func (w *Writer) Retry(ctx context.Context, op string, fn func(context.Context) error) error {
	return w.retry(ctx, op, fn)
}

// retry runs fn until it succeeds, fails permanently, or ctx ends. It is the one place
// ingest retries ClickHouse operations; store.Retryable decides what is transient.
func (w *Writer) retry(ctx context.Context, op string, fn func(context.Context) error) error {
	for attempt := 0; ; attempt++ {
		err := fn(ctx)
		if err == nil {
			return nil
		}
		if !store.Retryable(err) || ctx.Err() != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("%s: %w", op, errors.Join(ctx.Err(), err))
			}
			return fmt.Errorf("%s: permanent error: %w", op, err)
		}
		wait := backoff(w.cfg, attempt)
		w.metrics.Retries.WithLabelValues(op).Inc()
		w.log.Warn("retrying after a transient error", "op", op, "attempt", attempt+1, "wait", wait, "err", err)
		if !sleep(ctx, wait) {
			return fmt.Errorf("%s: %w", op, errors.Join(ctx.Err(), err))
		}
	}
}

// block is Block for one table.
type block[R any] struct {
	t          *table[R]
	decode     func([]byte) (R, *Rejection)
	maxBytes   int
	metrics    *Metrics
	rows       []staged[R]
	dead       []DeadLetter
	ids        map[string]struct{} // event ids in this block
	bytes      int
	storedRows int64 // highest position stored as a row, -1 none
	storedDead int64 // highest position stored as a dead letter, -1 none
}

func newBlock[R any](t *table[R], decode func([]byte) (R, *Rejection), maxBytes int, m *Metrics) *block[R] {
	return &block[R]{t: t, decode: decode, maxBytes: maxBytes, metrics: m, ids: map[string]struct{}{}, storedRows: -1, storedDead: -1}
}

func (b *block[R]) table() string { return b.t.name }

func (b *block[R]) SkipThrough(rows, dead int64) { b.storedRows, b.storedDead = rows, dead }

func (b *block[R]) Len() (int, int) { return len(b.rows), len(b.dead) }

func (b *block[R]) Bytes() int { return b.bytes }

func (b *block[R]) Reject(raw []byte, src Source, at time.Time, reason, detail string) Outcome {
	if src.pos() <= b.storedDead {
		return AlreadyStored
	}
	b.deadLetter(raw, nil, src, at, &Rejection{Reason: reason, Detail: detail})
	return DeadLettered
}

func (b *block[R]) deadLetter(raw, key []byte, src Source, at time.Time, rej *Rejection) {
	b.bytes += len(raw)
	b.dead = append(b.dead, DeadLetter{Topic: src.Topic, Partition: src.Partition, Offset: src.Offset, File: src.File, Line: src.Line,
		Key: bytes.Clone(key), Raw: bytes.Clone(raw), Reason: rej.Reason, Error: rej.Detail, MessageTime: at})
	label := src.Topic
	if src.File != "" {
		label = "file"
	}
	b.metrics.DeadLetters.WithLabelValues(label, rej.Reason).Inc()
}

func (b *block[R]) Add(raw, key []byte, src Source, at time.Time) Outcome {
	var rej *Rejection
	var row R
	if len(raw) > b.maxBytes {
		rej = reject(ReasonTooLarge, "message is %d bytes, over max_message_bytes %d", len(raw), b.maxBytes)
	} else {
		row, rej = b.decode(raw)
	}
	pos := src.pos()
	switch {
	case rej != nil && pos <= b.storedDead, rej == nil && pos <= b.storedRows:
		return AlreadyStored
	case rej != nil:
		b.deadLetter(raw, key, src, at, rej)
		return DeadLettered
	}
	b.bytes += len(raw)
	id := b.t.eventID(&row)
	if _, dup := b.ids[id]; dup {
		return Duplicate
	}
	b.ids[id] = struct{}{}
	b.rows = append(b.rows, staged[R]{row: row, src: src})
	return Inserted
}

func (b *block[R]) Reset() {
	b.rows, b.dead, b.bytes = b.rows[:0], b.dead[:0], 0
	clear(b.ids)
}

func (b *block[R]) write(ctx context.Context, w *Writer, token string) error {
	if len(b.rows) > 0 {
		start := time.Now()
		err := w.retry(ctx, "insert_"+b.t.name, func(ctx context.Context) error {
			return insertRows(ctx, w.conn, w.db, b.t, b.rows, token)
		})
		if err != nil {
			return err
		}
		m := w.metrics
		m.InsertSeconds.WithLabelValues(b.t.name).Observe(time.Since(start).Seconds())
		m.RowsInserted.WithLabelValues(b.t.name).Add(float64(len(b.rows)))
		m.BatchRows.WithLabelValues(b.t.name).Observe(float64(len(b.rows)))
		m.BatchBytes.WithLabelValues(b.t.name).Observe(float64(b.bytes))
		b.storedRows = b.rows[len(b.rows)-1].src.pos()
	}
	if len(b.dead) > 0 {
		err := w.retry(ctx, "insert_dead_letters", func(ctx context.Context) error {
			return InsertDeadLetters(ctx, w.conn, w.db, b.dead, token+":dlq")
		})
		if err != nil {
			return err
		}
		w.metrics.RowsInserted.WithLabelValues("dead_letters").Add(float64(len(b.dead)))
		last := b.dead[len(b.dead)-1]
		b.storedDead = last.Offset
		if last.File != "" {
			b.storedDead = last.Line
		}
	}
	return nil
}
