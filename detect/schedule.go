package detect

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"
)

// Metrics are the detectors' Prometheus metrics.
type Metrics struct {
	Runs     *prometheus.CounterVec   // detector, outcome (ok, error, other_instance)
	Missed   *prometheus.CounterVec   // detector: a tick skipped because the last run was still going
	Seconds  *prometheus.HistogramVec // detector: the duration of the run that included it
	Findings *prometheus.GaugeVec     // detector
}

// NewMetrics creates the metrics and registers them with reg (nil: unregistered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "trackwatch_detect_runs_total",
			Help: "Scheduled detector runs, by outcome: ok, error, other_instance (another instance claimed the tick and runs it)."}, []string{"detector", "outcome"}),
		Missed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "trackwatch_detect_missed_runs_total",
			Help: "Scheduled ticks skipped because the previous run on the detector's schedule had not finished."}, []string{"detector"}),
		Seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "trackwatch_detect_run_seconds",
			Help: "Duration of the run (evaluate and record) that included the detector; detectors on one schedule run together.", Buckets: prometheus.ExponentialBuckets(0.01, 3, 10)}, []string{"detector"}),
		Findings: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "trackwatch_detect_findings",
			Help: "Orders the detector flagged in its last run."}, []string{"detector"}),
	}
	if reg != nil {
		reg.MustRegister(m.Runs, m.Missed, m.Seconds, m.Findings)
	}
	return m
}

// Opener opens a connection of its own for one run (for example store.OpenSession with
// the service's config); the run closes it.
type Opener func(ctx context.Context) (driver.Conn, error)

// Scheduler runs the detectors on their cron schedules, in UTC. Detectors that share a
// schedule run together, as one Set: they share the run's order state and carrier
// summaries.
type Scheduler struct {
	cron   *cron.Cron
	log    *slog.Logger
	cancel context.CancelFunc // cancels the runs in flight when Run stops
	claims *TickClaims
	// runs are each schedule's run of its set, as a tick makes it (without the claim)
	runs []func(ctx context.Context, asOf time.Time) error
}

// ShareTicks makes the scheduler claim each tick before running it, so that of several
// instances on one ClickHouse one runs it (call before Run). Without it every instance
// runs every tick, which is safe (the same moment gives the same alert changes) but
// costs ClickHouse the work once per instance.
func (s *Scheduler) ShareTicks(c *TickClaims) { s.claims = c }

// Recorder records a scheduled run's findings and returns how many alerts fire per
// detector. In trackwatch run it is alert.Store's Record; detect knows nothing of alerts.
type Recorder func(ctx context.Context, f *Findings) (firing map[string]int, err error)

// Node is a ClickHouse server of a cluster that scheduled runs evaluate on: in its local
// database (SchedulerOptions.Database), the orders of its shard (Config.Shard),
// recording the alerts there (see SchedulerOptions.Sync for a shard's replicas).
type Node struct {
	Name    string // for logs and errors: its address
	Open    Opener
	Shard   Shard
	Replica int // from 0: the firing counts reported are replica 0's of each shard
}

// SyncFunc copies to node to what the scheduled runs recorded on node from, a replica
// of the same shard (alerts, their changes, the runs' bookkeeping), so that the shard has
// one history whichever replica evaluates.
type SyncFunc func(ctx context.Context, from, to Node) error

// SchedulerOptions are what a Scheduler needs.
type SchedulerOptions struct {
	Open  Opener // a connection of its own for each run
	Nodes []Node // instead of Open: a cluster's nodes, each shard evaluated in turn
	// Sync, with Nodes, makes one replica of each shard evaluate (the one whose latest
	// run is the latest, the first of them on a tie) and copies its records to the
	// other replicas it reaches; without it every node evaluates its own copy.
	Sync     SyncFunc
	Database string
	Config   Config
	Record   Recorder
	Logger   *slog.Logger
	Metrics  *Metrics         // nil: unregistered metrics
	Now      func() time.Time // the clock; nil: time.Now
}

