package ingest

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/shopspring/decimal"

	"github.com/trackwatch/trackwatch/sqlfile"
)

// Conn is what ingest needs from a ClickHouse connection.
type Conn interface {
	PrepareBatch(ctx context.Context, query string, opts ...driver.PrepareBatchOption) (driver.Batch, error)
	QueryRow(ctx context.Context, query string, args ...any) driver.Row
}

// DeadLetter is a message that could not be accepted, kept whole with its origin.
type DeadLetter struct {
	Topic       string
	Partition   int32
	Offset      int64
	File        string // a backfill file, when the message came from one
	Line        int64  // its line or Parquet row
	Key         []byte
	Raw         []byte
	Reason      string
	Error       string
	MessageTime time.Time
}

// table describes how one topic's events are decoded and stored.
type table[R any] struct {
	name    string
	insert  string // the statement (sql/sink.sql) that inserts a block, naming its columns
	decode  func([]byte) (R, *Rejection)
	eventID func(*R) string
	// appendColumns appends a block column by column, in the order of insert's columns:
	// one typed slice per column instead of a []any per row.
	appendColumns func(b driver.Batch, rows []staged[R]) error
}

// col extracts one column from a block.
func col[R, T any](rows []staged[R], f func(*staged[R]) T) []T {
	out := make([]T, len(rows))
	for i := range rows {
		out[i] = f(&rows[i])
	}
	return out
}

func appendAll(b driver.Batch, cols ...any) error {
	for i, c := range cols {
		if err := b.Column(i).Append(c); err != nil {
			return fmt.Errorf("column %d: %w", i, err)
		}
	}
	return nil
}

type (
	tr = staged[TrackingRow]
	or = staged[OrderRow]
)

var trackingTable = table[TrackingRow]{
	name:    "tracking_events",
	insert:  "insert_tracking_events",
	decode:  DecodeTracking,
	eventID: func(r *TrackingRow) string { return r.EventID },
	appendColumns: func(b driver.Batch, rows []tr) error {
		return appendAll(b,
			col(rows, func(r *tr) string { return r.row.EventID }),
			col(rows, func(r *tr) string { return r.row.TrackingNumber }),
			col(rows, func(r *tr) string { return r.row.TrackingNumberRaw }),
			col(rows, func(r *tr) string { return r.row.Carrier }),
			col(rows, func(r *tr) string { return r.row.Status }),
			col(rows, func(r *tr) string { return string(r.row.SubStatus) }),
			col(rows, func(r *tr) uint8 { return b2u(r.row.StatusGiven) }),
			col(rows, func(r *tr) string { return r.row.Provider }),
			col(rows, func(r *tr) string { return string(r.row.ProviderStatus) }),
			col(rows, func(r *tr) string { return r.row.RawStatus }),
			col(rows, func(r *tr) time.Time { return r.row.OccurredAt }),
			col(rows, func(r *tr) string { return r.row.Location.Country }),
			col(rows, func(r *tr) string { return r.row.Location.City }),
			col(rows, func(r *tr) string { return r.row.Location.CityNorm }),
			col(rows, func(r *tr) string { return r.row.Location.Postal }),
			col(rows, func(r *tr) string { return r.row.Location.PostalNorm }),
			col(rows, func(r *tr) string { return r.row.Destination.Country }),
			col(rows, func(r *tr) string { return r.row.Destination.City }),
			col(rows, func(r *tr) string { return r.row.Destination.CityNorm }),
			col(rows, func(r *tr) string { return r.row.Destination.Postal }),
			col(rows, func(r *tr) string { return r.row.Destination.PostalNorm }),
			col(rows, func(r *tr) string { return r.src.Topic }),
			col(rows, func(r *tr) int32 { return r.src.Partition }),
			col(rows, func(r *tr) int64 { return r.src.Offset }),
			col(rows, func(r *tr) string { return r.src.Kind() }),
			col(rows, func(r *tr) string { return r.src.File }),
			col(rows, func(r *tr) int64 { return r.src.Line }),
		)
	},
}

var orderTable = table[OrderRow]{
	name:    "order_events",
	insert:  "insert_order_events",
	decode:  DecodeOrder,
	eventID: func(r *OrderRow) string { return r.EventID },
	appendColumns: func(b driver.Batch, rows []or) error {
		return appendAll(b,
			col(rows, func(r *or) string { return r.row.EventID }),
			col(rows, func(r *or) string { return r.row.OrderID }),
			col(rows, func(r *or) string { return r.row.Marketplace }),
			col(rows, func(r *or) string { return r.row.SellerID }),
			col(rows, func(r *or) string { return r.row.BuyerID }),
			col(rows, func(r *or) string { return r.row.Status }),
			col(rows, func(r *or) time.Time { return r.row.OccurredAt }),
			col(rows, func(r *or) string { return r.row.TrackingNumber }),
			col(rows, func(r *or) string { return r.row.TrackingNumberRaw }),
			col(rows, func(r *or) string { return r.row.Carrier }),
			col(rows, func(r *or) string { return r.row.ShipTo.Country }),
			col(rows, func(r *or) string { return r.row.ShipTo.City }),
			col(rows, func(r *or) string { return r.row.ShipTo.CityNorm }),
			col(rows, func(r *or) string { return r.row.ShipTo.Postal }),
			col(rows, func(r *or) string { return r.row.ShipTo.PostalNorm }),
			col(rows, func(r *or) *uint16 { return r.row.ProtectionDays }),
			col(rows, func(r *or) *uint16 { return r.row.ProtectionExtendedDays }),
			col(rows, func(r *or) *decimal.Decimal { return r.row.Amount }),
			col(rows, func(r *or) string { return r.row.Currency }),
			col(rows, func(r *or) string { return r.src.Topic }),
			col(rows, func(r *or) int32 { return r.src.Partition }),
			col(rows, func(r *or) int64 { return r.src.Offset }),
			col(rows, func(r *or) string { return r.src.Kind() }),
			col(rows, func(r *or) string { return r.src.File }),
			col(rows, func(r *or) int64 { return r.src.Line }),
			col(rows, func(r *or) string { return r.row.Number.Verdict }),
			col(rows, func(r *or) []string {
				if r.row.Number.Couriers == nil {
					return []string{}
				}
				return r.row.Number.Couriers
			}),
			col(rows, func(r *or) string { return r.row.Number.Problem }),
			col(rows, func(r *or) string { return r.row.Number.ProblemJA }),
			col(rows, func(r *or) string { return r.row.Number.Spec }),
			col(rows, func(r *or) string { return r.row.PaymentMethod }),
			col(rows, func(r *or) *decimal.Decimal { return r.row.RefundAmount }),
			col(rows, func(r *or) string { return r.row.Reason }),
		)
	},
}

