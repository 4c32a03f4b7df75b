package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/trackwatch/trackwatch/devstack"
	"github.com/trackwatch/trackwatch/internal/bench"
	"github.com/trackwatch/trackwatch/schemas"
)

func benchIngest(ctx context.Context, env *cmdEnv, args []string) int {
	fs, cf := newFlags(env)
	var o bench.IngestOptions
	fs.IntVar(&o.Events, "events", 2_000_000, "events to load (about 80% tracking, 20% order)")
	fs.IntVar(&o.Partitions, "partitions", 4, "partitions per topic")
	fs.IntVar(&o.BlockRows, "block-rows", 10_000, "rows per insert block (trackwatch and the ceiling)")
	seed := fs.Uint64("seed", 1, "generator seed")
	fs.BoolVar(&o.SkipKafkaEngine, "skip-kafka-engine", false, "leave out the ClickHouse Kafka engine reference")
	fs.IntVar(&o.LatencySeconds, "latency-seconds", 20, "produce -> queryable under steady load at half the measured rate, for this long (-1: skip)")
	fs.StringVar(&o.Numbers, "numbers", bench.SyntheticNumbers, "the orders' tracking numbers: synthetic (two thirds malformed for their carrier, the worst case for judging them) or realistic (valid for their carrier but 1.4%, wrong check digits)")
	exe := fs.String("trackwatch", "", "run this trackwatch `binary` as the ingest process (a previous release, for a baseline on the same load) instead of building ./cmd/trackwatch")
	if ok, code := parse(fs, args); !ok {
		return code
	}
	if o.Numbers != bench.SyntheticNumbers && o.Numbers != bench.RealisticNumbers {
		fmt.Fprintf(env.stderr, "trackwatch-bench ingest: --numbers %q is not synthetic or realistic\n", o.Numbers)
		fs.Usage()
		return exitUsage
	}
	if *exe != "" {
		if _, err := os.Stat(*exe); err != nil {
			fmt.Fprintf(env.stderr, "trackwatch-bench ingest: --trackwatch: %v\n", err)
			return exitUsage
		}
	}
	if o.Events < 1000 || o.Partitions < 1 || o.BlockRows < 1 {
		fmt.Fprintln(env.stderr, "trackwatch-bench ingest: --events must be at least 1000, --partitions and --block-rows at least 1")
		fs.Usage()
		return exitUsage
	}
	o.Seed = *seed
	cfg, logger, progress, ok := benchEnv(env, cf)
	if !ok {
		return exitUsage
	}
	o.ClickHouse, o.Logger, o.Progress = cfg.Embedded.ClickHouse, logger, progress
	var res *bench.IngestResult
	err := withTrackwatch(ctx, progress, *exe, func(exe string) (err error) {
		o.Trackwatch = exe
		res, err = bench.Ingest(ctx, o)
		return err
	})
	if err != nil {
		logger.Error("bench failed", "err", err)
		return exitFailure
	}
	printIngestResult(env.stdout, res)
	return exitOK
}

func printIngestResult(w io.Writer, r *bench.IngestResult) {
	host, _ := os.Hostname()
	fmt.Fprintf(w, "trackwatch bench ingest: %d events (avg %.0f bytes), %d partitions per topic, %d CPUs, %s, host %s\n\n",
		r.Events, r.AvgEventBytes, r.Partitions, runtime.NumCPU(), runtime.Version(), host)
	fmt.Fprintln(w, "| contender | events/s | seconds | peak RSS | vs ceiling | notes |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---|")
	row := func(m bench.Measurement) {
		rss := "-"
		if m.PeakRSSMiB > 0 {
			rss = fmt.Sprintf("%.0f MiB", m.PeakRSSMiB)
		}
		fmt.Fprintf(w, "| %s | %.0f | %.1f | %s | %.2f | %s |\n", m.Name, m.EventsPerSec, m.Seconds, rss, m.EventsPerSec/r.Ceiling.EventsPerSec, m.Note)
	}
	row(r.Ceiling)
	row(r.Trackwatch)
	row(r.ServerSide)
	if r.KafkaEngine != nil {
		row(*r.KafkaEngine)
		fmt.Fprintf(w, "\ntrackwatch / Kafka engine: %.2fx\n", r.Trackwatch.EventsPerSec/r.KafkaEngine.EventsPerSec)
	}
	fmt.Fprintf(w, "trackwatch / server side: %.2f\n", r.Trackwatch.EventsPerSec/r.ServerSide.EventsPerSec)
	if l := r.Latency; l != nil {
		fmt.Fprintf(w, "produce -> queryable at %d events/s (half the measured rate), %d events: p50 %s, p99 %s, max %s\n",
			l.Rate, l.Events, l.P50.Round(time.Millisecond), l.P99.Round(time.Millisecond), l.Max.Round(time.Millisecond))
	}
	fmt.Fprintf(w, "trackwatch / ceiling: %.2f\n(producing the load into the embedded Kafka took %.1fs and is not counted)\n",
		r.Trackwatch.EventsPerSec/r.Ceiling.EventsPerSec, r.ProduceSeconds)
}