// NewScheduler prepares the schedule; Run starts it. Each run evaluates as of its tick,
// truncated to the second: cron fires on whole seconds, so instances on one schedule
// evaluate the same moment and record the same changes.
func NewScheduler(o SchedulerOptions) (*Scheduler, error) {
	db, cfg, record, logger, m, now := o.Database, o.Config, o.Record, o.Logger, o.Metrics, o.Now
	nodes := o.Nodes
	if len(nodes) == 0 {
		nodes = []Node{{Open: o.Open}}
	}
	if m == nil {
		m = NewMetrics(nil)
	}
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("detect config: %w", err)
	}
	bySpec := map[string][]string{}
	var specs []string
	for _, name := range Names {
		spec := cfg.Schedule
		if s, ok := cfg.Schedules[name]; ok {
			spec = s
		}
		if _, ok := bySpec[spec]; !ok {
			specs = append(specs, spec)
		}
		bySpec[spec] = append(bySpec[spec], name)
	}
	s := &Scheduler{log: logger}
	cl := cronLogger{logger}
	// robfig/cron's default chain is empty: recover panics explicitly, for every job.
	c := cron.New(cron.WithLocation(time.UTC), cron.WithLogger(cl), cron.WithChain(cron.Recover(cl)))
	base, cancel := context.WithCancel(context.Background())
	for _, spec := range specs {
		set, err := NewSet(db, bySpec[spec]...)
		if err != nil {
			cancel()
			return nil, err
		}
		log := logger.With("detectors", strings.Join(set.Names(), ","))
		s.runs = append(s.runs, func(ctx context.Context, asOf time.Time) error {
			_, _, err := runNodes(ctx, nodes, o.Sync, set, cfg, asOf, record)
			return err
		})
		job := cron.FuncJob(func() {
			start := now()
			asOf := start.UTC().Truncate(time.Second)
			ctx, cancel := context.WithTimeout(base, 10*time.Minute)
			defer cancel()
			if s.claims != nil {
				won, winner, err := s.claims.Claim(ctx, spec, asOf)
				switch {
				case err != nil: // run it anyway: a double run is safe, a lost one is not
					log.Warn("claiming the tick failed; running it", "as_of", asOf, "err", err)
				case !won:
					for _, n := range set.Names() {
						m.Runs.WithLabelValues(n, "other_instance").Inc()
					}
					log.Debug("tick run by another instance", "as_of", asOf, "instance", winner)
					return
				}
			}
			firing, scope, err := runNodes(ctx, nodes, o.Sync, set, cfg, asOf, record)
			for _, n := range set.Names() {
				m.Seconds.WithLabelValues(n).Observe(now().Sub(start).Seconds())
				if err != nil {
					m.Runs.WithLabelValues(n, "error").Inc()
					continue
				}
				m.Runs.WithLabelValues(n, "ok").Inc()
				m.Findings.WithLabelValues(n).Set(float64(firing[n]))
			}
			if err != nil {
				log.Error("detector run failed", "as_of", asOf, "err", err)
				return
			}
			log.Info("detector run", "as_of", asOf, "seconds", now().Sub(start).Seconds(), "firing", firing, "evaluated", scope)
		})
		// Each schedule skips a tick that finds its previous run still going; the skip
		// is counted for every detector of the run.
		skip := cron.SkipIfStillRunning(skipCounter{log: log, names: set.Names(), missed: m.Missed})
		if _, err := c.AddJob(spec, cron.NewChain(skip).Then(job)); err != nil {
			cancel()
			return nil, fmt.Errorf("schedule %s (%q): %w", strings.Join(set.Names(), ", "), spec, err)
		}
	}
	s.cron, s.cancel = c, cancel
	return s, nil
}

// skipCounter is the logger of one schedule's SkipIfStillRunning, which reports a
// skipped tick as Info("skip").
type skipCounter struct {
	log    *slog.Logger
	names  []string
	missed *prometheus.CounterVec
}

func (s skipCounter) Info(msg string, kv ...any) {
	if msg != "skip" {
		s.log.Debug("cron: "+msg, kv...)
		return
	}
	for _, n := range s.names {
		s.missed.WithLabelValues(n).Inc()
	}
	s.log.Warn("previous run still going; tick skipped")
}

func (s skipCounter) Error(err error, msg string, kv ...any) {
	s.log.Error("cron: "+msg, append(kv, "err", err)...)
}

