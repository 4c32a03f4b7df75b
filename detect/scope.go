package detect

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/trackwatch/trackwatch/sqlfile"
)

// A scheduled run costs what changed since the previous one. Most orders' findings
// cannot change between two runs a few minutes apart: nothing new was stored about them
// and no time-based condition of theirs crossed its threshold. A scoped run evaluates
// only the others:
//
//   - the orders with an order event, and the orders that ever named a number with a
//     carrier event, stored since the previous run's watermark (detect_changes, kept at
//     insert; late events included) or occurring since the previous run's moment (an
//     event stored earlier but dated after it);
//   - the orders whose next check (detect_next_checks: the earliest moment a detector's
//     condition, or the text of its alert, can change by time alone, written for every
//     order a scheduled run evaluates) has come;
//   - and, for tracking_reuse, every order that ever named a number one of those orders
//     ever named.
//
// The alert store records a scoped run's findings for the orders it evaluated only
// (Findings.Data's ScopeOf); every other alert stays as it is, which is what a run over every
// order would find for it. A run over every order (mode full) starts the chain: the
// first scheduled run, the first after the detectors' SQL or thresholds change, after
// stored history was changed in place, after a gap of more than a week, and every
// detect.full_run_every (default 24h); detect.always_full makes every run one.
// detect_checkpoints records each recorded run (run.commit, once its consumers succeeded).

// runMode is what a run evaluates and keeps.
type runMode int

const (
	modePlain  runMode = iota // every order; nothing kept (detect --once, backtests)
	modeFull                  // a scheduled run over every order: next checks kept
	modeScoped                // a scheduled run over what can have changed
)

// variant names the SQL of stages 1 and 2 for a run.
type variant struct {
	summaries bool
	mode      runMode
}

// stageSQL is the SQL of stages 1 and 2.
type stageSQL struct{ orders, candidates string }

const (
	// maxScopedGap: a previous run older than this (by the server's clock) is not built
	// on; detect_changes keeps 30 days.
	maxScopedGap = 7 * 24 * time.Hour
	// maxScopedOrders: a scope of more orders runs over every order instead (after a
	// backfill, say): one pass over everything is cheaper than looking up that many.
	maxScopedOrders = 250_000
)

// Temporary tables of a scoped run (findScope), on the run's connection.
const (
	scopeChanged       = "trackwatch_run_changed"       // kind, key: what changed
	scopeBase          = "trackwatch_run_scope_base"    // order_id: orders whose own events, numbers or next checks changed
	scopeNumbers       = "trackwatch_run_scope_numbers" // tracking_number: every number those ever named, and the changed numbers
	scopeOrders        = "trackwatch_run_scope_orders"  // order_id: base and every order that ever named one of those numbers
	scopeOrderMonths   = "trackwatch_run_scope_order_months"
	scopeCarrierMonths = "trackwatch_run_scope_carrier_months"
)

// scopeTables are the scope's tables, in the order they are dropped.
var scopeTables = []string{scopeCarrierMonths, scopeOrderMonths, scopeOrders, scopeNumbers, scopeBase, scopeChanged}

// scope is the size of what a scoped run evaluates: the orders of scopeOrders (their
// state; the findings are those of the ones on scopeNumbers).
type scope struct {
	orders uint64
	// the run evaluates the sellers (scopeSellers), and their alerts are in its scope
	sellers bool
}

// key names the set in detect_next_checks and detect_checkpoints.
func (s *Set) key() string { return strings.Join(s.names, ",") }

