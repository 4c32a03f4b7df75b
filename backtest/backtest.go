// Package backtest evaluates the detectors as of every step of a past period over the
// stored history, keeps each step's findings in alert_history (apart from the live
// alerts), and reports per detector how many alerts each step raised and how early the
// first alert came for orders that ended in a dispute, a refund or a cancellation. A
// comparison (Runner.Vary) does so for several values of one detector setting over the
// same steps, sharing each step's run among them where the setting allows.
package backtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/trackwatch/trackwatch/alert"
	"github.com/trackwatch/trackwatch/detect"
	"github.com/trackwatch/trackwatch/store"
)

// Options select a backtest. From, To and Step are required: steps are From, From+Step,
// ... up to and including To.
type Options struct {
	From, To time.Time
	Step     time.Duration
	// Detectors to evaluate; empty: all of them.
	Detectors []string
	// Parallel steps evaluated at once, each on a session of its own. Default 2.
	Parallel int
	// Notify also records each step's findings as live alerts, in time order, so
	// that their changes reach the receivers. Off by default: a backtest of the past
	// must not page anyone. (Alerts are versioned by the moment evaluated: in a database
	// with later live runs, past steps change nothing.)
	Notify bool
}

// Validate checks the options, naming the offending flag.
func (o *Options) Validate() error {
	if o.Parallel == 0 {
		o.Parallel = 2
	}
	switch {
	case o.From.IsZero() || o.To.IsZero():
		return errors.New("--from and --to are required")
	case o.To.Before(o.From):
		return fmt.Errorf("--to %s is before --from %s", o.To.Format(time.RFC3339), o.From.Format(time.RFC3339))
	case o.Step < time.Minute:
		return fmt.Errorf("--step %s is below 1m", o.Step)
	case o.Parallel < 1 || o.Parallel > 16:
		return fmt.Errorf("--parallel %d is out of range 1..16", o.Parallel)
	}
	if n := o.To.Sub(o.From)/o.Step + 1; n > 10_000 {
		return fmt.Errorf("%d steps: more than 10000 (use a longer --step)", n)
	}
	for _, d := range o.Detectors {
		if !slices.Contains(detect.Names, d) {
			return fmt.Errorf("--detector %q is not one of %s", d, strings.Join(detect.Names, ", "))
		}
	}
	return nil
}

// Steps are the moments evaluated.
func (o Options) Steps() []time.Time {
	var out []time.Time
	for t := o.From.UTC(); !t.After(o.To); t = t.Add(o.Step) {
		out = append(out, t)
	}
	return out
}

// ID names the backtest by what it evaluates: the same period, step and detectors
// replace an earlier backtest's history.
func (o Options) ID() string {
	d := slices.Clone(o.Detectors)
	slices.Sort(d)
	h := sha256.Sum256(fmt.Appendf(nil, "%s|%s|%d|%s", o.From.UTC().Format(time.RFC3339Nano), o.To.UTC().Format(time.RFC3339Nano), int64(o.Step/time.Second), strings.Join(d, ",")))
	return hex.EncodeToString(h[:8])
}

// Runner runs backtests against one ClickHouse database, or a cluster's.
type Runner struct {
	// Conn is a pooled connection for the history and the report; Session opens a
	// connection of its own for one step's detector run.
	Conn     driver.Conn
	Session  func(context.Context) (driver.Conn, error)
	Database string
	Config   detect.Config
	Logger   *slog.Logger
	// Nodes, on a sharded cluster, are its servers, as the scheduled runs get them:
	// each step evaluates, on the first replica of each shard, that shard's orders in
	// the node's database NodeDatabase (the local one), and keeps the findings there
	// (alert_history is per shard); Conn then reads the record and the report through
	// the cluster-facing Database, across the shards. Session is unused.
	Nodes        []detect.Node
	NodeDatabase string
	// Progress is told after each step; nil reports nothing.
	Progress func(done, total int, asOf time.Time, findings uint64)
	// RetryDelay is the wait before a step's second attempt, doubled before each later
	// one, when it failed for a passing reason (store.Retryable: a server restarting, a
	// timeout, a replica away); a step is tried StepAttempts times in all. Default 1s.
	RetryDelay time.Duration
}

// StepAttempts bounds the attempts of one step (on a cluster, of one shard's part of it).
const StepAttempts = 4

