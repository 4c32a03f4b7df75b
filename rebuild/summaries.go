package rebuild

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/trackwatch/trackwatch/schemas"
)

// A summary is a table of monthly partial aggregates that a materialized view keeps from
// an events table at insert (migrations 0011 and 0013).
type summary struct {
	table, events, key string                          // the summary, its events table, its sorting key
	states             func(from, where string) string // the view's SELECT
}

var (
	carrierMonths = summary{"carrier_months", "tracking_events", "tracking_number, carrier, month", schemas.CarrierMonthStates}
	orderMonths   = summary{"order_months", "order_events", "order_id, month", schemas.OrderMonthStates}
)

// eventMonths returns the calendar months (UTC) in which s's events table has events
// where where holds.
func eventMonths(ctx context.Context, conn driver.Conn, db string, s summary, where string, args ...any) ([]time.Time, error) {
	var rows []struct {
		Month time.Time `ch:"month"`
	}
	if err := conn.Select(ctx, &rows, "SELECT DISTINCT toDateTime(toStartOfMonth(occurred_at), 'UTC') AS month FROM `"+db+"`."+s.events+
		" WHERE "+where+" ORDER BY month", args...); err != nil {
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
		months, err := eventMonths(ctx, conn, db, s, "1")
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
	if err := conn.Exec(ctx, strings.ReplaceAll(schemas.FillOrderNumbers, "$db", "`"+db+"`")); err != nil {
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
	table, staging := "`"+db+"`."+s.table, "`"+db+"`."+s.table+"_rebuild"
	from := "`" + db + "`." + s.events
	partition := m.UTC().Year()*100 + int(m.UTC().Month())
	var since time.Time
	if err := conn.QueryRow(ctx, "SELECT now64(3)").Scan(&since); err != nil {
		return fmt.Errorf("rebuild %s: %w", s.table, err)
	}
	inMonth := "toYYYYMM(occurred_at) = {partition:UInt32}"
	for _, q := range []string{
		"DROP TABLE IF EXISTS " + staging,
		"CREATE TABLE " + staging + " AS " + table + "\nENGINE = AggregatingMergeTree PARTITION BY toYYYYMM(month) ORDER BY (" + s.key + ")",
		"INSERT INTO " + staging + "\n" + s.states(from, inMonth+" AND ingested_at < {since:DateTime64(3, 'UTC')}"),
		"ALTER TABLE " + table + " REPLACE PARTITION ID '" + fmt.Sprint(partition) + "' FROM " + staging, // a number: no parameter here
		"INSERT INTO " + table + "\n" + s.states(from, inMonth+" AND ingested_at >= {since:DateTime64(3, 'UTC')}"),
		"DROP TABLE " + staging,
		// scheduled runs build on what changed since the previous one, which a change
		// made in place does not show: the next run evaluates every order
		strings.ReplaceAll(schemas.ResetDetectRuns, "$db", "`"+db+"`"),
	} {
		if err := conn.Exec(ctx, q, clickhouse.Named("partition", uint32(partition)), clickhouse.Named("since", since)); err != nil {
			return fmt.Errorf("rebuild %s of %d: %w", s.table, partition, err)
		}
	}
	return nil
}
