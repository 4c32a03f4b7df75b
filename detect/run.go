package detect

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"text/template"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/trackwatch/trackwatch/schemas"
)

// A run evaluates a set of detectors together, in three stages inside ClickHouse:
//
//  1. orders.sql: every shipped order's state as of the moment, into a temporary table;
//  2. candidates.sql: each number's carrier summary joined to those orders once, and every
//     detector's flag applied to the joined rows, into a second temporary table;
//  3. findings.sql: timelines for the flagged numbers only, and each detector's severity,
//     recommendation, reason and evidence.
//
// The order state and the carrier summaries are the expensive part and are the same for
// every detector, so they are computed once a run instead of once a detector; both read
// the monthly summaries kept at insert (order_months, carrier_months) and summarise from
// the events only what those cannot stand for (order_summary.sql, carrier_summary.sql).
// Temporary tables live on one connection, so a run needs a connection of its own
// (store.OpenSession).

// Temporary tables of a run. They exist only on the run's connection and disappear with it.
const (
	ordersTable     = "trackwatch_run_orders"
	candidatesTable = "trackwatch_run_candidates"
)

// Set is a group of detectors evaluated together in one run.
type Set struct {
	// OnStage, when set, is told how long each stage of a run took: "order state" and
	// "candidates" (Prepare), "findings" (Run.Findings), and a recorder's own stages.
	OnStage func(stage string, d time.Duration)

	names          []string
	db             string
	stages         map[variant]stageSQL // stages 1 and 2
	findings       string               // stage 3, SELECT
	findingsDraft  string               // stage 3 without timelines, with timeline_key
	findingsOnly   string               // stage 3 for the rows of $only_table
	eventDetectors []string
}

// part is one detector's contribution to a run, from sql/<name>.sql.
type part struct {
	Name                                       string
	Columns, Flag                              string            // stage 2: over an order joined to its number's summary
	Severity, Recommendation, Reason, Evidence string            // stage 3: over a flagged row (plus timeline)
	Reasons                                    map[string]string // the reason per language: "reason" is en, "reason_<lang>" the others
	NeedsEvents                                bool              // stage 3 builds the number's timeline
	NextCheck                                  string            // stage 2, scheduled runs: the moments the flag or the text can change by time alone
}