// Result is what a backtest did.
type Result struct {
	ID       string        `json:"backtest_id"`
	Steps    int           `json:"steps"`
	Findings uint64        `json:"findings"`
	Took     time.Duration `json:"-"`
	// StepSeconds is each step's evaluation time, in step order.
	StepSeconds []float64 `json:"step_seconds"`
}

// Run evaluates every step and records the findings, replacing the history of an
// earlier backtest with the same ID.
func (r *Runner) Run(ctx context.Context, o Options) (Result, error) {
	if err := o.Validate(); err != nil {
		return Result{}, err
	}
	if len(r.Nodes) > 0 && o.Notify {
		return Result{}, errors.New("--notify: not supported on a cluster (the steps' alerts would be recorded on one shard's node, out of the scheduled runs' order)")
	}
	set, err := detect.NewSet(r.evalDatabase(), o.Detectors...)
	if err != nil {
		return Result{}, err
	}
	return r.run(ctx, o, r.Config, set, []string{o.ID()})
}

// evalDatabase is the database a step's detector run evaluates: Database, or on a
// cluster each node's NodeDatabase.
func (r *Runner) evalDatabase() string {
	if len(r.Nodes) > 0 {
		return r.NodeDatabase
	}
	return r.Database
}

// run evaluates set with cfg at every step of o and records the findings under ids: one
// backtest id, or for a varied set one per value, in the order of its values.
func (r *Runner) run(ctx context.Context, o Options, cfg detect.Config, set *detect.Set, ids []string) (Result, error) {
	if err := cfg.Validate(); err != nil {
		return Result{}, err
	}
	log := r.Logger
	if log == nil {
		log = slog.Default()
	}
	start := time.Now()
	steps := o.Steps()
	res := Result{ID: ids[0], Steps: len(steps), StepSeconds: make([]float64, len(steps))}
	detectors := set.Names()
	for _, id := range ids {
		if err := r.clear(ctx, id); err != nil {
			return res, fmt.Errorf("clear an earlier backtest's history: %w", err)
		}
		if err := r.record(ctx, id, o, detectors, len(steps), 0, start); err != nil {
			return res, err
		}
	}
	parallel := o.Parallel
	if o.Notify {
		parallel = 1 // the alert store records in time order
	}
	var (
		mu       sync.Mutex
		done     int
		firstErr error
	)
	jobs := make(chan int)
	var wg sync.WaitGroup
	stepCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range min(parallel, len(steps)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				t0 := time.Now()
				n, err := r.step(stepCtx, set, cfg, ids, steps[i], o.Notify)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = fmt.Errorf("step as of %s: %w", steps[i].Format(time.RFC3339), err)
					cancel()
				}
				if err == nil {
					done++
					res.Findings += n
					res.StepSeconds[i] = time.Since(t0).Seconds()
					if r.Progress != nil {
						r.Progress(done, len(steps), steps[i], n)
					}
				}
				mu.Unlock()
			}
		}()
	}
	for i := range steps {
		if stepCtx.Err() != nil {
			break
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	res.Took = time.Since(start)
	if firstErr == nil && ctx.Err() != nil {
		firstErr = ctx.Err()
	}
	for _, id := range ids {
		if err := r.record(context.WithoutCancel(ctx), id, o, detectors, len(steps), done, start); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	log.Info("backtest done", "backtest_id", res.ID, "steps", done, "of", len(steps), "findings", res.Findings, "seconds", res.Took.Seconds())
	return res, firstErr
}

// step evaluates the set as of asOf on a session of its own and copies the findings
// into alert_history inside ClickHouse. The findings come without their timelines
// (detect.Findings' Drafts): alert_history keeps no evidence, and reading each flagged
// number's events for them was a quarter of a step's copy (0.8 -> 0.6 s at 10M). The
// count is the rows the insert wrote, as the server reports them: counting the step's
// rows afterwards read the whole backtest's history again (as_of is not a prefix of its
// key). With notify, the step is also recorded as alerts (alert.Store), after the copy.
// A varied set's findings go to the backtest id of their value (ids, in the order of
// the set's values).
func (r *Runner) step(ctx context.Context, set *detect.Set, cfg detect.Config, ids []string, asOf time.Time, notify bool) (uint64, error) {
	if len(r.Nodes) == 0 {
		return r.retrying(ctx, asOf, "", func() (uint64, error) { return r.stepOn(ctx, r.Session, r.Database, cfg, set, ids, asOf, notify) })
	}
	var n uint64
	for _, node := range r.Nodes {
		if node.Replica > 0 { // each shard once
			continue
		}
		c := cfg
		c.Shard = node.Shard
		k, err := r.retrying(ctx, asOf, node.Name, func() (uint64, error) { return r.stepOn(ctx, node.Open, r.NodeDatabase, c, set, ids, asOf, false) })
		if err != nil {
			return n, fmt.Errorf("node %s: %w", node.Name, err)
		}
		n += k
	}
	return n, nil
}

// retrying runs one step's attempt until it succeeds, fails for good, or has been tried
// StepAttempts times, waiting RetryDelay, then twice as long, between attempts. An
// attempt repeats the step whole: its rows in alert_history are the same rows again,
// which the table's key keeps once.
func (r *Runner) retrying(ctx context.Context, asOf time.Time, node string, attempt func() (uint64, error)) (uint64, error) {
	delay := r.RetryDelay
	if delay <= 0 {
		delay = time.Second
	}
	for i := 1; ; i++ {
		n, err := attempt()
		if err == nil || i == StepAttempts || !store.Retryable(err) || ctx.Err() != nil {
			return n, err
		}
		if r.Logger != nil {
			r.Logger.Warn("backtest step failed; trying it again", "as_of", asOf, "node", node, "attempt", i, "in", delay, "err", err)
		}
		select {
		case <-ctx.Done():
			return n, err
		case <-time.After(delay):
		}
		delay *= 2
	}
}

// clear deletes an earlier backtest's history with the same id: on a cluster, in each
// node's database.
func (r *Runner) clear(ctx context.Context, id string) error {
	if len(r.Nodes) == 0 {
		return r.Conn.Exec(ctx, statements.In(r.Database, "clear"), clickhouse.Named("id", id))
	}
	for _, n := range r.Nodes {
		conn, err := n.Open(ctx)
		if err != nil {
			return fmt.Errorf("node %s: %w", n.Name, err)
		}
		err = conn.Exec(ctx, statements.In(r.NodeDatabase, "clear"), clickhouse.Named("id", id))
		conn.Close()
		if err != nil {
			return fmt.Errorf("node %s: %w", n.Name, err)
		}
	}
	return nil
}

// stepOn is step on a session that open opens, in database db.
func (r *Runner) stepOn(ctx context.Context, open func(context.Context) (driver.Conn, error), db string, cfg detect.Config, set *detect.Set, ids []string, asOf time.Time, notify bool) (uint64, error) {
	session, err := open(ctx)
	if err != nil {
		return 0, err
	}
	defer session.Close()
	var wrote atomic.Uint64
	consumers := []detect.Consumer{func(ctx context.Context, f *detect.Findings) error {
		block, id := "step", any(ids[0])
		if set.Varied() {
			block, id = "vary_step", variantIDs(set, ids)
		}
		q, err := statements.Render(block, f.Data(db))
		if err != nil {
			return err
		}
		pctx := clickhouse.Context(ctx, clickhouse.WithProgress(func(p *clickhouse.Progress) { wrote.Add(p.WroteRows) }))
		if err := f.Exec(pctx, "", q, clickhouse.Named("bt_id", id)); err != nil {
			return fmt.Errorf("record findings: %w", err)
		}
		return nil
	}}
	if notify {
		var res alert.Result
		consumers = append(consumers, alert.NewStore(r.Conn, r.Database).Consumer(&res))
	}
	_, err = set.Evaluate(ctx, session, cfg, asOf, detect.Plain, consumers...)
	return wrote.Load(), err
}

func (r *Runner) record(ctx context.Context, id string, o Options, detectors []string, steps, done int, start time.Time) error {
	err := r.Conn.Exec(ctx, statements.In(r.Database, "record"),
		clickhouse.Named("id", id), clickhouse.Named("from", o.From.UTC()), clickhouse.Named("to", o.To.UTC()),
		clickhouse.Named("step", uint32(o.Step/time.Second)), clickhouse.Named("detectors", detectors), clickhouse.Named("steps", uint32(steps)),
		clickhouse.Named("done", uint32(done)), clickhouse.Named("started", start.UTC()))
	if err != nil {
		return fmt.Errorf("record the backtest: %w", err)
	}
	return nil
}
