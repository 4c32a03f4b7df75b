// Package deadletter lists the dead letters ingest and backfills stored (messages that
// could not be accepted, kept whole with their origin) and replays them: their raw bytes
// and keys produced to their original topics again, each replay recorded. Storing dead
// letters is package ingest's.
package deadletter

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/segmentio/kafka-go"
)

// Filter selects dead letters. Zero fields select everything.
type Filter struct {
	Topic  string
	Reason string
	Since  time.Time // dead-lettered at or after
	// Open leaves out the ones already replayed.
	Open  bool
	Limit int // default 100
}

// Stored is a dead letter as stored, with its replay state.
type Stored struct {
	Topic          string    `ch:"topic" json:"topic"`
	Partition      int32     `ch:"partition" json:"partition"`
	Offset         int64     `ch:"offset" json:"offset"`
	File           string    `ch:"source_file" json:"file,omitempty"` // a backfill file's dead letter (partition -1)
	Line           int64     `ch:"source_line" json:"line,omitempty"`
	Key            string    `ch:"message_key" json:"key"`
	Raw            string    `ch:"raw" json:"raw"`
	Reason         string    `ch:"reason" json:"reason"`
	Error          string    `ch:"error" json:"error"`
	MessageTime    time.Time `ch:"message_time" json:"message_time"`
	DeadLetteredAt time.Time `ch:"dead_lettered_at" json:"dead_lettered_at"`
	Replays        uint64    `ch:"replays" json:"replays"`
	LastReplayedAt time.Time `ch:"last_replayed_at" json:"last_replayed_at"`
}

// Origin names where the dead letter came from: topic/partition/offset, or file:line.
func (d Stored) Origin() string {
	if d.File != "" {
		return d.File + ":" + strconv.FormatInt(d.Line, 10)
	}
	return d.Topic + "/" + strconv.Itoa(int(d.Partition)) + "/" + strconv.FormatInt(d.Offset, 10)
}

// List returns the newest dead letters matching f.
func List(ctx context.Context, conn driver.Conn, db string, f Filter) ([]Stored, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	var out []Stored
	err := conn.Select(ctx, &out, statements.In(db, "list"), clickhouse.Named("topic", f.Topic), clickhouse.Named("reason", f.Reason),
		clickhouse.Named("since", f.Since.UTC()), clickhouse.Named("open", f.Open), clickhouse.Named("limit", uint32(f.Limit)))
	if err != nil {
		return nil, fmt.Errorf("list dead letters: %w", err)
	}
	return out, nil
}

// Producer is what replaying needs from a Kafka writer.
type Producer interface {
	WriteMessages(ctx context.Context, msgs ...kafka.Message) error
}

// Replay re-submits the selected dead letters, raw bytes and key unchanged,
// to their original topics, and records each replay. Already replayed ones are left out
// unless f.Open is false. It returns what it replayed.
func Replay(ctx context.Context, conn driver.Conn, db string, w Producer, f Filter, now time.Time) ([]Stored, error) {
	dls, err := List(ctx, conn, db, f)
	if err != nil {
		return nil, err
	}
	if len(dls) == 0 {
		return nil, nil
	}
	msgs := make([]kafka.Message, len(dls))
	for i, d := range dls {
		msgs[i] = kafka.Message{Topic: d.Topic, Key: []byte(d.Key), Value: []byte(d.Raw),
			Headers: []kafka.Header{{Key: "trackwatch-replay-of", Value: []byte(d.Origin())}}}
	}
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		var we kafka.WriteErrors
		if errors.As(err, &we) {
			return nil, fmt.Errorf("replay: %d of %d messages not produced (none recorded as replayed): %w", we.Count(), len(msgs), err)
		}
		return nil, fmt.Errorf("replay: produce: %w", err)
	}
	b, err := conn.PrepareBatch(ctx, statements.In(db, "insert_replays"))
	if err != nil {
		return dls, fmt.Errorf("record replays: %w", err)
	}
	for _, d := range dls {
		if err := b.Append(d.Topic, d.Partition, d.Offset, d.File, d.Line, now.UTC()); err != nil {
			_ = b.Abort()
			return dls, fmt.Errorf("record replays: %w", err)
		}
	}
	if err := b.Send(); err != nil {
		return dls, fmt.Errorf("record replays (the messages were produced): %w", err)
	}
	return dls, nil
}