// NewSet returns the detectors called names (all of them when names is empty) for
// database db, in the order of Names.
func NewSet(db string, names ...string) (*Set, error) {
	if len(names) == 0 {
		names = Names
	}
	for _, n := range names {
		if !slices.Contains(Names, n) {
			return nil, fmt.Errorf("unknown detector %q (detectors: %s)", n, strings.Join(Names, ", "))
		}
	}
	s := &Set{db: db}
	var parts []part
	for _, n := range Names { // the canonical order, whatever order names came in
		if !slices.Contains(names, n) {
			continue
		}
		p, err := loadPart(n)
		if err != nil {
			return nil, err
		}
		parts = append(parts, p)
		s.names = append(s.names, n)
		if p.NeedsEvents {
			s.eventDetectors = append(s.eventDetectors, n)
		}
	}
	// the candidates without the rows that only carry a next check (scheduled runs)
	flagged := "(SELECT * FROM " + candidatesTable + " WHERE detector != '" + nextCheckRow + "')"
	data := struct {
		DB, Orders, Candidates string
		Detectors              []part
		Reuse                  bool
		Langs                  []string
		Summaries              bool
		Tracked, Scoped        bool
		CarrierSummary         string
		OrderSummary           string
		Mode, FlaggedRows      string // findings.sql
		// a scoped run's tables (findScope)
		ScopeNumbers, ScopeOrderMonths, ScopeCarrierMonths string
	}{DB: "`" + db + "`", Orders: ordersTable, Candidates: flagged, Detectors: parts,
		ScopeNumbers: scopeNumbers, ScopeOrderMonths: scopeOrderMonths, ScopeCarrierMonths: scopeCarrierMonths,
		Reuse: slices.Contains(s.names, "tracking_reuse"), Langs: ReasonLanguages}
	var err error
	s.stages = map[variant]stageSQL{}
	for _, summaries := range []bool{true, false} {
		for _, mode := range []runMode{modePlain, modeFull, modeScoped} {
			data.Summaries, data.Tracked, data.Scoped = summaries, mode != modePlain, mode == modeScoped
			var st stageSQL
			if data.OrderSummary, err = renderFile("order_summary.sql", data); err != nil {
				return nil, err
			}
			if st.orders, err = renderFile("orders.sql", data); err != nil {
				return nil, err
			}
			if data.CarrierSummary, err = renderFile("carrier_summary.sql", data); err != nil {
				return nil, err
			}
			if st.candidates, err = renderFile("candidates.sql", data); err != nil {
				return nil, err
			}
			s.stages[variant{summaries, mode}] = st
		}
	}
	for _, v := range []struct {
		mode, rows string
		into       *string
	}{
		{"all", flagged, &s.findings},
		{"draft", flagged, &s.findingsDraft},
		{"only", "(SELECT * FROM " + candidatesTable + " WHERE (detector, order_id, tracking_number) IN (SELECT detector, order_id, tracking_number FROM $only_table))", &s.findingsOnly},
	} {
		data.Mode, data.FlaggedRows = v.mode, v.rows
		if *v.into, err = renderFile("findings.sql", data); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Names returns the detectors in the set.
func (s *Set) Names() []string { return slices.Clone(s.names) }

// loadPart reads a detector's file: named blocks of SQL expressions.
func loadPart(name string) (part, error) {
	t, err := parseSQL(name + ".sql")
	if err != nil {
		return part{}, err
	}
	block := func(block string, required bool) (string, error) {
		bt := t.Lookup(block)
		if bt == nil {
			if required {
				return "", fmt.Errorf("detector sql %s: no %q block", name, block)
			}
			return "", nil
		}
		var sb strings.Builder
		if err := bt.Execute(&sb, nil); err != nil {
			return "", fmt.Errorf("detector sql %s, block %s: %w", name, block, err)
		}
		return stripComments(sb.String()), nil
	}
	p := part{Name: name}
	for _, f := range []struct {
		block    string
		required bool
		into     *string
	}{
		{"columns", false, &p.Columns}, {"flag", true, &p.Flag}, {"next_check", false, &p.NextCheck}, {"severity", true, &p.Severity},
		{"recommendation", true, &p.Recommendation}, {"reason", true, &p.Reason}, {"evidence", true, &p.Evidence},
	} {
		if *f.into, err = block(f.block, f.required); err != nil {
			return part{}, err
		}
	}
	p.Reasons = map[string]string{"en": p.Reason}
	for _, lang := range ReasonLanguages[1:] {
		if p.Reasons[lang], err = block("reason_"+lang, true); err != nil {
			return part{}, err
		}
	}
	needs, err := block("needs_events", false)
	p.NeedsEvents = needs == "true"
	return p, err
}

// threshold renders a threshold for a row: the carrier's override, else the
// marketplace's, else the global value, all passed as query parameters. Without
// overrides (the usual case) the per-row map lookups are skipped: over millions of
// events they cost a noticeable part of a run.
func threshold(name, carrier, marketplace string) string {
	c := "{" + name + "_by_carrier:Map(String, UInt16)}"
	m := "{" + name + "_by_marketplace:Map(String, UInt16)}"
	return fmt.Sprintf("if(empty(%[1]s) AND empty(%[3]s), {%[5]s:UInt16}, "+
		"multiIf(mapContains(%[1]s, %[2]s), %[1]s[%[2]s], mapContains(%[3]s, %[4]s), %[3]s[%[4]s], {%[5]s:UInt16}))", c, carrier, m, marketplace, name)
}

// parseSQL parses one of the embedded SQL templates, with th for thresholds.
func parseSQL(file string) (*template.Template, error) {
	b, err := sqlFiles.ReadFile("sql/" + file)
	if err != nil {
		return nil, err
	}
	t, err := template.New(file).Funcs(template.FuncMap{"th": threshold, "carrier_history": carrierHistory,
		"window_start": windowStart, "window_start_min": windowStartMin, "shard": shard,
		"carrier_month_states": schemas.CarrierMonthStates, "summary_events_where": summaryEventsWhere,
		"order_month_states": schemas.OrderMonthStates, "order_events_where": orderEventsWhere,
		"next_midnight": nextMidnight, "recycle_months_min": recycleMonthsMin}).Parse(string(b))
	if err != nil {
		return nil, fmt.Errorf("detector sql %s: %w", file, err)
	}
	return t, nil
}

// carrierHistory is the condition on tracking_events for the carrier events a run
// counts: those that occurred at or before the moment, within the recycle window before
// it (an older event belongs to an earlier parcel with the same number).
func carrierHistory() string {
	return "occurred_at <= {as_of:DateTime64(3, 'UTC')} AND occurred_at >= " + windowStart()
}

// nextMidnight is the first midnight (UTC) after the moment: when counts of days change.
func nextMidnight() string {
	return "toDateTime64(toStartOfDay({as_of:DateTime64(3, 'UTC')}) + toIntervalDay(1), 3, 'UTC')"
}

// recycleMonthsMin is the shortest recycle window any carrier or marketplace has.
func recycleMonthsMin() string {
	return "arrayMin(arrayConcat([{recycle_months:UInt16}], mapValues({recycle_months_by_carrier:Map(String, UInt16)}), " +
		"mapValues({recycle_months_by_marketplace:Map(String, UInt16)})))"
}

// windowStart is the start of the recycle window of a row's carrier.
func windowStart() string {
	return "({as_of:DateTime64(3, 'UTC')} - toIntervalMonth(" + threshold("recycle_months", "carrier", "''") + "))"
}

// windowStartMin is the earliest start of any carrier's recycle window: no row before
// its month can count (the summaries' partitions before it are skipped).
func windowStartMin() string {
	return "({as_of:DateTime64(3, 'UTC')} - toIntervalMonth(greatest({recycle_months:UInt16}, " +
		"arrayMax(arrayConcat([toUInt16(0)], mapValues({recycle_months_by_carrier:Map(String, UInt16)}))))))"
}

// shard is the condition that puts a row in the current pass of a stage: a stage that
// would hold too much in memory at once runs in passes, each over a range of the orders
// (order state) or the tracking numbers (candidates), which the summaries' and the
// events' primary keys start with, so a pass reads only its part of them.
func shard(column string) string {
	return "(" + column + " >= {pass_from:String} AND ({pass_last:Bool} OR " + column + " < {pass_to:String}))"
}

// passRanges splits the keys of column in table (its primary key's first column) into
// at most passes ranges of about as many rows, from the table's primary index (no data
// read): the lower bound of each range after the first.
func passRanges(ctx context.Context, conn driver.Conn, db, table, column string, passes int) ([]string, error) {
	if passes <= 1 {
		return nil, nil
	}
	var marks []struct {
		Key  string `ch:"key"`
		Rows uint64 `ch:"rows"`
	}
	q := "SELECT " + column + " AS key, toUInt64(rows_in_granule) AS rows FROM mergeTreeIndex({db:String}, {table:String}) WHERE rows_in_granule > 0 ORDER BY key"
	if err := conn.Select(ctx, &marks, q, clickhouse.Named("db", db), clickhouse.Named("table", table)); err != nil {
		return nil, fmt.Errorf("%s ranges: %w", table, err)
	}
	var total, seen uint64
	for _, m := range marks {
		total += m.Rows
	}
	var bounds []string
	for _, m := range marks {
		if len(bounds) < passes-1 && seen >= total*uint64(len(bounds)+1)/uint64(passes) && (len(bounds) == 0 || m.Key > bounds[len(bounds)-1]) && m.Key != "" {
			bounds = append(bounds, m.Key)
		}
		seen += m.Rows
	}
	return bounds, nil
}

// orderEventsWhere is the condition on order_events for the events a run summarises
// itself: with summaries, those of the order_months rows that cross the moment; without,
// every event up to it. A scoped run reads only the events of the orders of its scope
// that have a row crossing the moment (from its copy of their rows).
func orderEventsWhere(summaries bool, db string, scoped bool) string {
	crossing := ` AND month <= toStartOfMonth({as_of:DateTime64(3, 'UTC')})
          AND first_event_at <= {as_of:DateTime64(3, 'UTC')} AND last_event_at > {as_of:DateTime64(3, 'UTC')}`
	part, months := shard("order_id"), db+".order_months FINAL"
	if scoped {
		if summaries {
			part += " AND order_id IN (SELECT order_id FROM " + scopeOrderMonths + " WHERE 1" + crossing + ")"
		} else {
			part += " AND order_id IN (SELECT order_id FROM " + scopeOrders + ")"
		}
		months = scopeOrderMonths
	}
	upTo := part + " AND occurred_at <= {as_of:DateTime64(3, 'UTC')}"
	if !summaries {
		return upTo
	}
	return upTo + ` AND (order_id, toStartOfMonth(occurred_at)) IN (
        SELECT order_id, month FROM ` + months + `
        WHERE ` + shard("order_id") + crossing + `)`
}

// summaryEventsWhere is the condition on tracking_events for the events a run
// summarises itself: with summaries, those of the carrier_months rows that cross an edge
// of the window (a row wholly inside is read as stored, one wholly outside not at all);
// without, every event of the window. A scoped run reads only the events of the numbers
// of its scope that have a row crossing an edge (from its copy of their rows): the
// primary key then selects few granules, where naming every number of the scope (a few
// thousand, spread over the whole table) selected a fifth of the events at 100M.
func summaryEventsWhere(summaries bool, db string, scoped bool) string {
	crossing := ` AND month >= toStartOfMonth(` + windowStartMin() + `) AND month <= toStartOfMonth({as_of:DateTime64(3, 'UTC')})
          AND NOT (first_event_at >= ` + windowStart() + ` AND last_event_at <= {as_of:DateTime64(3, 'UTC')})
          AND last_event_at >= ` + windowStart() + ` AND first_event_at <= {as_of:DateTime64(3, 'UTC')}`
	part, months := shard("tracking_number"), db+".carrier_months FINAL"
	if scoped {
		if summaries {
			part += " AND tracking_number IN (SELECT tracking_number FROM " + scopeCarrierMonths + " WHERE 1" + crossing + ")"
		} else {
			part += " AND tracking_number IN (SELECT tracking_number FROM " + scopeNumbers + ")"
		}
		months = scopeCarrierMonths
	}
	if !summaries {
		return part + " AND " + carrierHistory()
	}
	return part + " AND " + carrierHistory() + ` AND (tracking_number, carrier, toStartOfMonth(occurred_at)) IN (
        SELECT tracking_number, carrier, month FROM ` + months + `
        WHERE ` + shard("tracking_number") + crossing + `)`
}

func renderFile(file string, data any) (string, error) {
	t, err := parseSQL(file)
	if err != nil {
		return "", err
	}
	var sb strings.Builder
	if err := t.Execute(&sb, data); err != nil {
		return "", fmt.Errorf("detector sql %s: %w", file, err)
	}
	return stripComments(sb.String()), nil
}

// stripComments drops comment lines and trailing comments: once blocks are joined into
// one statement, a comment would swallow the rest of its line.
func stripComments(sql string) string {
	var lines []string
	for _, l := range strings.Split(sql, "\n") {
		if i := strings.Index(l, " -- "); i >= 0 && !strings.Contains(l[:i], "'") {
			l = l[:i]
		}
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "--") {
			lines = append(lines, l)
		}
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

// queryContext makes column names win over same-named aliases in the detectors' SQL
// (argMax(seller_id, ...) AS seller_id must not capture seller_id elsewhere).
func queryContext(ctx context.Context) context.Context {
	return clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"prefer_column_name_to_alias": 1}))
}

