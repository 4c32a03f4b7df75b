package rebuild

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/trackwatch/trackwatch/schemas"
	"github.com/trackwatch/trackwatch/sqlfile"
)

// A summary is a table of monthly partial aggregates that a materialized view keeps from
// an events table at insert (migrations 0011 and 0013).
type summary struct {
	table, events string                          // the summary and its events table
	states        func(from, where string) string // the view's SELECT (package schemas)
}

var (
	carrierMonths = summary{"carrier_months", "tracking_events", schemas.CarrierMonthStates}
	orderMonths   = summary{"order_months", "order_events", schemas.OrderMonthStates}
)

// data is what the statements of sql/summaries.sql are rendered with for s in db.
func (s summary) data(db string) sqlfile.Data {
	return sqlfile.DB(db).With("Summary", s.table).With("Table", sqlfile.Ident(s.table)).
		With("Staging", sqlfile.Ident(s.table+"_rebuild")).With("Events", sqlfile.Ident(s.events)).With("States", s.states)
}

// selectMonths returns the calendar months (UTC) query q (a SELECT of month) returns.
func selectMonths(ctx context.Context, conn driver.Conn, q string, args ...any) ([]time.Time, error) {
	var rows []struct {
		Month time.Time `ch:"month"`
	}
	if err := conn.Select(ctx, &rows, q, args...); err != nil {
		return nil, err
	}
	months := make([]time.Time, len(rows))
	for i, r := range rows {
		months[i] = r.Month
	}
	return months, nil
}

// Summaries summarises every month of tracking_events and order_events again into
// carrier_months and order_months (rebuildMonth), telling done after each month, and
// returns how many months it rebuilt: once after migrating a cluster (where the
// migrations cannot fill them), or to repair them.
func Summaries(ctx context.Context, conn driver.Conn, db string, done func(table string, month time.Time)) (int, error) {
	n := 0
	for _, s := range []summary{carrierMonths, orderMonths} {
		months, err := selectMonths(ctx, conn, statements.Text("event_months", s.data(db)))
		if err != nil {
			return n, fmt.Errorf("rebuild %s: months: %w", s.table, err)
		}
		for _, m := range months {
			if err := rebuildMonth(ctx, conn, db, s, m); err != nil {
				return n, err
			}
			n++
			if done != nil {
				done(s.table, m)
			}
		}
	}
	// the index of orders by number (on a cluster the migration cannot fill it)
	if err := conn.Exec(ctx, schemas.FillOrderNumbers(db)); err != nil {
		return n, fmt.Errorf("rebuild order_numbers: %w", err)
	}
	return n, nil
}

// rebuildMonth summarises one calendar month of s's events again into s, into a staging
// table whose partition then replaces the month's: a change made in place to stored
// events (a mutation) never reaches the materialized view that keeps them at insert.
// Events inserted while the month is rebuilt are summarised again after the swap; one
// inserted in the moment between the swap and that pass counts twice in the month's
// counts (which the detectors test only against zero).
func rebuildMonth(ctx context.Context, conn driver.Conn, db string, s summary, m time.Time) error {
	partition := m.UTC().Year()*100 + int(m.UTC().Month())
	var since time.Time
	if err := conn.QueryRow(ctx, statements.In(db, "now")).Scan(&since); err != nil {
		return fmt.Errorf("rebuild %s: %w", s.table, err)
	}
	data := s.data(db).With("Partition", partition)
	for _, q := range []string{
		statements.Text("drop_staging", data),
		statements.Text("create_staging", data),
		statements.Text("fill_staging", data),
		statements.Text("replace_month", data),
		statements.Text("fill_since", data),
		statements.Text("drop_staging_after", data),
		// scheduled runs build on what changed since the previous one, which a change
		// made in place does not show: the next run evaluates every order
		schemas.ResetDetectRuns(db),
	} {
		if err := conn.Exec(ctx, q, clickhouse.Named("partition", uint32(partition)), clickhouse.Named("since", since)); err != nil {
			return fmt.Errorf("rebuild %s of %d: %w", s.table, partition, err)
		}
	}
	return nil
}
