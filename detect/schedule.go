package detect

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"
)

// Metrics are the detectors' Prometheus metrics.
type Metrics struct {
	Runs     *prometheus.CounterVec   // detector, outcome (ok, error)
	Missed   *prometheus.CounterVec   // detector: a tick skipped because the last run was still going
	Seconds  *prometheus.HistogramVec // detector
	Findings *prometheus.GaugeVec     // detector
}

// NewMetrics creates the metrics and registers them with reg (nil: unregistered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "trackwatch_detect_runs_total",
			Help: "Scheduled detector runs, by outcome."}, []string{"detector", "outcome"}),
		Missed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "trackwatch_detect_missed_runs_total",
			Help: "Scheduled ticks skipped because the detector's previous run had not finished."}, []string{"detector"}),
		Seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "trackwatch_detect_run_seconds",
			Help: "Duration of one detector run (evaluate and record).", Buckets: prometheus.ExponentialBuckets(0.01, 3, 10)}, []string{"detector"}),
		Findings: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "trackwatch_detect_findings",
			Help: "Orders the detector flagged in its last run."}, []string{"detector"}),
	}
	if reg != nil {
		reg.MustRegister(m.Runs, m.Missed, m.Seconds, m.Findings)
	}
	return m
}

// Scheduler runs every detector on its cron schedule, in UTC.
type Scheduler struct {
	cron *cron.Cron
	log  *slog.Logger
}

// NewScheduler prepares the schedule; Run starts it. now is the clock (time.Now): each
// run evaluates as of the moment it starts.
func NewScheduler(conn driver.Conn, db string, cfg Config, logger *slog.Logger, m *Metrics, now func() time.Time) (*Scheduler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("detect config: %w", err)
	}
	detectors, err := All(db)
	if err != nil {
		return nil, err
	}
	cl := cronLogger{logger}
	// robfig/cron's default chain is empty: recover panics explicitly.
	c := cron.New(cron.WithLocation(time.UTC), cron.WithLogger(cl), cron.WithChain(cron.Recover(cl)))
	for _, d := range detectors {
		spec := cfg.Schedule
		if s, ok := cfg.Schedules[d.Name]; ok {
			spec = s
		}
		log := logger.With("detector", d.Name)
		var running sync.Mutex
		job := func() {
			// Skip, and count, a tick that finds the previous run still going.
			if !running.TryLock() {
				m.Missed.WithLabelValues(d.Name).Inc()
				log.Warn("previous run still going; tick skipped")
				return
			}
			defer running.Unlock()
			start := now()
			asOf := start.UTC().Truncate(time.Millisecond)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			firing, err := d.Record(ctx, conn, cfg, asOf)
			m.Seconds.WithLabelValues(d.Name).Observe(now().Sub(start).Seconds())
			if err != nil {
				m.Runs.WithLabelValues(d.Name, "error").Inc()
				log.Error("detector run failed", "err", err)
				return
			}
			m.Runs.WithLabelValues(d.Name, "ok").Inc()
			m.Findings.WithLabelValues(d.Name).Set(float64(firing))
			log.Info("detector run", "as_of", asOf, "firing", firing)
		}
		if _, err := c.AddFunc(spec, job); err != nil {
			return nil, fmt.Errorf("schedule %s (%q): %w", d.Name, spec, err)
		}
	}
	return &Scheduler{cron: c, log: logger}, nil
}

// Run starts the schedule and stops it when ctx ends, waiting for running detectors.
func (s *Scheduler) Run(ctx context.Context) error {
	s.cron.Start()
	s.log.Info("detectors scheduled", "entries", len(s.cron.Entries()))
	<-ctx.Done()
	<-s.cron.Stop().Done()
	return nil
}

// cronLogger adapts slog to robfig/cron's logger.
type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) { c.l.Debug("cron: "+msg, kv...) }
func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error("cron: "+msg, append(kv, "err", err)...)
}