// scopedCandidatesContext is queryContext for a scoped run's candidates: a few thousand
// rows, where planning the statement (every detector's columns and texts) is most of
// the cost, and ClickHouse's previous query analyzer plans it in 0.3 s against 0.8 s
// (measured on 26.7, the same rows either way; the scoped-runs test compares them with
// runs over every order, which keep the current analyzer: their cost is reading, and
// their memory was measured with it). ClickHouse keeps the settings it removes as
// obsolete ones that do nothing, so a server without that analyzer plans it as before.
func scopedCandidatesContext(ctx context.Context) context.Context {
	return clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"prefer_column_name_to_alias": 1, "enable_analyzer": 0}))
}

func (s *Set) args(cfg Config, asOf time.Time) []any {
	return append(cfg.params(), clickhouse.Named("as_of", asOf.UTC()), clickhouse.Named("detectors", s.names),
		clickhouse.Named("event_detectors", s.eventDetectors))
}

// ErrSessionLost is wrapped around an error of a run whose connection to ClickHouse was
// replaced between its statements (the driver closes a connection after an error; the
// server may have restarted), so its temporary tables are gone. (A driver race that
// replaced it after a statement that read rows is handled by store.OpenSession.) The
// run is repeated at the next schedule; a repeat is safe.
var ErrSessionLost = errors.New("the run's ClickHouse session was lost mid-run (its temporary tables went with it); the next run repeats it")

