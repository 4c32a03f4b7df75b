package detect

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/trackwatch/trackwatch/sqlfile"
)

// Mode is how Evaluate evaluates a set.
type Mode int

const (
	// Plain evaluates every order as of the moment and leaves no trace: a one-off run,
	// a backtest's step.
	Plain Mode = iota
	// Scheduled evaluates only what can have changed since the set's previous scheduled
	// run when that run can be built on (else every order), writes the next checks of
	// the orders it evaluates, and, once every consumer has taken the findings, marks
	// the run as the one the next builds on.
	Scheduled
)

// A Consumer takes a run's findings where they are: in the temporary tables of the run's
// ClickHouse session. alert.Store records them as alerts, a backtest copies them into its
// history, Collect brings them to Go. A consumer's error ends the evaluation.
type Consumer func(ctx context.Context, f *Findings) error

// Evaluation says what Evaluate evaluated.
type Evaluation struct {
	// Scoped: a scheduled run over the orders that can have changed (Orders of them),
	// not every order.
	Scoped bool
	Orders int
	// FullReason says why a scheduled run evaluated every order ("" for a scoped or a
	// plain run).
	FullReason string
}

// String describes the orders evaluated, for logs.
func (e Evaluation) String() string {
	if e.Scoped {
		return fmt.Sprintf("%d orders that can have changed", e.Orders)
	}
	if e.FullReason != "" {
		return "every order (" + e.FullReason + ")"
	}
	return "every order"
}

// Evaluate evaluates the set as of asOf in session, a connection of its own
// (store.OpenSession: a run's stages share temporary tables), and hands the findings to
// each consumer in turn; a scheduled run is committed once they all succeeded. The
// run's temporary tables are dropped before it returns. This is the one way a run is
// made: the schedule, `trackwatch detect`, backtests and the benchmarks all call it.
func (s *Set) Evaluate(ctx context.Context, session driver.Conn, cfg Config, asOf time.Time, mode Mode, consumers ...Consumer) (Evaluation, error) {
	var r *run
	var err error
	if mode == Scheduled && s.vary != nil {
		return Evaluation{}, fmt.Errorf("detect %s: a varied set (detect.%s) evaluates plain runs only", strings.Join(s.names, ", "), s.vary.Key)
	}
	if mode == Scheduled {
		r, err = s.prepareScheduled(ctx, session, cfg, asOf)
	} else {
		r, err = s.preparePlain(ctx, session, cfg, asOf)
	}
	if err != nil {
		return Evaluation{}, err
	}
	defer s.cleanup(session)
	ev := Evaluation{FullReason: r.fullReason}
	if r.mode == modeScoped {
		ev.Scoped, ev.Orders = true, int(r.scope.orders)
		// (a set of the sellers' detector alone has no candidates: its findings are all)
		if !s.sellersOnly {
			if r.subset, err = s.foundSubset(ctx, r); err != nil {
				return ev, err
			}
		}
	} else if r.journeyless && !s.sellersOnly {
		// the candidates have no column of the detectors that need a journey
		var names []string
		for _, p := range s.data.Detectors {
			if !p.NeedsJourney {
				names = append(names, p.Name)
			}
		}
		if r.subset, err = s.findingsFor(names, s.sellers); err != nil {
			return ev, err
		}
	}
	f := &Findings{run: r, stages: map[string]time.Duration{}}
	defer f.reportStages()
	for _, consume := range consumers {
		if err := consume(ctx, f); err != nil {
			return ev, err
		}
	}
	return ev, r.commit(ctx)
}

// foundSubset is stage 3 for the detectors that flagged an order of a scoped run: its
// findings are few, and stage 3 for every detector cost more to plan than to run.
func (s *Set) foundSubset(ctx context.Context, r *run) (*findingsSQL, error) {
	start := time.Now()
	var found []string
	rows, err := r.conn.Query(ctx, statements.Text("found_detectors", sqlfile.Data{"Candidates": candidatesTable}))
	if err != nil {
		return nil, fmt.Errorf("detectors found: %w", SessionLost(err))
	}
	defer rows.Close()
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			return nil, err
		}
		found = append(found, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("detectors found: %w", SessionLost(err))
	}
	slices.SortFunc(found, func(a, b string) int { return cmp.Compare(slices.Index(s.names, a), slices.Index(s.names, b)) })
	f, err := s.findingsFor(found, s.sellers && r.scope.sellers)
	s.stage("detectors found", start)
	return f, err
}

// Eval returns the findings of the set's detectors as of asOf (Evaluate, Plain, Collect).
func (s *Set) Eval(ctx context.Context, session driver.Conn, cfg Config, asOf time.Time) ([]Finding, error) {
	var out []Finding
	_, err := s.Evaluate(ctx, session, cfg, asOf, Plain, Collect(&out))
	return out, err
}