// configHash identifies what a run computes: the set's SQL and cfg's thresholds (cfg
// validated). A change makes the next scheduled run a full one.
func (s *Set) configHash(cfg Config) uint64 {
	h := fnv.New64a()
	variants := make([]variant, 0, len(s.stages))
	for v := range s.stages {
		variants = append(variants, v)
	}
	slices.SortFunc(variants, func(a, b variant) int {
		if a.summaries != b.summaries {
			if a.summaries {
				return -1
			}
			return 1
		}
		return int(a.mode) - int(b.mode)
	})
	for _, v := range variants {
		fmt.Fprint(h, s.stages[v].orders, "\x00", s.stages[v].candidates, "\x00")
	}
	fmt.Fprint(h, s.findings, "\x00", s.findingsDraft, "\x00", s.findingsOnly, "\x00")
	if s.sellers {
		sql, _ := sqlFiles.ReadFile("sql/" + SellerValidTrackingRate + ".sql")
		fmt.Fprint(h, string(sql), "\x00")
	}
	var params []string // in a stable order (params ranges over maps)
	for _, p := range cfg.params() {
		params = append(params, fmt.Sprintf("%v", p))
	}
	slices.Sort(params)
	fmt.Fprint(h, strings.Join(params, "\x00"))
	return h.Sum64()
}

// checkpoint is the latest recorded scheduled run of a set, or a reset.
type checkpoint struct {
	Rows       uint64    `ch:"n"`
	Detectors  string    `ch:"d"`
	ConfigHash uint64    `ch:"h"`
	AsOf       time.Time `ch:"a"`
	Watermark  time.Time `ch:"w"`
	LastFull   time.Time `ch:"last_full"`
}

// prepareScheduled prepares a scheduled run as of asOf on conn (a connection of its
// own): scoped to what can have changed since the set's previous recorded run when
// that run can be built on, else over every order. Either way it writes the next
// checks of the orders it evaluates. After the run is recorded, Commit marks it as the
// one the next run builds on.
func (s *Set) prepareScheduled(ctx context.Context, conn driver.Conn, cfg Config, asOf time.Time) (*run, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("detect %s: %w", s.key(), err)
	}
	fail := func(what string, err error) (*run, error) {
		return nil, fmt.Errorf("detect %s: %s: %w", strings.Join(s.names, ", "), what, SessionLost(err))
	}
	start := time.Now()
	var watermark time.Time // the server's clock, which stamps ingested_at
	if err := conn.QueryRow(ctx, statements.Text("watermark", nil)).Scan(&watermark); err != nil {
		return fail("scope", err)
	}
	hash := s.configHash(cfg)
	r := &run{set: s, conn: conn, asOf: asOf, mode: modeFull, watermark: watermark, configHash: hash}
	if cfg.AlwaysFull {
		r.fullReason = "detect.always_full"
	} else {
		var cp checkpoint
		if err := conn.QueryRow(ctx, statements.In(s.db, "checkpoint"),
			clickhouse.Named("set_key", s.key()), clickhouse.Named("hash", hash)).ScanStruct(&cp); err != nil {
			return fail("previous run", err)
		}
		switch {
		case cp.Rows == 0:
			r.fullReason = "no previous run"
		case cp.Detectors == "":
			r.fullReason = "stored history was changed in place"
		case cp.ConfigHash != hash:
			r.fullReason = "the detectors or their thresholds changed"
		case asOf.Before(cp.AsOf):
			r.fullReason = "a moment before the previous run's"
		case watermark.Sub(cp.Watermark) > maxScopedGap:
			r.fullReason = "the previous run is more than a week old"
		case asOf.Sub(cp.LastFull) >= cfg.FullRunEvery:
			r.fullReason = "detect.full_run_every"
		default:
			sc, err := s.findScope(ctx, conn, cp, asOf, cfg.ChangeMargin)
			if err != nil {
				return fail("scope", err)
			}
			if sc == nil {
				r.fullReason = fmt.Sprintf("more than %d orders changed", maxScopedOrders)
			} else {
				r.mode, r.scope = modeScoped, sc
				sc.sellers = s.sellers && scopeSellers(cp.AsOf, asOf)
			}
		}
	}
	s.stage("scope", start)
	args, journeyless, err := s.prepare(ctx, conn, cfg, asOf, r.mode, r.scope == nil || r.scope.sellers)
	if err != nil {
		return nil, fmt.Errorf("detect %s: %w", strings.Join(s.names, ", "), err)
	}
	r.args, r.journeyless = args, journeyless
	return r, nil
}