// SessionLost wraps err with ErrSessionLost when it reports one of a run's temporary
// tables missing.
func SessionLost(err error) error {
	if err != nil && strings.Contains(err.Error(), "Unknown table") && strings.Contains(err.Error(), "trackwatch_run_") {
		return fmt.Errorf("%w: %w", ErrSessionLost, err)
	}
	return err
}

// ErrPooledConn is returned when a run is given a pooled connection: the run's stages
// share temporary tables, which exist only on the connection that made them.
var ErrPooledConn = errors.New("a detector run needs a connection of its own (at most one open connection, as store.OpenSession makes): its stages share temporary tables")

// prepare validates cfg and runs stages 1 and 2, leaving the candidates in a temporary
// table on conn. It returns the query parameters for the later stages.
// A scheduled run (mode full or scoped) also writes each evaluated order's next check;
// a scoped one evaluates the orders of its scope only (findScope's tables), in one pass.
func (s *Set) prepare(ctx context.Context, conn driver.Conn, cfg Config, asOf time.Time, mode runMode) ([]any, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if conn.Stats().MaxOpenConns != 1 {
		return nil, ErrPooledConn
	}
	args := s.args(cfg, asOf)
	// the version of the tracking-number verdicts to read: the latest judging run's
	// (ingest.RecheckNumbers), or every verdict before the first run
	var spec string
	var runs uint64
	if err := conn.QueryRow(ctx, "SELECT argMax(spec, finished_at), count() FROM `"+s.db+"`.number_check_runs").Scan(&spec, &runs); err != nil {
		return nil, fmt.Errorf("number check runs: %w", SessionLost(err))
	}
	args = append(args, clickhouse.Named("number_spec", spec), clickhouse.Named("number_spec_any", runs == 0))
	sq := s.stages[variant{!cfg.FromEvents, mode}]
	orders, candidates := sq.orders, sq.candidates
	passes := cfg.Passes
	if mode == modeScoped {
		passes = 1
	}
	if passes == 0 {
		var rows uint64 // a table's row count is in its metadata: no reading
		if err := conn.QueryRow(ctx, "SELECT count() FROM `"+s.db+"`.order_months").Scan(&rows); err != nil {
			return nil, fmt.Errorf("order state: %w", SessionLost(err))
		}
		passes = 1
		if rows > onePassOrders {
			passes = int((rows + ordersPerPass - 1) / ordersPerPass)
		}
	}
	for _, st := range []struct{ what, table, query, summaries, key string }{
		{"order state", ordersTable, orders, "order_months", "order_id"},
		{"candidates", candidatesTable, candidates, "carrier_months", "tracking_number"},
	} {
		start := time.Now()
		if err := conn.Exec(ctx, "DROP TEMPORARY TABLE IF EXISTS "+st.table); err != nil {
			return nil, fmt.Errorf("%s: %w", st.what, err)
		}
		bounds, err := passRanges(ctx, conn, s.db, st.summaries, st.key, passes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", st.what, SessionLost(err))
		}
		engine := "Memory"
		if len(bounds) > 0 {
			// In several passes the run's tables are kept on disk: the order state of
			// every order sorted by number, so that each candidates pass reads its range
			// only, and the candidates. In memory they were most of a run's peak (4.4 GiB
			// at 10M orders; 1.9 GiB on disk, in 10 passes).
			engine = "MergeTree ORDER BY tuple()"
			if st.table == ordersTable {
				engine = "MergeTree ORDER BY tracking_number"
			}
		}
		for pass := range len(bounds) + 1 {
			stmt := "CREATE TEMPORARY TABLE " + st.table + " ENGINE = " + engine + " AS\n" + st.query
			if pass > 0 {
				stmt = "INSERT INTO " + st.table + "\n" + st.query
			}
			from, to := "", ""
			if pass > 0 {
				from = bounds[pass-1]
			}
			if pass < len(bounds) {
				to = bounds[pass]
			}
			passArgs := append(slices.Clone(args), clickhouse.Named("pass_from", from), clickhouse.Named("pass_to", to),
				clickhouse.Named("pass_last", pass == len(bounds)))
			qctx := queryContext(ctx)
			if mode == modeScoped && st.table == candidatesTable {
				qctx = scopedCandidatesContext(ctx)
			}
			if err := conn.Exec(qctx, stmt, passArgs...); err != nil {
				return nil, fmt.Errorf("%s (pass %d of %d): %w", st.what, pass+1, len(bounds)+1, SessionLost(err))
			}
		}
		s.stage(st.what, start)
	}
	if mode != modePlain {
		start := time.Now()
		if err := conn.Exec(ctx, "INSERT INTO `"+s.db+"`.detect_next_checks (detectors, check_at, order_id)\n"+
			"SELECT {set_key:String}, next_check_at, order_id FROM "+candidatesTable+" WHERE detector = '"+nextCheckRow+"'",
			clickhouse.Named("set_key", s.key())); err != nil {
			return nil, fmt.Errorf("next checks: %w", SessionLost(err))
		}
		s.stage("next checks", start)
	}
	return args, nil
}