// Collect is a consumer that reads the findings into *dst, ordered by detector (in the
// order of Names), order id and number, seller and marketplace; the same data and moment always give the same
// findings.
func Collect(dst *[]Finding) Consumer {
	return func(ctx context.Context, f *Findings) error {
		q, err := statements.Render("collect", f.Data(f.run.set.db))
		if err != nil {
			return err
		}
		if err := f.Select(ctx, "findings", dst, q); err != nil {
			return fmt.Errorf("detect %s: findings: %w", strings.Join(f.run.set.names, ", "), err)
		}
		return nil
	}
}

// SortFindings orders findings as Collect does: by detector (in the order of Names),
// order id and number, seller and marketplace; findings gathered from several runs (a cluster's shards) then
// read as one run's.
func SortFindings(fs []Finding) {
	slices.SortFunc(fs, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(slices.Index(Names, a.Detector), slices.Index(Names, b.Detector)),
			strings.Compare(a.OrderID, b.OrderID), strings.Compare(a.TrackingNumber, b.TrackingNumber),
			strings.Compare(a.SellerID, b.SellerID), strings.Compare(a.Marketplace, b.Marketplace))
	})
}

// Findings are a run's findings in the temporary tables of its session, for a consumer:
// it renders its statements with Data, which embeds the findings, and runs them with
// Exec and Select, on the run's session and with the run's parameters.
type Findings struct {
	run    *run
	stages map[string]time.Duration // a consumer's stages, summed
	order  []string
}

// AsOf is the moment the run evaluated.
func (f *Findings) AsOf() time.Time { return f.run.asOf }

// Database is the database the run evaluated: on a cluster, the node's local one,
// where the node's alerts are recorded too.
func (f *Findings) Database() string { return f.run.set.db }

// Detectors are the run's detectors, in the order of Names.
func (f *Findings) Detectors() []string { return f.run.set.Names() }

// Scoped reports whether the run evaluated only the orders that can have changed: a
// consumer then changes what it keeps for those orders alone (see Data's ScopeOf).
func (f *Findings) Scoped() bool { return f.run.mode == modeScoped }

// Data is the sqlfile data a consumer's statements are rendered with, for database db:
//
//	{{.DB}}                       the database
//	({{.Findings}})               every finding, with the columns of Finding
//	({{.Drafts}})                 every finding without its timeline (empty, counts 0) and
//	                              with timeline_key, a hash of what the timeline is built
//	                              from: most of a run's findings stage is the timelines
//	({{call .FindingsOf "t"}})    the findings in full whose (detector, order_id,
//	                              tracking_number) are rows of temporary table t
//	{{call .ScopeOf "order_id"}}  a condition on an order id column for the orders a
//	                              scoped run evaluated ("" when it evaluated every order)
//	{{.Scoped}}                   Scoped
func (f *Findings) Data(db string) sqlfile.Data {
	r := f.run
	if r.subset != nil {
		return sqlfile.Data{
			"DB":         sqlfile.Ident(db),
			"Findings":   r.subset.all,
			"Drafts":     r.subset.draft,
			"FindingsOf": r.subset.findingsOf,
			"ScopeOf":    r.scopeCondition,
			"Scoped":     f.Scoped(),
		}
	}
	return sqlfile.Data{
		"DB":         sqlfile.Ident(db),
		"Findings":   r.set.findings,
		"Drafts":     r.set.findingsDraft,
		"FindingsOf": r.set.findingsOf,
		"ScopeOf":    r.scopeCondition,
		"Scoped":     f.Scoped(),
	}
}

// Exec runs a statement on the run's session with the run's parameters (as_of, the
// thresholds, detectors) and args. Its time counts toward stage (reported to the set's
// OnStage); an error says when the session, and the findings with it, was lost
// (ErrSessionLost).
func (f *Findings) Exec(ctx context.Context, stage, query string, args ...any) error {
	start := time.Now()
	err := f.run.conn.Exec(queryContext(ctx), query, f.args(args)...)
	f.count(stage, start)
	return SessionLost(err)
}

// Select runs a query as Exec does and scans its rows into dest (a pointer to a slice
// of structs, as driver.Conn's Select).
func (f *Findings) Select(ctx context.Context, stage string, dest any, query string, args ...any) error {
	start := time.Now()
	err := f.run.conn.Select(queryContext(ctx), dest, query, f.args(args)...)
	f.count(stage, start)
	return SessionLost(err)
}

func (f *Findings) args(extra []any) []any {
	return append(slices.Clone(f.run.args), extra...)
}

func (f *Findings) count(stage string, start time.Time) {
	if stage == "" {
		return
	}
	if _, ok := f.stages[stage]; !ok {
		f.order = append(f.order, stage)
	}
	f.stages[stage] += time.Since(start)
}

func (f *Findings) reportStages() {
	for _, name := range f.order {
		f.run.set.stage(name, time.Now().Add(-f.stages[name]))
	}
}
