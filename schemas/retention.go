package schemas

import (
	"context"
	"fmt"
	"regexp"
	"strconv"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/trackwatch/trackwatch/sqlfile"
)

// Retention is how long trackwatch keeps its history (clickhouse.retention): carrier
// and order events, and the monthly summaries kept from them. Numbers are recycled by
// carriers after about 24 months, and the detectors read at most the recycle window
// (detect.recycle_months, 12 by default) back, so 25 months keeps every event a detector
// or an analyst can still use.
type Retention struct {
	// EventsMonths keeps tracking_events and order_events this many months after each
	// event occurred. Default 25.
	EventsMonths int `yaml:"events_months"`
	// SummariesMonths keeps carrier_months and order_months this many months after each
	// row's month. Default EventsMonths; it may not be shorter (a summary older than its
	// events could not be rebuilt, one younger would drop what the events still have).
	SummariesMonths int `yaml:"summaries_months"`
}

// Validate fills defaults and checks the values, naming the offending key.
func (r *Retention) Validate() error {
	if r.EventsMonths == 0 {
		r.EventsMonths = 25
	}
	if r.SummariesMonths == 0 {
		r.SummariesMonths = r.EventsMonths
	}
	if r.EventsMonths < 1 || r.EventsMonths > 1200 {
		return fmt.Errorf("events_months: %d is out of range 1..1200", r.EventsMonths)
	}
	if r.SummariesMonths < r.EventsMonths || r.SummariesMonths > 1200 {
		return fmt.Errorf("summaries_months: %d must be from events_months (%d) to 1200", r.SummariesMonths, r.EventsMonths)
	}
	return nil
}

// retained are the tables a Retention bounds: the column their rows age by, and
// whether they are events (else summaries).
var retained = []struct {
	table, column string
	events        bool
}{
	{"tracking_events", "toDateTime(occurred_at)", true},
	{"order_events", "toDateTime(occurred_at)", true},
	{"carrier_months", "month", false},
	{"order_months", "month", false},
}

// ApplyRetention sets each bounded table's TTL in the database of opts to r (ON CLUSTER
// when opts names a cluster): a changed window takes effect at the next start, without a
// migration. Only the tables' metadata changes; rows past the window go as their parts
// merge. It returns the tables changed.
func ApplyRetention(ctx context.Context, conn Conn, opts DDLOptions, r Retention) ([]string, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	db, onCluster := opts.Database, ""
	if opts.Cluster != "" {
		onCluster = " ON CLUSTER " + sqlfile.Ident(opts.Cluster).String()
	}
	var changed []string
	ctx = clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"materialize_ttl_after_modify": 0}))
	for _, t := range retained {
		months := r.SummariesMonths
		if t.events {
			months = r.EventsMonths
		}
		var engines []struct {
			Engine string `ch:"engine_full"`
		}
		if err := conn.Select(ctx, &engines, statements.Text("table_engine", nil), namedArgs("db", db, "table", t.table)...); err != nil {
			return changed, fmt.Errorf("retention of %s: %w", t.table, err)
		}
		if len(engines) == 1 && containsTTL(engines[0].Engine, t.column, months) {
			continue
		}
		q := statements.Text("modify_ttl", sqlfile.DB(db).With("Table", sqlfile.Ident(t.table)).With("Column", t.column).With("Months", months).With("OnCluster", onCluster))
		if err := conn.Exec(ctx, q); err != nil {
			return changed, fmt.Errorf("retention of %s: %w", t.table, err)
		}
		changed = append(changed, t.table)
	}
	return changed, nil
}

// containsTTL reports whether a table's engine_full already has the TTL of column
// plus months, as the server writes it.
func containsTTL(engine, column string, months int) bool {
	ttl := regexp.MustCompile(`TTL ` + regexp.QuoteMeta(column) + ` \+ toIntervalMonth\(` + strconv.Itoa(months) + `\)(\s|$)`)
	return ttl.MatchString(engine)
}