// When detect.passes is 0 (automatic), a run over up to onePassOrders order summary rows
// is one pass with its tables in memory (fastest; about 0.5 GiB of ClickHouse's memory
// at 1M orders); above, it runs in passes of ordersPerPass rows with its tables on disk:
// at 10M orders ClickHouse's peak stays under 2 GiB (measured: 1.9 GiB, against 4.4 GiB
// in memory in 5 passes; a scheduled run 50 s -> 63 s). Passes of 1M rows peaked at
// 2.3-2.4 GiB once the run also kept every order's next check (a '~next' row per order
// among the candidates); of 500,000, 1.6-1.7 GiB for 8% more time (75.7 s -> 81.8 s).
const (
	onePassOrders = 2_000_000
	ordersPerPass = 500_000
)

// cleanup drops the run's temporary tables; closing the connection would too.
func (s *Set) cleanup(conn driver.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, t := range append([]string{candidatesTable, ordersTable}, scopeTables...) {
		_ = conn.Exec(ctx, "DROP TEMPORARY TABLE IF EXISTS "+t)
	}
}

// Run is one evaluation of a set as of a moment, prepared on a connection of its own:
// the order state and the candidates are in the connection's temporary tables, and
// FindingsSQL reads them. A recorder (alert.Store) embeds FindingsSQL in its own
// statements on Conn, so findings never leave ClickHouse on their way to the alerts
// table; Findings brings them to Go. Close the run when done.
type Run struct {
	set  *Set
	conn driver.Conn
	asOf time.Time
	args []any
	mode runMode
	// a scheduled run's watermark (the server's clock before it read anything) and
	// scope (nil: every order)
	watermark  time.Time
	scope      *scope
	configHash uint64
	fullReason string
}

