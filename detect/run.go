package detect

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"text/template"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/trackwatch/trackwatch/schemas"
	"github.com/trackwatch/trackwatch/sqlfile"
)

// A run evaluates a set of detectors together, in three stages inside ClickHouse:
//
//  1. orders.sql: every shipped order's state as of the moment (and every order with a
//     cancellation request or a refund approval), into a temporary table;
//  2. candidates.sql: each number's carrier summary joined to those orders once, and every
//     detector's flag applied to the joined rows, into a second temporary table;
//  3. findings.sql: timelines for the flagged numbers only, and each detector's severity,
//     recommendation, reason and evidence (a scoped run's, for the detectors that
//     flagged one of its few orders only: planning every detector's texts cost more
//     than running them).
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
	// "candidates", "findings" (Collect), and the stages a consumer names (Findings.Exec).
	OnStage func(stage string, d time.Duration)

	names          []string
	db             string
	stages         map[variant]stageSQL // stages 1 and 2
	journeyless    map[variant]stageSQL // stages 1 and 2 when no order of the run has a journey
	findings       string               // stage 3, SELECT
	findingsDraft  string               // stage 3 without timelines, with timeline_key
	findingsOnly   string               // stage 3 for the rows of a table, the name a placeholder (config hash)
	data           setData              // what the SQL files were rendered with
	only           sync.Map             // table -> stage 3 for its rows (findingsOf)
	eventDetectors []string
	subsets        sync.Map   // detectors found (comma-joined) -> *findingsSQL, for scoped runs
	sellers        bool       // seller_valid_tracking_rate: a stage of its own (sellers.go)
	sellersOnly    bool       // no detector of orders: no order state, no candidates
	vary           *Variation // NewVariedSet; nil for one variant
}

// findingsSQL is stage 3 for the findings of some of a set's detectors only: a scoped
// run's few findings are of a few detectors, and planning every detector's texts was
// most of the stage's cost (the plan grows with the detectors' expressions, not the rows).
type findingsSQL struct {
	all, draft string
	data       setData
	only       sync.Map // table -> stage 3 for its rows
}

// findingsOf is stage 3 for the rows of table, rendered once per table.
func (f *findingsSQL) findingsOf(table string) (string, error) {
	if q, ok := f.only.Load(table); ok {
		return q.(string), nil
	}
	d := f.data
	d.Mode, d.FlaggedRows = "only", onlyRows(table)
	if d.SellerRows != "" {
		d.SellerRows = sellerRows(table)
	}
	q, err := renderFile("findings.sql", d)
	if err != nil {
		return "", err
	}
	f.only.Store(table, q)
	return q, nil
}

// findingsFor is stage 3 for the findings of the detectors named (some of the set's,
// in the order of Names), with the sellers stage's findings when sellers: rendered once
// per combination.
func (s *Set) findingsFor(detectors []string, sellers bool) (*findingsSQL, error) {
	key := fmt.Sprint(strings.Join(detectors, ","), "|", sellers)
	if f, ok := s.subsets.Load(key); ok {
		return f.(*findingsSQL), nil
	}
	f := &findingsSQL{data: s.data}
	f.data.Detectors = nil
	for _, p := range s.data.Detectors {
		if slices.Contains(detectors, p.Name) {
			f.data.Detectors = append(f.data.Detectors, p)
		}
	}
	if len(f.data.Detectors) == 0 { // no findings: any one detector makes valid SQL
		f.data.Detectors = s.data.Detectors[:1]
	}
	var err error
	for _, v := range []struct {
		mode string
		into *string
	}{{"all", &f.all}, {"draft", &f.draft}} {
		f.data.Mode, f.data.FlaggedRows, f.data.SellerRows = v.mode, s.data.Candidates, ""
		if sellers {
			f.data.SellerRows = sellerRows("")
		}
		if *v.into, err = renderFile("findings.sql", f.data); err != nil {
			return nil, err
		}
	}
	s.subsets.Store(key, f)
	return f, nil
}