// firingPerDetector lists the detectors with alerts firing, by name.
func firingPerDetector(firing map[string]int) string {
	var out []string
	for d, n := range firing {
		if n > 0 {
			out = append(out, fmt.Sprintf("%s %d", d, n))
		}
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

func benchDetect(ctx context.Context, env *cmdEnv, args []string) int {
	fs, cf := newFlags(env)
	scales := fs.String("events", "1000000,10000000", "comma-separated tracking-event counts, one scale each (orders are a tenth)")
	var o bench.DetectOptions
	fs.IntVar(&o.Repeat, "repeat", 3, "runs per measurement: the first records every alert, the median of the others is reported")
	fs.BoolVar(&o.SkipSingle, "skip-single", false, "leave out the runs of one detector each")
	fs.BoolVar(&o.Journeys, "journeys", false, "give some orders a buyer's journey (payments, cancellation requests, disputes, refunds): the journey's detectors then have work")
	shards := fs.Int("shards", 1, "with 2 or more: the schedule's runs on one server and on each shard of a cluster of that many embedded servers, the rows each read")
	if ok, code := parse(fs, args); !ok {
		return code
	}
	if *shards < 1 || *shards > devstack.MaxClusterNodes {
		fmt.Fprintf(env.stderr, "trackwatch-bench detect: --shards %d: from 1 to %d\n", *shards, devstack.MaxClusterNodes)
		return exitUsage
	}
	for _, s := range strings.Split(*scales, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1000 {
			fmt.Fprintf(env.stderr, "trackwatch-bench detect: --events %q: each scale must be a number of at least 1000\n", *scales)
			return exitUsage
		}
		o.Scales = append(o.Scales, n)
	}
	cfg, logger, ok := cf.loadOrExit(env)
	if !ok {
		return exitUsage
	}
	o.ClickHouse, o.Logger = cfg.Embedded.ClickHouse, logger
	started := time.Now()
	o.Progress = func(step string) { fmt.Fprintf(env.stderr, "[%6.1fs] %s\n", time.Since(started).Seconds(), step) }
	if *shards > 1 {
		res, err := bench.DetectShards(ctx, bench.ShardsOptions{DetectOptions: o, Shards: *shards})
		printShards(env.stdout, res)
		if err != nil {
			logger.Error("bench failed", "err", err)
			return exitFailure
		}
		return exitOK
	}
	res, err := bench.Detect(ctx, o)
	if err != nil {
		logger.Error("bench failed", "err", err)
		return exitFailure
	}
	fmt.Fprintf(env.stdout, "trackwatch bench detect: %d CPUs, %s; seconds: evaluate + record alerts, the median of the %d runs after the first\n\n",
		runtime.NumCPU(), runtime.Version(), max(1, o.Repeat-1))
	fmt.Fprint(env.stdout, "| detector |")
	for _, s := range res {
		fmt.Fprintf(env.stdout, " %d events: s (firing) |", s.Events)
	}
	fmt.Fprintln(env.stdout)
	fmt.Fprint(env.stdout, "|---|")
	for range res {
		fmt.Fprint(env.stdout, "---:|")
	}
	fmt.Fprintln(env.stdout)
	for i, d := range res[0].Detectors {
		fmt.Fprintf(env.stdout, "| %s |", d.Name)
		for _, s := range res {
			fmt.Fprintf(env.stdout, " %.2f (%d) |", s.Detectors[i].Seconds, s.Detectors[i].Firing)
		}
		fmt.Fprintln(env.stdout)
	}
	for _, row := range []struct {
		name string
		f    func(bench.DetectScale) string
	}{
		{"single-detector runs, summed", func(s bench.DetectScale) string {
			if len(s.Detectors) == 0 {
				return "-"
			}
			sum := 0.0
			for _, d := range s.Detectors {
				sum += d.Seconds
			}
			return fmt.Sprintf("%.2f", sum)
		}},
		{"all detectors, summarising every event each run (baseline: detect.from_events)", func(s bench.DetectScale) string {
			return fmt.Sprintf("%.2f", s.EventsSeconds)
		}},
		{"of which: " + stageNames(res[0].EventsStages), func(s bench.DetectScale) string { return stageSeconds(s.EventsStages) }},
		{"**all detectors in one run**, over the summaries kept at insert", func(s bench.DetectScale) string {
			return fmt.Sprintf("**%.2f**", s.AllSeconds)
		}},
		{"of which: " + stageNames(res[0].AllStages), func(s bench.DetectScale) string { return stageSeconds(s.AllStages) }},
		{"alerts firing after it, per detector", func(s bench.DetectScale) string { return firingPerDetector(s.AllFiring) }},
		{"the first such run (no alert recorded before: every alert new)", func(s bench.DetectScale) string {
			return fmt.Sprintf("%.2f", s.AllFirstSeconds)
		}},
		{"scheduled run over every order (the first, and one a day: detect.full_run_every)", func(s bench.DetectScale) string {
			return fmt.Sprintf("%.2f", s.Scheduled.FullSeconds)
		}},
		{"of which: " + stageNames(res[0].Scheduled.FullStages), func(s bench.DetectScale) string { return stageSeconds(s.Scheduled.FullStages) }},
		{"**scheduled run 5 minutes after the previous one, the data's own events of those minutes stored meanwhile** (events stored; orders evaluated)", func(s bench.DetectScale) string {
			return fmt.Sprintf("**%.3f** (%d; %d)", s.Scheduled.IdleSeconds, s.Scheduled.IdleEvents, s.Scheduled.IdleOrders)
		}},
		{"of which (medians): " + stageNames(res[0].Scheduled.IdleStages), func(s bench.DetectScale) string { return stageSeconds(s.Scheduled.IdleStages) }},
		{"**scheduled run after a minute of ingest** (events stored; orders evaluated)", func(s bench.DetectScale) string {
			return fmt.Sprintf("**%.3f** (%d; %d)", s.Scheduled.IngestSeconds, s.Scheduled.IngestEvents, s.Scheduled.IngestOrders)
		}},
		{"of which: " + stageNames(res[0].Scheduled.IngestStages), func(s bench.DetectScale) string { return stageSeconds(s.Scheduled.IngestStages) }},
		{"orders", func(s bench.DetectScale) string { return fmt.Sprint(s.Orders) }},
		{"load (SQL generation) s", func(s bench.DetectScale) string { return fmt.Sprintf("%.1f", s.LoadSeconds) }},
		{"judging every number once (pairs) s", func(s bench.DetectScale) string {
			return fmt.Sprintf("%.1f (%d)", s.NumberCheckSeconds, s.NumberPairs)
		}},
	} {
		fmt.Fprintf(env.stdout, "| %s |", row.name)
		for _, s := range res {
			fmt.Fprintf(env.stdout, " %s |", row.f(s))
		}
		fmt.Fprintln(env.stdout)
	}
	if len(res) > 1 {
		a, b := res[0], res[len(res)-1]
		fmt.Fprintf(env.stdout, "\nscaling %d -> %d events (x%.1f data): all detectors x%.2f time (summarising every event: x%.2f)\n",
			a.Events, b.Events, float64(b.Events)/float64(a.Events), b.AllSeconds/a.AllSeconds, b.EventsSeconds/a.EventsSeconds)
		fmt.Fprintf(env.stdout, "scheduled runs: over every order x%.2f; 5 minutes apart x%.2f; after a minute of ingest x%.2f\n",
			b.Scheduled.FullSeconds/a.Scheduled.FullSeconds, b.Scheduled.IdleSeconds/a.Scheduled.IdleSeconds,
			b.Scheduled.IngestSeconds/a.Scheduled.IngestSeconds)
	}
	printDetectPeaks(env, res)
	return exitOK
}

// stageNames names the stages of a run as the bench detect table lists them.
func stageNames(stages []bench.StageTiming) string {
	var names []string
	for _, st := range stages {
		names = append(names, st.Stage)
	}
	return strings.Join(names, " + ")
}

func stageSeconds(stages []bench.StageTiming) string {
	var parts []string
	for _, st := range stages {
		parts = append(parts, fmt.Sprintf("%.2f", st.Seconds))
	}
	return strings.Join(parts, " + ")
}

// printDetectPeaks prints the peak memory of each measurement of bench detect.
func printDetectPeaks(env *cmdEnv, res []bench.DetectScale) {
	fmt.Fprint(env.stdout, "\npeak RSS during the runs, MiB: ClickHouse / trackwatch\n\n| runs of |")
	for _, s := range res {
		fmt.Fprintf(env.stdout, " %d events |", s.Events)
	}
	fmt.Fprint(env.stdout, "\n|---|")
	for range res {
		fmt.Fprint(env.stdout, "---:|")
	}
	fmt.Fprintln(env.stdout)
	row := func(name string, peak func(bench.DetectScale) bench.PeakRSS) {
		fmt.Fprintf(env.stdout, "| %s |", name)
		for _, s := range res {
			p := peak(s)
			fmt.Fprintf(env.stdout, " %.0f / %.0f |", p.ServerMiB, p.BenchMiB)
		}
		fmt.Fprintln(env.stdout)
	}
	for i, d := range res[0].Detectors {
		row(d.Name+" alone", func(s bench.DetectScale) bench.PeakRSS { return s.Detectors[i].Peak })
	}
	row("all detectors, summarising every event (baseline)", func(s bench.DetectScale) bench.PeakRSS { return s.EventsPeak })
	row("**all detectors in one run**, over the summaries", func(s bench.DetectScale) bench.PeakRSS { return s.AllPeak })
	row("the first such run (every alert new)", func(s bench.DetectScale) bench.PeakRSS { return s.AllFirstPeak })
	row("scheduled run over every order", func(s bench.DetectScale) bench.PeakRSS { return s.Scheduled.FullPeak })
	row("scheduled runs 5 minutes apart", func(s bench.DetectScale) bench.PeakRSS { return s.Scheduled.IdlePeak })
	row("scheduled run after a minute of ingest", func(s bench.DetectScale) bench.PeakRSS { return s.Scheduled.IngestPeak })
}

func benchNotify(ctx context.Context, env *cmdEnv, args []string) int {
	fs, cf := newFlags(env)
	var o bench.NotifyOptions
	fs.IntVar(&o.Changes, "changes", 10_000, "alert changes to deliver for the throughput measurement")
	fs.IntVar(&o.Runs, "runs", 50, "bursts for the latency measurement")
	fs.IntVar(&o.PerRun, "per-run", 10, "changes per burst")
	fs.IntVar(&o.Concurrency, "concurrency", 4, "requests in flight to the receiver")
	if ok, code := parse(fs, args); !ok {
		return code
	}
	if o.Changes < 1 || o.Runs < 1 || o.PerRun < 1 || o.Concurrency < 1 {
		fmt.Fprintln(env.stderr, "trackwatch-bench notify: --changes, --runs, --per-run and --concurrency must be at least 1")
		fs.Usage()
		return exitUsage
	}
	cfg, logger, progress, ok := benchEnv(env, cf)
	if !ok {
		return exitUsage
	}
	o.ClickHouse, o.Logger, o.Progress = cfg.Embedded.ClickHouse, logger, progress
	r, err := bench.Notify(ctx, o)
	if err != nil {
		logger.Error("bench failed", "err", err)
		return exitFailure
	}
	host, _ := os.Hostname()
	w := env.stdout
	fmt.Fprintf(w, "trackwatch bench notify: %d webhook deliveries (Standard Webhooks signatures, evidence %d bytes each), concurrency %d, %d CPUs, %s, host %s\n\n",
		r.Changes, r.EvidenceBytes, r.Concurrency, runtime.NumCPU(), runtime.Version(), host)
	fmt.Fprintln(w, "| contender | seconds | changes/s | vs baseline |")
	fmt.Fprintln(w, "|---|---:|---:|---:|")
	fmt.Fprintf(w, "| baseline: sign and POST in a loop (no outbox, no claims, no delivery log) | %.2f | %.0f | 1.00 |\n", r.BaselineSeconds, float64(r.Changes)/r.BaselineSeconds)
	fmt.Fprintf(w, "| trackwatch dispatcher from the change log | %.2f | %.0f | %.2f |\n", r.DispatcherSeconds, float64(r.Changes)/r.DispatcherSeconds, r.BaselineSeconds/r.DispatcherSeconds)
	fmt.Fprintf(w, "\nLatency, changes logged and dispatcher woken -> first attempt at the receiver (%d samples): p50 %s, p99 %s, max %s\n",
		r.LatencySamples, r.LatencyP50.Round(time.Microsecond), r.LatencyP99.Round(time.Microsecond), r.LatencyMax.Round(time.Microsecond))
	fmt.Fprintf(w, "Baseline, one signed POST alone: p50 %s, p99 %s\n", r.BaselineLatencyP50.Round(time.Microsecond), r.BaselineLatencyP99.Round(time.Microsecond))
	return exitOK
}

func benchAPI(ctx context.Context, env *cmdEnv, args []string) int {
	fs, cf := newFlags(env)
	var o bench.APIOptions
	fs.IntVar(&o.Events, "events", 10_000_000, "tracking events to load (a tenth as many orders)")
	fs.IntVar(&o.Requests, "requests", 200, "requests per endpoint")
	fs.Float64Var(&o.Acted, "acted", 0, "share of the alerts analysts acted on before the timing (0..1: closed, acknowledged, assigned or commented on)")
	if ok, code := parse(fs, args); !ok {
		return code
	}
	if o.Events < 10_000 || o.Requests < 10 || o.Acted < 0 || o.Acted > 1 {
		fmt.Fprintln(env.stderr, "trackwatch-bench api: --events must be at least 10000, --requests at least 10 and --acted within 0..1")
		fs.Usage()
		return exitUsage
	}
	cfg, logger, progress, ok := benchEnv(env, cf)
	if !ok {
		return exitUsage
	}
	o.ClickHouse, o.Logger, o.Progress = cfg.Embedded.ClickHouse, logger, progress
	r, err := bench.API(ctx, o)
	if err != nil {
		logger.Error("bench failed", "err", err)
		return exitFailure
	}
	host, _ := os.Hostname()
	w := env.stdout
	fmt.Fprintf(w, "trackwatch bench api: %d tracking events, %d orders, %d firing alerts, %d acted on, %d requests per endpoint (after %d untimed), %d CPUs, %s, host %s\n\n",
		r.Events, r.Orders, r.Firing, r.Acted, o.Requests, bench.APIWarmUp, runtime.NumCPU(), runtime.Version(), host)
	fmt.Fprintln(w, "| endpoint | store call p50 | store call p99 (baseline) | HTTP p50 | HTTP p99 |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|")
	for _, t := range r.Timings {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", t.Name, t.StoreP50.Round(time.Millisecond), t.StoreP99.Round(time.Millisecond),
			t.HTTPP50.Round(time.Millisecond), t.HTTPP99.Round(time.Millisecond))
	}
	return exitOK
}

func benchBackfill(ctx context.Context, env *cmdEnv, args []string) int {
	fs, cf := newFlags(env)
	var o bench.BackfillOptions
	fs.IntVar(&o.Events, "events", 1_000_000, "tracking events in the file")
	fs.IntVar(&o.BatchRows, "batch-rows", 20_000, "trackwatch's records per block")
	if ok, code := parse(fs, args); !ok {
		return code
	}
	if o.Events < 1000 {
		fmt.Fprintln(env.stderr, "trackwatch-bench backfill: --events must be at least 1000")
		return exitUsage
	}
	cfg, logger, progress, ok := benchEnv(env, cf)
	if !ok {
		return exitUsage
	}
	o.ClickHouse, o.Logger, o.Progress = cfg.Embedded.ClickHouse, logger, progress
	var res *bench.BackfillResult
	err := withTrackwatch(ctx, progress, "", func(exe string) (err error) {
		o.Trackwatch = exe
		res, err = bench.Backfill(ctx, o)
		return err
	})
	if err != nil {
		logger.Error("bench failed", "err", err)
		return exitFailure
	}
	fmt.Fprintf(env.stdout, "trackwatch bench backfill: %d CPUs, %s; %d tracking events, %.0f MiB of NDJSON (%.0f bytes per event)\n\n",
		runtime.NumCPU(), runtime.Version(), res.Events, float64(res.FileBytes)/(1<<20), float64(res.FileBytes)/float64(res.Events))
	fmt.Fprintln(env.stdout, "| path | events/s | seconds | peak RSS MiB | vs reference | note |")
	fmt.Fprintln(env.stdout, "|---|---:|---:|---:|---:|---|")
	for _, m := range []bench.Measurement{res.Reference, res.Trackwatch} {
		rss := "-"
		if m.PeakRSSMiB > 0 {
			rss = fmt.Sprintf("%.0f", m.PeakRSSMiB)
		}
		fmt.Fprintf(env.stdout, "| %s | %.0f | %.2f | %s | %.2f | %s |\n", m.Name, m.EventsPerSec, m.Seconds, rss, m.EventsPerSec/res.Reference.EventsPerSec, m.Note)
	}
	return exitOK
}

func benchBacktest(ctx context.Context, env *cmdEnv, args []string) int {
	fs, cf := newFlags(env)
	var o bench.BacktestOptions
	fs.IntVar(&o.Events, "events", 10_000_000, "tracking events generated (orders are a tenth)")
	fs.IntVar(&o.Steps, "steps", 60, "daily steps")
	fs.IntVar(&o.Parallel, "parallel", 2, "steps evaluated at once")
	fs.StringVar(&o.Vary, "vary", "", "also time backtest --vary of these values (e.g. detect.stalled_days=5,7,10) beside a backtest of the detectors the setting changes")
	fs.BoolVar(&o.SkipAll, "skip-all", false, "leave out the one-step baseline and the backtest of every detector (with --vary)")
	fs.BoolVar(&o.VaryFirst, "vary-first", false, "time the comparison before its baseline (to alternate the order between runs)")
	if ok, code := parse(fs, args); !ok {
		return code
	}
	if o.Events < 1000 || o.Steps < 1 || o.Parallel < 1 {
		fmt.Fprintln(env.stderr, "trackwatch-bench backtest: --events must be at least 1000, --steps and --parallel at least 1")
		return exitUsage
	}
	if o.Vary != "" {
		if err := bench.CheckVary(o.Vary); err != nil {
			fmt.Fprintf(env.stderr, "trackwatch-bench backtest: %v\n", err)
			return exitUsage
		}
	} else if o.SkipAll {
		fmt.Fprintln(env.stderr, "trackwatch-bench backtest: --skip-all leaves nothing to time without --vary")
		return exitUsage
	}
	cfg, logger, progress, ok := benchEnv(env, cf)
	if !ok {
		return exitUsage
	}
	o.ClickHouse, o.Logger, o.Progress = cfg.Embedded.ClickHouse, logger, progress
	res, err := bench.Backtest(ctx, o)
	if err != nil {
		logger.Error("bench failed", "err", err)
		return exitFailure
	}
	fmt.Fprintf(env.stdout, "trackwatch bench backtest: %d CPUs, %s; %d tracking events, %d orders (generated in %.1fs)\n\n",
		runtime.NumCPU(), runtime.Version(), res.Events, res.Orders, res.LoadSeconds)
	fmt.Fprintln(env.stdout, "| measurement | seconds |")
	fmt.Fprintln(env.stdout, "|---|---:|")
	spread := func(s []float64) string {
		s = slices.Clone(s)
		slices.Sort(s)
		if len(s) == 0 {
			return "-"
		}
		return fmt.Sprintf("%.2f / %.2f / %.2f", s[0], s[len(s)/2], s[len(s)-1])
	}
	if !o.SkipAll {
		fmt.Fprintf(env.stdout, "| one step alone (baseline: all detectors as of the last day, findings into alert_history) | %.2f |\n", res.OneStepSeconds)
		fmt.Fprintf(env.stdout, "| %d steps one after another at that cost (estimate) | %.1f |\n", res.Steps, res.OneStepSeconds*float64(res.Steps))
		fmt.Fprintf(env.stdout, "| backtest, %d daily steps, %d at once | %.1f |\n", res.Steps, res.Parallel, res.Seconds)
		fmt.Fprintf(env.stdout, "| per step (wall time / steps) | %.2f |\n", res.Seconds/float64(res.Steps))
		fmt.Fprintf(env.stdout, "| a step's evaluation: fastest / median / slowest | %s |\n", spread(res.StepSeconds))
	}
	if o.Vary != "" {
		fmt.Fprintf(env.stdout, "| backtest of %s (the detectors the setting changes), %d steps | %.1f |\n", strings.Join(res.VaryDetectors, ", "), res.Steps, res.AffectedSeconds)
		fmt.Fprintf(env.stdout, "| its steps' evaluation: fastest / median / slowest | %s |\n", spread(res.AffectedStepSeconds))
		fmt.Fprintf(env.stdout, "| backtest --vary %s (%d values, shared run per step: %v), %d steps | %.1f |\n", o.Vary, res.VaryValues, res.VaryShared, res.Steps, res.VarySeconds)
		fmt.Fprintf(env.stdout, "| its steps' evaluation: fastest / median / slowest | %s |\n", spread(res.VarySteps))
		fmt.Fprintf(env.stdout, "| --vary / one backtest of the same detectors | %.2f |\n", res.VarySeconds/res.AffectedSeconds)
		if !o.SkipAll {
			fmt.Fprintf(env.stdout, "| --vary / one backtest of every detector | %.2f |\n", res.VarySeconds/res.Seconds)
		}
	}
	if !o.SkipAll {
		fmt.Fprintf(env.stdout, "\n%d findings recorded; ClickHouse peak RSS during the backtest %.0f MiB\n", res.Findings, res.PeakClickHouseMiB)
	}
	if o.Vary != "" {
		fmt.Fprintf(env.stdout, "\n--vary: %d findings recorded (the same detectors alone: %d); ClickHouse peak RSS %.0f MiB (the same detectors alone: %.0f MiB)\n",
			res.VaryFindings, res.AffectedFindings, res.VaryPeakMiB, res.AffectedPeakMiB)
	}
	return exitOK
}

// printShards prints bench detect --shards: each run on one server and on each shard.
func printShards(w io.Writer, res []bench.ShardsScale) {
	if len(res) == 0 {
		return
	}
	fmt.Fprintf(w, "trackwatch bench detect --shards %d: %d CPUs, %s; each server's part of a scheduled run (evaluate + record alerts), one after the other\n",
		res[0].Shards, runtime.NumCPU(), runtime.Version())
	fmt.Fprintln(w, "\n| events | run | server | rows read | of one server's | seconds | orders evaluated | alerts firing |")
	fmt.Fprintln(w, "|---:|---|---|---:|---:|---:|---:|---:|")
	for _, s := range res {
		for _, r := range []struct {
			name string
			runs []bench.NodeRun
		}{{"first (every order)", s.Full}, {fmt.Sprintf("5 min later (%d new events)", s.ScopedEvents), s.Scoped}} {
			for _, n := range r.runs {
				orders := "every"
				if n.Orders >= 0 {
					orders = strconv.Itoa(n.Orders)
				}
				fmt.Fprintf(w, "| %d | %s | %s | %d | %.2f | %.2f | %s | %d |\n", s.Events, r.name, n.Node, n.Rows, n.Fraction, n.Seconds, orders, n.Firing)
			}
		}
	}
	fmt.Fprintln(w, "\nstorage on one server, loaded and merged (compressed bytes on disk):")
	fmt.Fprintln(w, "\n| events | table | rows | compressed MiB | bytes per row | MiB per million events | compression |")
	fmt.Fprintln(w, "|---:|---|---:|---:|---:|---:|---:|")
	for _, s := range res {
		var total uint64
		for _, t := range s.Storage {
			total += t.Compressed
			fmt.Fprintf(w, "| %d | %s | %d | %.1f | %.1f | %.2f | %.1fx |\n", s.Events, t.Table, t.Rows, float64(t.Compressed)/(1<<20),
				float64(t.Compressed)/float64(max(t.Rows, 1)), float64(t.Compressed)/(1<<20)/(float64(s.Events)/1e6), float64(t.Uncompressed)/float64(max(t.Compressed, 1)))
		}
		fmt.Fprintf(w, "| %d | **all tables** | | %.1f | | **%.2f** | |\n", s.Events, float64(total)/(1<<20), float64(total)/(1<<20)/(float64(s.Events)/1e6))
	}
}

func benchSoak(ctx context.Context, env *cmdEnv, args []string) int {
	fs, cf := newFlags(env)
	var o bench.SoakOptions
	fs.DurationVar(&o.Load, "load", 5*time.Minute, "how long the load is produced (the faults are spread over it)")
	fs.IntVar(&o.Orders, "orders", 10, "simulated orders a second (about 7 messages each)")
	fs.IntVar(&o.Instances, "instances", 3, "trackwatch run processes")
	fs.IntVar(&o.Shards, "shards", 2, "shards of the embedded cluster")
	fs.IntVar(&o.Replicas, "replicas", 2, "replicas of each shard")
	fs.IntVar(&o.StopReplica, "stop-replica", 0, "the replica (from 1) of the last shard stopped for a minute; default the last (1 is the one reads prefer)")
	exe := fs.String("trackwatch", "", "the product `binary` to run (default: built from this source tree)")
	if ok, code := parse(fs, args); !ok {
		return code
	}
	if o.Load < 100*time.Second || o.Orders < 1 || o.Instances < 2 || o.Shards < 1 || o.Replicas < 2 || o.Shards*o.Replicas > devstack.MaxClusterNodes ||
		o.StopReplica < 0 || o.StopReplica > o.Replicas {
		fmt.Fprintf(env.stderr, "trackwatch-bench soak: --load at least 100s, --orders at least 1, --instances at least 2, --replicas at least 2 (a replica is stopped), at most %d nodes, --stop-replica one of the replicas\n", devstack.MaxClusterNodes)
		return exitUsage
	}
	cfg, logger, progress, ok := benchEnv(env, cf)
	if !ok {
		return exitUsage
	}
	o.ClickHouse, o.Logger, o.Progress = cfg.Embedded.ClickHouse, logger, progress
	var res *bench.SoakResult
	err := withTrackwatch(ctx, progress, *exe, func(exe string) (err error) {
		o.Trackwatch = exe
		res, err = bench.Soak(ctx, o)
		return err
	})
	if err != nil {
		logger.Error("soak failed", "err", err)
		return exitFailure
	}
	printSoak(env.stdout, o, res)
	if !res.OK() {
		return exitFailure
	}
	return exitOK
}

// printSoak prints the soak's faults and counts.
func printSoak(w io.Writer, o bench.SoakOptions, r *bench.SoakResult) {
	fmt.Fprintf(w, "trackwatch bench soak: %d CPUs, %s; %d x %d embedded ClickHouse servers, %d trackwatch run instances, %s of load\n\nfaults:\n",
		runtime.NumCPU(), runtime.Version(), o.Shards, o.Replicas, o.Instances, o.Load)
	for _, f := range r.Faults {
		fmt.Fprintf(w, "  %6s  %s\n", f.At, f.What)
	}
	fmt.Fprintln(w, "\n| events | produced (distinct ids) | stored (distinct ids) | missing |")
	fmt.Fprintln(w, "|---|---:|---:|---|")
	for _, t := range []string{schemas.TrackingTopic, schemas.OrderTopic} {
		fmt.Fprintf(w, "| %s | %d | %d | %v |\n", t, r.Produced[t], r.Stored[t], r.Missing[t])
	}
	fmt.Fprintln(w, "\n| node | tracking rows: raw | after FINAL | distinct ids | order rows: raw | after FINAL | distinct ids | alert changes |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|")
	for _, n := range r.Nodes {
		fmt.Fprintf(w, "| shard %d replica %d | %d | %d | %d | %d | %d | %d | %d |\n", n.Shard, n.Replica, n.TrackingRaw, n.TrackingRows, n.TrackingDistinct,
			n.OrderRaw, n.OrderRows, n.OrderDistinct, n.AlertChanges)
	}
	fmt.Fprintf(w, "\nreplicas of each shard identical (events and alert changes): %v\n", r.ReplicasIdentical)
	for _, d := range r.ReplicaDiffs {
		fmt.Fprintf(w, "  %s\n", d)
	}
	fmt.Fprintf(w, "alert changes logged: %d; delivered: %d (requests %d; re-deliveries %d, with the first's webhook-id %d); undelivered: %v\n",
		r.Changes, r.Delivered, r.Requests, r.Redelivered, r.SameID, r.Undelivered)
	fmt.Fprintf(w, "alert transitions delivered: %d, of which under more than one change id: %d\n", r.Transitions, r.TransitionIDs)
	fmt.Fprintf(w, "embedded servers restarted by their supervisor after a crash: %d\n", r.Restarts)
	fmt.Fprintf(w, "result: %s\n", map[bool]string{true: "every promise kept", false: "FAILED"}[r.OK()])
}

func benchWebhooks(ctx context.Context, env *cmdEnv, args []string) int {
	fs, cf := newFlags(env)
	var o bench.WebhooksOptions
	fs.IntVar(&o.Requests, "requests", 50_000, "signed one-checkpoint webhook requests in the throughput phase")
	fs.IntVar(&o.Concurrency, "concurrency", 64, "requests in flight in the throughput phase")
	fs.IntVar(&o.Partitions, "partitions", 4, "partitions per topic")
	fs.IntVar(&o.LatencySeconds, "latency-seconds", 20, "send at half the end-to-end rate for this long and report the requests' latency (-1: skip)")
	fs.IntVar(&o.LatencyRate, "latency-rate", 0, "the latency phase's requests/s (default: half the measured end-to-end rate)")
	if ok, code := parse(fs, args); !ok {
		return code
	}
	if o.Requests < 100 || o.Concurrency < 1 || o.Partitions < 1 {
		fmt.Fprintln(env.stderr, "trackwatch-bench webhooks: --requests must be at least 100, --concurrency and --partitions at least 1")
		fs.Usage()
		return exitUsage
	}
	cfg, logger, progress, ok := benchEnv(env, cf)
	if !ok {
		return exitUsage
	}
	o.ClickHouse, o.Logger, o.Progress = cfg.Embedded.ClickHouse, logger, progress
	res, err := bench.Webhooks(ctx, o)
	if err != nil {
		logger.Error("bench failed", "err", err)
		return exitFailure
	}
	host, _ := os.Hostname()
	w := env.stdout
	fmt.Fprintf(w, "trackwatch bench webhooks: %d signed one-checkpoint AfterShip updates, %d in flight, %d partitions, %d CPUs, %s, host %s\n\n",
		res.Requests, res.Concurrency, res.Partitions, runtime.NumCPU(), runtime.Version(), host)
	fmt.Fprintln(w, "| path | events/s | seconds |")
	fmt.Fprintln(w, "|---|---:|---:|")
	for _, m := range []bench.Measurement{res.Answered, res.Webhooks, res.Kafka} {
		fmt.Fprintf(w, "| %s | %.0f | %.1f |\n", m.Name, m.EventsPerSec, m.Seconds)
	}
	fmt.Fprintf(w, "\nwebhooks end to end / plain Kafka ingest: %.2f\n", res.Webhooks.EventsPerSec/res.Kafka.EventsPerSec)
	if l := res.Latency; l != nil {
		fmt.Fprintf(w, "request -> 200 at %d requests/s for %d requests (%d failed): p50 %s, p99 %s, max %s\n",
			l.Rate, l.Requests, l.Failed, l.P50.Round(100*time.Microsecond), l.P99.Round(100*time.Microsecond), l.Max.Round(time.Millisecond))
	}
	return exitOK
}