// Prepare validates cfg and evaluates stages 1 and 2 of the set as of asOf on conn,
// which must be a connection of its own (store.OpenSession).
func (s *Set) Prepare(ctx context.Context, conn driver.Conn, cfg Config, asOf time.Time) (*Run, error) {
	args, err := s.prepare(ctx, conn, cfg, asOf, modePlain)
	if err != nil {
		return nil, fmt.Errorf("detect %s: %w", strings.Join(s.names, ", "), err)
	}
	return &Run{set: s, conn: conn, asOf: asOf, args: args}, nil
}

// Conn is the run's connection: statements that read FindingsSQL run on it.
func (r *Run) Conn() driver.Conn { return r.conn }

// AsOf is the moment the run evaluates.
func (r *Run) AsOf() time.Time { return r.asOf }

// Detectors are the run's detectors, in the order of Names.
func (r *Run) Detectors() []string { return r.set.Names() }

// Args are the query parameters FindingsSQL needs (as_of, the thresholds, detectors).
func (r *Run) Args() []any { return slices.Clone(r.args) }

// FindingsSQL is a SELECT of the run's findings, with the columns of Finding. It reads
// the run's temporary tables, so it runs only on Conn, with Args.
func (r *Run) FindingsSQL() string { return r.set.findings }

// FindingsDraftSQL is FindingsSQL without timelines (empty, with their counts 0) and with
// one more column, timeline_key, a hash of what the number's timeline is built from: a
// recorder hashes a draft to tell which alerts changed, then builds the full findings of
// those alone (FindingsOfSQL). The timelines are most of a run's findings stage.
func (r *Run) FindingsDraftSQL() string { return r.set.findingsDraft }

