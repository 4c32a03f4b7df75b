package ingest

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// countingBatch records what a writer appends: the length of each column's slice, or
// the values of each row.
type countingBatch struct {
	driver.Batch
	columns map[int]int
	row     int
}

func (b *countingBatch) Column(i int) driver.BatchColumn { return countingColumn{b, i} }

func (b *countingBatch) Append(v ...any) error { b.row = len(v); return nil }

func (b *countingBatch) Send() error { return nil }

type countingColumn struct {
	b *countingBatch
	i int
}

func (c countingColumn) Append(v any) error {
	c.b.columns[c.i] = reflect.ValueOf(v).Len()
	return nil
}

func (c countingColumn) AppendRow(any) error { return errors.New("the writer appends columns whole") }

// The inserts in sql/sink.sql name as many columns as the writer appends to a block, in
// the form the driver reads a column list from ("INSERT INTO table (a, b)").
func TestInsertsNameTheColumnsTheWriterAppends(t *testing.T) {
	columns := func(name, table string) []string {
		q := statements.In("tw", name)
		if prefix := "INSERT INTO `tw`." + table + " ("; !strings.HasPrefix(q, prefix) || !strings.HasSuffix(q, ")") {
			t.Fatalf("%s: %q is not %s...)", name, q, prefix)
		}
		var out []string
		for _, c := range strings.Split(q[strings.Index(q, "(")+1:len(q)-1], ",") {
			out = append(out, strings.TrimSpace(c))
		}
		return out
	}
	for _, tc := range []struct {
		name, table string
		appendBlock func(driver.Batch) error
	}{
		{"insert_tracking_events", "tracking_events", func(b driver.Batch) error { return trackingTable.appendColumns(b, make([]tr, 3)) }},
		{"insert_order_events", "order_events", func(b driver.Batch) error { return orderTable.appendColumns(b, make([]or, 3)) }},
	} {
		cols := columns(tc.name, tc.table)
		b := &countingBatch{columns: map[int]int{}}
		if err := tc.appendBlock(b); err != nil {
			t.Fatal(err)
		}
		if len(b.columns) != len(cols) {
			t.Errorf("%s names %d columns, the writer appends %d", tc.name, len(cols), len(b.columns))
		}
		for i := range cols {
			if b.columns[i] != 3 {
				t.Errorf("%s: column %d (%s) has %d values, want one for each of the 3 rows", tc.name, i, cols[i], b.columns[i])
			}
		}
	}
	cols := columns("insert_dead_letters", "dead_letters")
	b := &countingBatch{columns: map[int]int{}}
	if err := InsertDeadLetters(t.Context(), batchConn{b}, "tw", []DeadLetter{{MessageTime: time.Now()}}, "t"); err != nil {
		t.Fatal(err)
	}
	if b.row != len(cols) {
		t.Errorf("insert_dead_letters names %d columns, InsertDeadLetters appends %d values a row", len(cols), b.row)
	}
}

// batchConn hands out one batch.
type batchConn struct{ b driver.Batch }

func (c batchConn) PrepareBatch(_ context.Context, _ string, _ ...driver.PrepareBatchOption) (driver.Batch, error) {
	return c.b, nil
}

func (c batchConn) QueryRow(context.Context, string, ...any) driver.Row { return nil }