// part is one detector's contribution to a run, from sql/<name>.sql.
type part struct {
	Name                                       string
	Columns, Flag                              string            // stage 2: over an order joined to its number's summary
	Severity, Recommendation, Reason, Evidence string            // stage 3: over a flagged row (plus timeline)
	Facts                                      string            // stage 3: columns computed once per flagged row, for the texts above
	Reasons                                    map[string]string // the reason per language: "reason" is en, "reason_<lang>" the others
	NeedsEvents                                bool              // stage 3 builds the number's timeline
	NeedsJourney                               bool              // flags only orders with a buyer's journey (order_journey.sql)
	NextCheck                                  string            // stage 2, scheduled runs: the moments the flag or the text can change by time alone
}

// setData is what a set's SQL files are rendered with.
type setData struct {
	DB, Orders, Candidates string
	Detectors              []part
	Reuse                  bool
	Langs                  []string
	Summaries              bool
	Tracked, Scoped        bool
	CarrierSummary         string
	OrderSummary           string
	OrderJourney           string
	Mode, FlaggedRows      string // findings.sql
	// Vary: a varied set (NewVariedSet): every order's row once per variant, with the
	// variant's value in column vary_value, through the detectors' columns, flags and
	// texts (candidates.sql, findings.sql)
	Vary        bool
	Dodged      string // cancel_dodged's condition, for every order (candidates.sql)
	Journeyless bool   // no order has a journey: orders.sql leaves it out
	SellerRows  string // findings.sql: the sellers stage's findings, "" without it
	// a scoped run's tables (findScope)
	ScopeNumbers, ScopeOrderMonths, ScopeCarrierMonths string
}

// NewSet returns the detectors called names (all of them when names is empty) for
// database db, in the order of Names.
func NewSet(db string, names ...string) (*Set, error) { return newSet(db, nil, names) }