// runNodes makes the scheduled run of set on each shard of nodes in turn: on each node,
// or, with sync, on one replica of each shard, copied to the others. A node whose run
// fails does not stop the others' (its own checkpoint is not moved, so a later run
// catches up); the errors are returned together, each naming its node.
func runNodes(ctx context.Context, nodes []Node, sync SyncFunc, set *Set, cfg Config, asOf time.Time, record Recorder) (map[string]int, string, error) {
	if len(nodes) == 1 && nodes[0].Name == "" {
		return runOnce(ctx, nodes[0].Open, set, cfg, asOf, record)
	}
	firing := map[string]int{}
	var scopes []string
	var errs []error
	run := func(n Node, count bool) bool {
		c := cfg
		c.Shard = n.Shard
		f, scope, err := runOnce(ctx, n.Open, set, c, asOf, record)
		if err != nil {
			errs = append(errs, fmt.Errorf("node %s: %w", n.Name, err))
			return false
		}
		scopes = append(scopes, n.Name+": "+scope)
		if count {
			for d, k := range f {
				firing[d] += k
			}
		}
		return true
	}
	for _, shard := range byShard(nodes) {
		if sync == nil || len(shard) == 1 {
			for _, n := range shard {
				run(n, n.Replica == 0)
			}
			continue
		}
		// the replica with the latest run evaluates: after one was down, the one that
		// went on; then its records are copied to the others
		best, reachable := -1, []int{}
		var latest time.Time
		for i, n := range shard {
			at, err := latestScheduled(ctx, n, set)
			if err != nil {
				errs = append(errs, fmt.Errorf("node %s: %w", n.Name, err))
				continue
			}
			reachable = append(reachable, i)
			if best < 0 || at.After(latest) {
				best, latest = i, at
			}
		}
		if best < 0 || !run(shard[best], true) {
			continue
		}
		for _, i := range reachable {
			if i != best {
				if err := sync(ctx, shard[best], shard[i]); err != nil {
					errs = append(errs, fmt.Errorf("copy the run from %s to %s: %w", shard[best].Name, shard[i].Name, err))
				}
			}
		}
	}
	return firing, strings.Join(scopes, "; "), errors.Join(errs...)
}

// byShard groups nodes by shard, in the order of the shards' first nodes.
func byShard(nodes []Node) [][]Node {
	var out [][]Node
	at := map[int]int{}
	for _, n := range nodes {
		i, ok := at[n.Shard.Index]
		if !ok {
			i = len(out)
			at[n.Shard.Index] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], n)
	}
	return out
}

// latestScheduled is the moment of the latest scheduled run of set recorded on node.
func latestScheduled(ctx context.Context, n Node, set *Set) (time.Time, error) {
	conn, err := n.Open(ctx)
	if err != nil {
		return time.Time{}, err
	}
	defer conn.Close()
	var at time.Time
	err = conn.QueryRow(ctx, statements.In(set.db, "latest_scheduled"), clickhouse.Named("set_key", set.key())).Scan(&at)
	return at, err
}

// runOnce records one scheduled run of set on a connection of its own (scoped to what
// changed since the previous one when it can be) and commits it.
func runOnce(ctx context.Context, open Opener, set *Set, cfg Config, asOf time.Time, record Recorder) (map[string]int, string, error) {
	conn, err := open(ctx)
	if err != nil {
		return nil, "", err
	}
	defer conn.Close()
	var firing map[string]int
	ev, err := set.Evaluate(ctx, conn, cfg, asOf, Scheduled, func(ctx context.Context, f *Findings) (err error) {
		firing, err = record(ctx, f)
		return err
	})
	return firing, ev.String(), err
}

// RunAt makes every schedule's scheduled run as of asOf now, one after the other, as
// their ticks would (without claiming the tick): for tests and tools that step through
// time.
func (s *Scheduler) RunAt(ctx context.Context, asOf time.Time) error {
	for _, run := range s.runs {
		if err := run(ctx, asOf); err != nil {
			return err
		}
	}
	return nil
}

// Run starts the schedule and stops it when ctx ends: runs in flight are cancelled and
// waited for.
func (s *Scheduler) Run(ctx context.Context) error {
	s.cron.Start()
	s.log.Info("detectors scheduled", "entries", len(s.cron.Entries()))
	<-ctx.Done()
	stopped := s.cron.Stop()
	s.cancel()
	<-stopped.Done()
	return nil
}

// cronLogger adapts slog to robfig/cron's logger.
type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) { c.l.Debug("cron: "+msg, kv...) }
func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error("cron: "+msg, append(kv, "err", err)...)
}