// staged is a decoded row waiting in a block, with its source.
type staged[R any] struct {
	row R
	src Source
}

// dedupContext asks the server to drop a block it has already stored under token: a
// retried insert whose first attempt did land leaves no duplicate.
func dedupContext(ctx context.Context, token string) context.Context {
	return clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{
		"insert_deduplicate":         1,
		"insert_deduplication_token": token,
	}))
}

func insertRows[R any](ctx context.Context, conn Conn, db string, t *table[R], rows []staged[R], token string) error {
	b, err := conn.PrepareBatch(dedupContext(ctx, token), statements.In(db, t.insert))
	if err != nil {
		return fmt.Errorf("prepare insert into %s: %w", t.name, err)
	}
	if err := t.appendColumns(b, rows); err != nil {
		_ = b.Abort()
		return fmt.Errorf("append block to %s (positions %d-%d): %w", t.name, rows[0].src.pos(), rows[len(rows)-1].src.pos(), err)
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("insert into %s: %w", t.name, err)
	}
	return nil
}

// InsertDeadLetters stores dead letters as one block under token.
func InsertDeadLetters(ctx context.Context, conn Conn, db string, dls []DeadLetter, token string) error {
	b, err := conn.PrepareBatch(dedupContext(ctx, token), statements.In(db, "insert_dead_letters"))
	if err != nil {
		return fmt.Errorf("prepare insert into dead_letters: %w", err)
	}
	for _, d := range dls {
		if err := b.Append(d.Topic, d.Partition, d.Offset, d.File, d.Line, string(d.Key), string(d.Raw), d.Reason, d.Error, d.MessageTime.UTC()); err != nil {
			_ = b.Abort()
			return fmt.Errorf("append dead letter (offset %d): %w", d.Offset, err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("insert into dead_letters: %w", err)
	}
	return nil
}

// storedOffsets returns the highest offset of topic/partition already stored as an event
// row and as a dead letter, -1 where none. Blocks of one partition are inserted in offset
// order, so everything at or below these offsets is already in ClickHouse: this is what
// makes a re-delivered message (after a crash between insert and commit, or a rebalance)
// invisible.
func storedOffsets(ctx context.Context, conn Conn, db, eventTable, topic string, partition int32) (rows, dead int64, err error) {
	var r, d *int64
	q := statements.Text("stored_row_offset", sqlfile.DB(db).With("Table", sqlfile.Ident(eventTable)))
	if err := conn.QueryRow(ctx, q, clickhouse.Named("topic", topic), clickhouse.Named("p", partition)).Scan(&r); err != nil {
		return 0, 0, fmt.Errorf("read stored offset of %s/%d: %w", topic, partition, err)
	}
	q = statements.In(db, "stored_dead_letter_offset")
	if err := conn.QueryRow(ctx, q, clickhouse.Named("topic", topic), clickhouse.Named("p", partition)).Scan(&d); err != nil {
		return 0, 0, fmt.Errorf("read dead-letter offset of %s/%d: %w", topic, partition, err)
	}
	rows, dead = -1, -1
	if r != nil {
		rows = *r
	}
	if d != nil {
		dead = *d
	}
	return rows, dead, nil
}

// InsertTracking stores decoded tracking rows as one block, for loads that do not come
// through the consumer (backfills, benchmarks). Rows are recorded as coming from topic
// and partition at consecutive offsets from firstOffset.
func InsertTracking(ctx context.Context, conn Conn, db string, rows []TrackingRow, topic string, partition int32, firstOffset int64, token string) error {
	return insertRows(ctx, conn, db, &trackingTable, stage(rows, topic, partition, firstOffset), token)
}

// InsertOrders is InsertTracking for order rows.
func InsertOrders(ctx context.Context, conn Conn, db string, rows []OrderRow, topic string, partition int32, firstOffset int64, token string) error {
	return insertRows(ctx, conn, db, &orderTable, stage(rows, topic, partition, firstOffset), token)
}

func stage[R any](rows []R, topic string, partition int32, firstOffset int64) []staged[R] {
	out := make([]staged[R], len(rows))
	for i := range rows {
		out[i] = staged[R]{row: rows[i], src: Source{Topic: topic, Partition: partition, Offset: firstOffset + int64(i)}}
	}
	return out
}

func b2u(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}