func newSet(db string, vary *Variation, names []string) (*Set, error) {
	if len(names) == 0 {
		names = Names
	}
	for _, n := range names {
		if !slices.Contains(Names, n) {
			return nil, fmt.Errorf("unknown detector %q (detectors: %s)", n, strings.Join(Names, ", "))
		}
	}
	s := &Set{db: db, vary: vary}
	varyKey := ""
	if vary != nil {
		varyKey = vary.Key
	}
	var parts []part
	for _, n := range Names { // the canonical order, whatever order names came in
		if !slices.Contains(names, n) {
			continue
		}
		if n == SellerValidTrackingRate { // a stage of its own, no part of the candidates
			if vary != nil { // no threshold of orders changes it: a varied set leaves it out
				continue
			}
			s.names = append(s.names, n)
			s.sellers = true
			continue
		}
		p, err := loadPart(n, varyKey)
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
	flagged := statements.Text("flagged", sqlfile.Data{"Candidates": candidatesTable})
	data := setData{DB: "`" + db + "`", Orders: ordersTable, Candidates: flagged, Detectors: parts,
		ScopeNumbers: scopeNumbers, ScopeOrderMonths: scopeOrderMonths, ScopeCarrierMonths: scopeCarrierMonths,
		Reuse: slices.Contains(s.names, "tracking_reuse"), Langs: ReasonLanguages, Vary: vary != nil}
	dodged, err := parseVaried("cancel_dodged.sql", varyKey)
	if err != nil {
		return nil, err
	}
	if data.Dodged, err = dodged.Render("dodged", nil); err != nil {
		return nil, fmt.Errorf("detector sql cancel_dodged, block dodged: %w", err)
	}
	data.Dodged = stripComments(data.Dodged)
	if s.stages, err = renderStages(data); err != nil {
		return nil, err
	}
	// A run whose orders have no buyer's journey (a scoped run's, most at a moment that
	// is now; every order, where the producers send none, as v1 producers do): stages 1
	// and 2 without the journey and the detectors that need one, which are what the
	// journey costs such a run (planning, for a scoped run; reading, over every order).
	journeyless := data
	journeyless.Journeyless, journeyless.Dodged, journeyless.Detectors = true, "false", nil
	for _, p := range parts {
		if !p.NeedsJourney {
			journeyless.Detectors = append(journeyless.Detectors, p)
		}
	}
	if s.journeyless, err = renderStages(journeyless); err != nil {
		return nil, err
	}
	for _, v := range []struct {
		mode, rows string
		into       *string
		sellers    string
	}{
		{"all", flagged, &s.findings, sellerRows("")},
		{"draft", flagged, &s.findingsDraft, sellerRows("")},
		// for the config hash: the rows of a table named by FindingsOf, with a
		// placeholder for its name
		{"only", onlyRows("$only_table"), &s.findingsOnly, sellerRows("$only_table")},
	} {
		data.Mode, data.FlaggedRows, data.SellerRows = v.mode, v.rows, ""
		if s.sellers {
			data.SellerRows = v.sellers
		}
		if *v.into, err = renderFile("findings.sql", data); err != nil {
			return nil, err
		}
	}
	s.data = data
	if s.sellersOnly = len(parts) == 0; s.sellersOnly {
		for _, v := range []struct {
			rows  string
			draft bool
			into  *string
		}{{sellerRows(""), false, &s.findings}, {sellerRows(""), true, &s.findingsDraft}, {sellerRows("$only_table"), false, &s.findingsOnly}} {
			*v.into = statements.Text("seller_findings", sqlfile.Data{"Rows": v.rows, "Draft": v.draft})
		}
	}
	return s, nil
}

// renderStages renders stages 1 and 2 (orders.sql, candidates.sql) with d, for every
// variant: over the summaries or every event; plain, full or scoped.
func renderStages(d setData) (map[variant]stageSQL, error) {
	out := map[variant]stageSQL{}
	var err error
	for _, summaries := range []bool{true, false} {
		for _, mode := range []runMode{modePlain, modeFull, modeScoped} {
			d.Summaries, d.Tracked, d.Scoped = summaries, mode != modePlain, mode == modeScoped
			var st stageSQL
			if d.OrderSummary, err = renderFile("order_summary.sql", d); err != nil {
				return nil, err
			}
			if d.OrderJourney, err = renderFile("order_journey.sql", d); err != nil {
				return nil, err
			}
			if st.orders, err = renderFile("orders.sql", d); err != nil {
				return nil, err
			}
			if d.CarrierSummary, err = renderFile("carrier_summary.sql", d); err != nil {
				return nil, err
			}
			if st.candidates, err = renderFile("candidates.sql", d); err != nil {
				return nil, err
			}
			out[variant{summaries, mode}] = st
		}
	}
	return out, nil
}

// onlyRows are the candidates whose (detector, order_id, tracking_number) are rows of
// table.
func onlyRows(table string) string {
	return statements.Text("only_rows", sqlfile.Data{"Candidates": candidatesTable, "Table": table})
}

// findingsOf is the findings SQL for the findings whose (detector, order_id,
// tracking_number) are rows of table, a temporary table of the run's session; rendered
// once per table.
func (s *Set) findingsOf(table string) (string, error) {
	if q, ok := s.only.Load(table); ok {
		return q.(string), nil
	}
	if s.sellersOnly {
		q := statements.Text("seller_findings", sqlfile.Data{"Rows": sellerRows(table), "Draft": false})
		s.only.Store(table, q)
		return q, nil
	}
	d := s.data
	d.Mode, d.FlaggedRows = "only", onlyRows(table)
	if s.sellers {
		d.SellerRows = sellerRows(table)
	}
	q, err := renderFile("findings.sql", d)
	if err != nil {
		return "", err
	}
	s.only.Store(table, q)
	return q, nil
}

// Names returns the detectors in the set.
func (s *Set) Names() []string { return slices.Clone(s.names) }

// loadPart reads a detector's file: named blocks of SQL expressions; threshold vary
// (or "") as parseVaried.
func loadPart(name, vary string) (part, error) {
	t, err := parseVaried(name+".sql", vary)
	if err != nil {
		return part{}, err
	}
	block := func(block string, required bool) (string, error) {
		if !slices.Contains(t.Names(), block) {
			if required {
				return "", fmt.Errorf("detector sql %s: no %q block", name, block)
			}
			return "", nil
		}
		sql, err := t.Render(block, nil)
		if err != nil {
			return "", fmt.Errorf("detector sql %s, block %s: %w", name, block, err)
		}
		return stripComments(sql), nil
	}
	p := part{Name: name}
	for _, f := range []struct {
		block    string
		required bool
		into     *string
	}{
		{"columns", false, &p.Columns}, {"flag", true, &p.Flag}, {"next_check", false, &p.NextCheck}, {"severity", true, &p.Severity},
		{"recommendation", true, &p.Recommendation}, {"reason", true, &p.Reason}, {"evidence", true, &p.Evidence},
		{"facts", false, &p.Facts},
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
	if err != nil {
		return part{}, err
	}
	p.NeedsEvents = needs == "true"
	journey, err := block("needs_journey", false)
	p.NeedsJourney = journey == "true"
	return p, err
}

// The fragments the detectors' SQL shares (sql/run/fragments.sql), as template
// functions of ../*.sql.

// threshold is a threshold for a row: its carrier's value, else its marketplace's,
// else the global one.
func threshold(name, carrier, marketplace string) string {
	return statements.Text("th", thresholdData(name, carrier, marketplace))
}

func thresholdData(name, carrier, marketplace string) sqlfile.Data {
	return sqlfile.Data{"Name": name, "Carrier": carrier, "Marketplace": marketplace, "Global": ""}
}

// fragmentData is what the fragments are rendered with.
func fragmentData(summaries bool, db string, scoped bool) sqlfile.Data {
	return sqlfile.Data{"DB": db, "Summaries": summaries, "Scoped": scoped,
		"RecycleMonths": thresholdData("recycle_months", "carrier", "''"),
		"OrderID":       sqlfile.Data{"Column": "order_id"}, "Number": sqlfile.Data{"Column": "tracking_number"},
		"ScopeOrders": scopeOrders, "ScopeOrderMonths": scopeOrderMonths,
		"ScopeNumbers": scopeNumbers, "ScopeCarrierMonths": scopeCarrierMonths}
}

func fragment(name string) func() string {
	return func() string { return statements.Text(name, fragmentData(false, "", false)) }
}

func shard(column string) string { return statements.Text("shard", sqlfile.Data{"Column": column}) }

func orderEventsWhere(summaries bool, db string, scoped bool) string {
	return statements.Text("order_events_where", fragmentData(summaries, db, scoped))
}

func journeyEventsWhere(summaries bool, db string, scoped bool) string {
	return statements.Text("journey_events_where", fragmentData(summaries, db, scoped))
}

func summaryEventsWhere(summaries bool, db string, scoped bool) string {
	return statements.Text("summary_events_where", fragmentData(summaries, db, scoped))
}

// parseSQL parses one of the detectors' SQL files (sql/*.sql) with the shared fragments
// as template functions.
func parseSQL(file string) (*sqlfile.Set, error) { return parseVaried(file, "") }

// parseVaried is parseSQL where threshold vary (a key of thresholds, or "") reads its
// global value from the column vary_value, the row's variant's (NewVariedSet).
func parseVaried(file, vary string) (*sqlfile.Set, error) {
	th := threshold
	if vary != "" {
		th = func(name, carrier, marketplace string) string {
			d := thresholdData(name, carrier, marketplace)
			if name == vary {
				d["Global"] = varyColumn
			}
			return statements.Text("th", d)
		}
	}
	set, err := sqlfile.Parse(sqlFiles, "sql/"+file, template.FuncMap{"th": th,
		"carrier_history": fragment("carrier_history"), "window_start": fragment("window_start"),
		"window_start_min": fragment("window_start_min"), "shard": shard,
		"carrier_month_states": schemas.CarrierMonthStates, "summary_events_where": summaryEventsWhere,
		"order_month_states": schemas.OrderMonthStates, "order_events_where": orderEventsWhere,
		"journey_events_where": journeyEventsWhere,
		"next_midnight":        fragment("next_midnight"), "recycle_months_min": fragment("recycle_months_min"),
		"journey_pack": fragment("journey_pack"), "journey_columns": fragment("journey_columns"), "journey_names": fragment("journey_names")})
	if err != nil {
		return nil, fmt.Errorf("detector sql %s: %w", file, err)
	}
	return set, nil
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
	q := statements.Text("pass_ranges", sqlfile.Data{"Column": column})
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

func renderFile(file string, data any) (string, error) {
	t, err := parseSQL(file)
	if err != nil {
		return "", err
	}
	sql, err := t.Render(file, data)
	if err != nil {
		return "", fmt.Errorf("detector sql %s: %w", file, err)
	}
	return stripComments(sql), nil
}

// stripComments drops comment lines and trailing comments: once blocks are joined into
// one statement, a comment would swallow the rest of its line.
func stripComments(sql string) string { return sqlfile.StripComments(sql) }

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
	out := append(cfg.params(), clickhouse.Named("as_of", asOf.UTC()), clickhouse.Named("detectors", s.names),
		clickhouse.Named("event_detectors", s.eventDetectors))
	if s.vary != nil {
		values := make([]uint16, len(s.vary.Values))
		for i, v := range s.vary.Values {
			values[i] = uint16(v)
		}
		out = append(out, clickhouse.Named("vary_values", values))
	}
	return out
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
// With sellers false, the sellers stage evaluates no seller (a scoped run within the
// hour of the previous run: scopeSellers).
// It reports whether the run left the buyer's journey out (no order of it has one).
func (s *Set) prepare(ctx context.Context, conn driver.Conn, cfg Config, asOf time.Time, mode runMode, sellers bool) (args []any, journeyless bool, err error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, false, err
	}
	if conn.Stats().MaxOpenConns != 1 {
		return nil, false, ErrPooledConn
	}
	args = s.args(cfg, asOf)
	// the version of the tracking-number verdicts to read: the latest judging run's
	// (rebuild.Numbers), or every verdict before the first run
	var spec string
	var runs uint64
	if err := conn.QueryRow(ctx, statements.In(s.db, "number_spec")).Scan(&spec, &runs); err != nil {
		return nil, false, fmt.Errorf("number check runs: %w", SessionLost(err))
	}
	args = append(args, clickhouse.Named("number_spec", spec), clickhouse.Named("number_spec_any", runs == 0))
	sq := s.stages[variant{!cfg.FromEvents, mode}]
	// the month rows hold every event's journey, whenever it occurred: with none among
	// the run's orders (a scoped run's) or at all, the run leaves the journey out, exactly
	q := statements.In(s.db, "any_journey")
	if mode == modeScoped {
		q = statements.Text("scope_journeys", scopeData(s.db))
	}
	var journeys uint64
	if err := conn.QueryRow(ctx, q).Scan(&journeys); err != nil {
		return nil, false, fmt.Errorf("journeys: %w", SessionLost(err))
	}
	if journeyless = journeys == 0; journeyless {
		sq = s.journeyless[variant{!cfg.FromEvents, mode}]
	}
	orders, candidates := sq.orders, sq.candidates
	passes := cfg.Passes
	if mode == modeScoped {
		passes = 1
	}
	if passes == 0 {
		var rows uint64 // a table's row count is in its metadata: no reading
		if err := conn.QueryRow(ctx, statements.In(s.db, "count_order_months")).Scan(&rows); err != nil {
			return nil, false, fmt.Errorf("order state: %w", SessionLost(err))
		}
		passes = 1
		if rows > onePassOrders {
			passes = int((rows + ordersPerPass - 1) / ordersPerPass)
		}
	}
	stages := []struct{ what, table, query, summaries, key string }{
		{"order state", ordersTable, orders, "order_months", "order_id"},
		{"candidates", candidatesTable, candidates, "carrier_months", "tracking_number"},
	}
	if s.sellersOnly {
		stages = nil
	}
	for _, st := range stages {
		start := time.Now()
		if err := dropTemporary(ctx, conn, st.table); err != nil {
			return nil, false, fmt.Errorf("%s: %w", st.what, err)
		}
		bounds, err := passRanges(ctx, conn, s.db, st.summaries, st.key, passes)
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", st.what, SessionLost(err))
		}
		// In several passes the run's tables are kept on disk: the order state of every
		// order sorted by number, so that each candidates pass reads its range only, and
		// the candidates. In memory they were most of a run's peak (4.4 GiB at 10M
		// orders; 1.9 GiB on disk, in 10 passes).
		table := sqlfile.Data{"Table": st.table, "Query": st.query, "OnDisk": len(bounds) > 0, "SortKey": ""}
		if st.table == ordersTable {
			table["SortKey"] = "tracking_number"
		}
		for pass := range len(bounds) + 1 {
			stmt := statements.Text("create_stage", table)
			if pass > 0 {
				stmt = statements.Text("insert_stage", table)
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
				return nil, false, fmt.Errorf("%s (pass %d of %d): %w", st.what, pass+1, len(bounds)+1, SessionLost(err))
			}
		}
		s.stage(st.what, start)
	}
	if s.sellers {
		if err := s.evaluateSellers(ctx, conn, cfg, args, sellers); err != nil {
			return nil, false, err
		}
	}
	if mode != modePlain && !s.sellersOnly {
		start := time.Now()
		if err := conn.Exec(ctx, statements.Text("next_checks", sqlfile.DB(s.db).With("Candidates", candidatesTable)),
			clickhouse.Named("set_key", s.key())); err != nil {
			return nil, false, fmt.Errorf("next checks: %w", SessionLost(err))
		}
		s.stage("next checks", start)
	}
	return args, journeyless, nil
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
	for _, t := range append([]string{sellersTable, sellerOrdersTable, candidatesTable, ordersTable}, scopeTables...) {
		_ = dropTemporary(ctx, conn, t)
	}
}

func dropTemporary(ctx context.Context, conn driver.Conn, table string) error {
	return conn.Exec(ctx, statements.Text("drop_temporary", sqlfile.Data{"Table": table}))
}

// run is one evaluation of a set as of a moment, prepared on a connection of its own:
// the order state and the candidates are in the connection's temporary tables, and the
// set's findings SQL reads them (Evaluate hands them to consumers as Findings).
type run struct {
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
	// a scoped run's stage 3, for the detectors it found only, or a run's that left the
	// journey out, without the detectors that need one (nil: the set's)
	subset *findingsSQL
	// no order of the run has a buyer's journey: stages 1 and 2 left it out
	journeyless bool
}

// preparePlain validates cfg and evaluates stages 1 and 2 of the set as of asOf on conn.
func (s *Set) preparePlain(ctx context.Context, conn driver.Conn, cfg Config, asOf time.Time) (*run, error) {
	args, journeyless, err := s.prepare(ctx, conn, cfg, asOf, modePlain, true)
	if err != nil {
		return nil, fmt.Errorf("detect %s: %w", strings.Join(s.names, ", "), err)
	}
	return &run{set: s, conn: conn, asOf: asOf, args: args, journeyless: journeyless}, nil
}

func (s *Set) stage(name string, start time.Time) {
	if s.OnStage != nil {
		s.OnStage(name, time.Since(start))
	}
}