// FindingsOfSQL is FindingsSQL for the findings whose (detector, order_id,
// tracking_number) are rows of table, a table on Conn.
func (r *Run) FindingsOfSQL(table string) string {
	return strings.ReplaceAll(r.set.findingsOnly, "$only_table", table)
}

// QueryContext prepares ctx for statements that embed FindingsSQL.
func (r *Run) QueryContext(ctx context.Context) context.Context { return queryContext(ctx) }

// Stage reports a stage's duration to the set's OnStage (for a recorder's stages).
func (r *Run) Stage(name string, start time.Time) { r.set.stage(name, start) }

// Findings returns the run's findings, ordered by detector (in the order of Names) and
// order id; the same data and moment always give the same findings.
func (r *Run) Findings(ctx context.Context) ([]Finding, error) {
	start := time.Now()
	var findings []Finding
	q := "SELECT * FROM (\n" + r.set.findings + "\n) ORDER BY indexOf({detectors:Array(String)}, detector), order_id, tracking_number"
	if err := r.conn.Select(queryContext(ctx), &findings, q, r.args...); err != nil {
		return nil, fmt.Errorf("detect %s: findings: %w", strings.Join(r.set.names, ", "), SessionLost(err))
	}
	r.set.stage("findings", start)
	return findings, nil
}

// Close drops the run's temporary tables; closing the connection would too.
func (r *Run) Close() { r.set.cleanup(r.conn) }

// Eval returns the findings of the set's detectors as of asOf (Prepare, Findings,
// Close). conn must be a connection of its own (store.OpenSession).
func (s *Set) Eval(ctx context.Context, conn driver.Conn, cfg Config, asOf time.Time) ([]Finding, error) {
	run, err := s.Prepare(ctx, conn, cfg, asOf)
	if err != nil {
		return nil, err
	}
	defer run.Close()
	return run.Findings(ctx)
}

func (s *Set) stage(name string, start time.Time) {
	if s.OnStage != nil {
		s.OnStage(name, time.Since(start))
	}
}
