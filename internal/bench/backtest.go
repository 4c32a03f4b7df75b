package bench

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/trackwatch/trackwatch/backtest"
	"github.com/trackwatch/trackwatch/detect"
	"github.com/trackwatch/trackwatch/devstack"
	"github.com/trackwatch/trackwatch/store"
)

// BacktestOptions configure the backtest benchmark.
type BacktestOptions struct {
	// Events is the tracking events generated (orders are a tenth). Default 10,000,000.
	Events int
	// Steps is the daily steps, ending at the data's as-of moment. Default 60.
	Steps int
	// Parallel steps at once. Default 2.
	Parallel int
	// Vary, when set (e.g. detect.stalled_days=5,7,10), also times backtest --vary of
	// those values over the same steps, beside a backtest of the detectors the setting
	// changes with its configured value (the baseline it shares work against).
	Vary string
	// SkipAll leaves out the one-step baseline and the backtest of every detector.
	SkipAll bool
	// VaryFirst times the comparison before its baseline (alternating the order between
	// runs on a machine whose load changes).
	VaryFirst  bool
	ClickHouse devstack.ClickHouseConfig
	Logger     *slog.Logger
	Progress   func(string)
}

// BacktestResult is the benchmark's outcome.
type BacktestResult struct {
	Events, Orders, Steps, Parallel int
	LoadSeconds                     float64
	// OneStepSeconds is a backtest of the last day alone (the baseline: one detector
	// run of every detector, findings copied into alert_history).
	OneStepSeconds float64
	// Seconds is the whole backtest; StepSeconds each step's evaluation, in step order.
	Seconds     float64
	StepSeconds []float64
	Findings    uint64
	// PeakClickHouseMiB is the server's peak RSS during the backtest.
	PeakClickHouseMiB float64
	// With Vary: the detectors the setting changes; a backtest of them with the
	// configured value (Affected*); the comparison of the values (Vary*), with whether
	// it shared a run per step among the values.
	VaryDetectors                  []string
	VaryValues                     int
	AffectedSeconds                float64
	AffectedFindings               uint64
	VarySeconds                    float64
	VaryFindings                   uint64
	VaryShared                     bool
	AffectedPeakMiB, VaryPeakMiB   float64
	AffectedStepSeconds, VarySteps []float64
}

// CheckVary checks a --vary flag as backtest --vary does, naming what is wrong.
func CheckVary(s string) error {
	_, err := backtest.ParseVary(s)
	return err
}

// Backtest generates the detector benchmark's data in a fresh embedded ClickHouse and
// times a backtest of Steps daily steps over it, beside one step alone.
func Backtest(ctx context.Context, o BacktestOptions) (*BacktestResult, error) {
	if o.Events <= 0 {
		o.Events = 10_000_000
	}
	if o.Steps <= 0 {
		o.Steps = 60
	}
	if o.Parallel <= 0 {
		o.Parallel = 2
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	progress := o.Progress
	if progress == nil {
		progress = func(string) {}
	}
	const db = "bench_backtest"
	ch, conn, closeAll, err := freshDatabase(ctx, o.ClickHouse, o.Logger, "trackwatch-bench-backtest-", db, 8)
	if err != nil {
		return nil, err
	}
	defer closeAll()
	parcels := o.Events / 10
	progress(fmt.Sprintf("loading %d tracking events for %d orders", o.Events, parcels))
	start := time.Now()
	if err := loadDetectData(ctx, conn, db, parcels, false); err != nil {
		return nil, err
	}
	if _, err := judgeNumbers(ctx, conn, db); err != nil {
		return nil, err
	}
	res := &BacktestResult{Orders: parcels, Steps: o.Steps, Parallel: o.Parallel, LoadSeconds: time.Since(start).Seconds()}
	var loaded uint64
	if err := conn.QueryRow(ctx, statements.In(db, "count_tracking_events")).Scan(&loaded); err != nil {
		return nil, err
	}
	res.Events = int(loaded)
	r := &backtest.Runner{Conn: conn, Database: db, Logger: o.Logger, Session: func(ctx context.Context) (driver.Conn, error) {
		return store.OpenSession(ctx, store.Config{Username: "default", DialTimeout: 10 * time.Second}, ch.Addr())
	}}
	purge := func() {
		if err := conn.Exec(ctx, statements.Text("jemalloc_purge", nil)); err != nil {
			o.Logger.Warn("jemalloc purge failed: the peak includes memory kept from earlier work", "err", err)
		}
		resetPeakRSS(ch.Pid())
	}
	from := asOfBench.AddDate(0, 0, -(o.Steps - 1))
	r.Progress = func(done, total int, asOf time.Time, _ uint64) {
		if done%10 == 0 || done == total {
			progress(fmt.Sprintf("  %d of %d steps", done, total))
		}
	}
	steps := backtest.Options{From: from, To: asOfBench, Step: 24 * time.Hour, Parallel: o.Parallel}
	if !o.SkipAll {
		progress("baseline: a backtest of the last day alone")
		one, err := r.Run(ctx, backtest.Options{From: asOfBench, To: asOfBench, Step: 24 * time.Hour, Parallel: 1})
		if err != nil {
			return nil, err
		}
		res.OneStepSeconds = one.Took.Seconds()
		purge()
		progress(fmt.Sprintf("backtest: %d daily steps from %s, %d at once", o.Steps, from.Format("2006-01-02"), o.Parallel))
		full, err := r.Run(ctx, steps)
		if err != nil {
			return nil, err
		}
		res.Seconds, res.StepSeconds, res.Findings = full.Took.Seconds(), full.StepSeconds, full.Findings
		res.PeakClickHouseMiB = peakRSSMiB(ch.Pid())
	}
	if o.Vary == "" {
		return res, nil
	}
	v, err := backtest.ParseVary(o.Vary)
	if err != nil {
		return nil, err
	}
	if res.VaryDetectors, err = detect.Affected(v.Key); err != nil {
		return nil, err
	}
	res.VaryValues, res.VaryShared = len(v.Values), detect.Shared(v.Key)
	affected := steps
	affected.Detectors = res.VaryDetectors
	baseline := func() error {
		purge()
		progress(fmt.Sprintf("baseline: a backtest of %s (the detectors detect.%s changes), %d steps", strings.Join(res.VaryDetectors, ", "), v.Key, o.Steps))
		one, err := r.Run(ctx, affected)
		if err != nil {
			return err
		}
		res.AffectedSeconds, res.AffectedFindings, res.AffectedStepSeconds = one.Took.Seconds(), one.Findings, one.StepSeconds
		res.AffectedPeakMiB = peakRSSMiB(ch.Pid())
		return nil
	}
	compare := func() error {
		purge()
		progress(fmt.Sprintf("backtest --vary %s, %d steps", o.Vary, o.Steps))
		_, vres, err := r.Vary(ctx, steps, v)
		if err != nil {
			return err
		}
		res.VarySeconds, res.VaryFindings, res.VarySteps = vres.Took.Seconds(), vres.Findings, vres.StepSeconds
		res.VaryPeakMiB = peakRSSMiB(ch.Pid())
		return nil
	}
	order := []func() error{baseline, compare}
	if o.VaryFirst {
		order = []func() error{compare, baseline}
	}
	for _, f := range order {
		if err := f(); err != nil {
			return nil, err
		}
	}
	return res, nil
}