// findScope builds the scope of a run as of asOf after the run of cp in the
// connection's temporary tables (scopeTables), with a copy of the summary rows of its
// orders and numbers, merged (reading the summaries FINAL and filtered by a temporary
// table fails in ClickHouse 26.7 at scale). It returns nil, with no table left, when the
// scope is more than maxScopedOrders orders.
func (s *Set) findScope(ctx context.Context, conn driver.Conn, cp checkpoint, asOf time.Time, margin time.Duration) (*scope, error) {
	args := []any{clickhouse.Named("since_ingested", cp.Watermark.Add(-max(margin, 0))), clickhouse.Named("since", cp.AsOf),
		clickhouse.Named("as_of", asOf.UTC()), clickhouse.Named("set_key", s.key())}
	for _, t := range scopeTables {
		if err := dropTemporary(ctx, conn, t); err != nil {
			return nil, err
		}
	}
	data := scopeData(s.db)
	for _, st := range []struct{ what, name string }{
		{"changes", "scope_changes"}, {"orders on changed numbers", "scope_base"},
		{"their numbers", "scope_numbers"}, {"the orders on those", "scope_orders"},
	} {
		if err := conn.Exec(ctx, statements.Text(st.name, data), args...); err != nil {
			return nil, fmt.Errorf("%s: %w", st.what, err)
		}
	}
	var sc scope
	if err := conn.QueryRow(ctx, statements.Text("scope_size", data)).Scan(&sc.orders); err != nil {
		return nil, fmt.Errorf("scope size: %w", err)
	}
	if sc.orders > maxScopedOrders {
		s.cleanup(conn)
		return nil, nil
	}
	for _, st := range []struct{ what, name string }{
		{"order summaries", "scope_order_months"}, {"carrier summaries", "scope_carrier_months"},
	} {
		if err := conn.Exec(queryContext(ctx), statements.Text(st.name, data)); err != nil {
			return nil, fmt.Errorf("%s: %w", st.what, err)
		}
	}
	return &sc, nil
}

// scopeData names a scoped run's tables for its statements.
func scopeData(db string) sqlfile.Data {
	return sqlfile.DB(db).With("Changed", scopeChanged).With("Base", scopeBase).With("Numbers", scopeNumbers).
		With("Orders", scopeOrders).With("OrderMonths", scopeOrderMonths).With("CarrierMonths", scopeCarrierMonths).
		With("RunOrders", ordersTable)
}

// scopeCondition is a condition on an order id column for the orders whose findings a
// scoped run evaluated (a consumer changes what it keeps of those only), or "" when the
// run evaluated every order. It reads the run's temporary tables: only on its session.
func (r *run) scopeCondition(column string) string {
	if r.mode != modeScoped {
		return ""
	}
	if r.set.sellersOnly {
		return statements.Text("seller_scope_condition", sqlfile.Data{"Column": column, "Sellers": r.scope.sellers})
	}
	return statements.Text("scope_condition", scopeData(r.set.db).With("Column", column).With("Sellers", r.scope.sellers))
}

// commit records a scheduled run, once its findings are consumed, as the run the next
// one builds on. A run that failed before it is built on by none: the next run reads
// the changes since the last committed one.
func (r *run) commit(ctx context.Context) error {
	if r.mode == modePlain {
		return nil
	}
	if err := r.conn.Exec(ctx, statements.In(r.set.db, "commit"),
		clickhouse.Named("set_key", r.set.key()), clickhouse.Named("hash", r.configHash), clickhouse.Named("as_of", r.asOf.UTC()),
		clickhouse.Named("watermark", r.watermark), clickhouse.Named("full", r.mode == modeFull)); err != nil {
		return fmt.Errorf("detect %s: commit the run: %w", r.set.key(), err)
	}
	return nil
}
