package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/trackwatch/trackwatch/backtest"
	"github.com/trackwatch/trackwatch/detect"
)

const backtestUsage = `Usage: trackwatch backtest --from DATE --to DATE [--step 24h] [--detector NAME ...] [--parallel 2] [--notify] [--format table|json|csv]
       trackwatch backtest --vary detect.SETTING=V1,V2,... --from DATE --to DATE [--step 24h] [--detector NAME ...] [--parallel 2] [--format table|json|csv]

Evaluates the detectors as of every step from --from to --to (dates as 2026-10-01 or
RFC 3339 moments; a date means noon UTC, like the daily steps) over the stored
history, seeing at each step only the events that had occurred by then, and records
each step's findings in alert_history, apart from the live alerts. It never notifies
unless --notify (which also records each step as live alerts, in time order). Running
the same backtest again replaces its history. A database with migrations pending is
refused before the first step (trackwatch migrate applies them).

The report gives per detector the alerts per step (least, median, most), the orders
flagged, and for flagged orders that had a dispute, refund or cancellation in the
stored history the lead time: days from the first alert to the end of buyer
protection (median and 10th percentile) and how many were flagged only after it
ended. --format csv prints the alerts of every step (as_of, detector, alerts) for a
chart; json prints both.

--vary compares values of one numeric detector setting (a threshold such as
detect.stalled_days=5,7,10, 2 to 8 values; one --vary at a time) over the same steps,
for the detectors the setting changes (among --detector). Each value's findings are
kept in alert_history under a backtest id of its own. The report gives per value and
detector what a backtest gives, plus the precision implied by the outcomes analysts
gave the live alerts of the orders that value flags (closed as confirmed_fake or
false_positive). A threshold the detectors read is evaluated for every value in one
run per step; default_protection_days, recycle_months, silent_days_express and the
sellers' detector's settings (seller_vtr_window_days, seller_vtr_scan_days,
seller_vtr_min_orders, and seller_vtr_target, whose values are shares such as
0.9,0.95) take a backtest per value. The comparison is kept for the workspace's
overview. --format csv prints one row per value and detector; json the whole
comparison with each value's alerts per step.
`

func backtestCmd(ctx context.Context, env *cmdEnv, c command, args []string) int {
	fs, cf := newFlags(env, c)
	from := fs.String("from", "", "first step: a date (noon UTC) or an RFC 3339 moment (required)")
	to := fs.String("to", "", "last step, included (required)")
	step := fs.Duration("step", 24*time.Hour, "time between steps")
	var detectors multiFlag
	fs.Var(&detectors, "detector", "only this detector (repeatable): "+strings.Join(detect.Names, ", "))
	parallel := fs.Int("parallel", 2, "steps evaluated at once, each on a ClickHouse session of its own")
	notify := fs.Bool("notify", false, "also record each step as live alerts, so their changes reach the receivers")
	format := fs.String("format", "table", "report: table, json or csv")
	var vary multiFlag
	fs.Var(&vary, "vary", "compare values of one numeric detector setting, e.g. detect.stalled_days=5,7,10")
	if ok, code := parse(fs, args); !ok {
		return code
	}
	usage := func(f string, a ...any) int {
		fmt.Fprintf(env.stderr, "trackwatch backtest: "+f+"\n", a...)
		return exitUsage
	}
	var variation *detect.Variation
	switch {
	case len(vary) > 1:
		return usage("--vary is given %d times: compare one setting at a time (each setting's values share a step's run)", len(vary))
	case len(vary) == 1:
		v, err := backtest.ParseVary(vary[0])
		if err != nil {
			return usage("%v", err)
		}
		if *notify {
			return usage("--notify with --vary: a comparison records no live alerts")
		}
		variation = &v
	}
	o := backtest.Options{Step: *step, Detectors: detectors, Parallel: *parallel, Notify: *notify}
	var err error
	if o.From, err = parseDay(*from); err != nil {
		return usage("--from: %v", err)
	}
	if o.To, err = parseDay(*to); err != nil {
		return usage("--to: %v", err)
	}
	if err := o.Validate(); err != nil {
		return usage("%v", err)
	}
	if *format != "table" && *format != "json" && *format != "csv" {
		return usage("--format %q is not table, json or csv", *format)
	}
	cfg, logger, ok := cf.loadOrExit(env)
	if !ok {
		return exitUsage
	}
	clients, ok := connect(ctx, env, "backtest", cfg)
	if !ok {
		return exitFailure
	}
	defer clients.Close()
	// a schema behind this build would fail only after every step (keeping the report)
	if st, err := clients.SchemaState(ctx, cfg.ClickHouse.Database); err == nil && st.HasSchema && st.Applied < st.Known {
		fmt.Fprintf(env.stderr, "trackwatch backtest: %s\n", schemaMessage(st, cfg.ClickHouse.Database))
		return exitFailure
	}
	r, err := clients.Backtests(ctx, cfg.Detect, logger)
	if err != nil {
		fmt.Fprintf(env.stderr, "trackwatch backtest: %v\n", err)
		return exitFailure
	}
	last := time.Now()
	r.Progress = func(done, total int, asOf time.Time, findings uint64) {
		if done == total || time.Since(last) >= 5*time.Second {
			last = time.Now()
			logger.Info("backtest progress", "steps", done, "of", total, "last_as_of", asOf, "findings", findings)
		}
	}
	if variation != nil {
		return varyCmd(ctx, env, r, o, *variation, *format)
	}
	res, err := r.Run(ctx, o)
	if err != nil {
		fmt.Fprintf(env.stderr, "trackwatch backtest: %v\n", err)
		return exitFailure
	}
	rep, err := r.Report(ctx, res.ID)
	if err != nil {
		fmt.Fprintf(env.stderr, "trackwatch backtest: %v\n", err)
		return exitFailure
	}
	switch *format {
	case "json":
		printStructured(env, "json", []any{struct {
			backtest.Report
			Steps       int       `json:"steps"`
			Seconds     float64   `json:"seconds"`
			StepSeconds []float64 `json:"step_seconds"`
		}{rep, res.Steps, res.Took.Seconds(), res.StepSeconds}})
	case "csv":
		w := csv.NewWriter(env.stdout)
		w.Write([]string{"as_of", "detector", "alerts"})
		for _, s := range rep.PerStep {
			w.Write([]string{s.AsOf.UTC().Format(time.RFC3339), s.Detector, strconv.FormatUint(s.Alerts, 10)})
		}
		w.Flush()
	default:
		tw := tabwriter.NewWriter(env.stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "DETECTOR\tALERTS/STEP MIN\tMEDIAN\tMAX\tORDERS\tENDED IN DISPUTE/REFUND/CANCEL\tLEAD DAYS MEDIAN\tP10\tFLAGGED AFTER PROTECTION\tDISPUTED/REFUNDED LATER")
		days := func(v *float64) string {
			if v == nil {
				return "-"
			}
			return fmt.Sprintf("%.1f", *v)
		}
		for _, d := range rep.Detectors {
			fmt.Fprintf(tw, "%s\t%d\t%.0f\t%d\t%d\t%d\t%s\t%s\t%d\t%d\n", d.Detector, d.MinPerStep, d.MedianPerStep, d.MaxPerStep, d.Orders,
				d.EndedBadly, days(d.MedianLeadDays), days(d.P10LeadDays), d.AfterProtection, d.LaterDisputeOrRefund)
		}
		tw.Flush()
		fmt.Fprintf(env.stdout, "backtest %s: %d steps from %s to %s every %s, %d findings in %.1fs (%.2fs per step); alert_history WHERE backtest_id = '%s'\n",
			res.ID, res.Steps, o.From.Format(time.RFC3339), o.To.Format(time.RFC3339), o.Step, res.Findings, res.Took.Seconds(),
			res.Took.Seconds()/float64(max(res.Steps, 1)), res.ID)
	}
	return exitOK
}

// parseDay reads a date (noon UTC, as the daily steps) or an RFC 3339 moment.
func parseDay(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, fmt.Errorf("required (e.g. 2026-10-01)")
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t.Add(12 * time.Hour), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither a date (2026-10-01) nor RFC 3339 (2026-10-01T12:00:00Z)", s)
	}
	return t.UTC(), nil
}

// varyCmd runs and prints backtest --vary.
func varyCmd(ctx context.Context, env *cmdEnv, r *backtest.Runner, o backtest.Options, v detect.Variation, format string) int {
	cmp, res, err := r.Vary(ctx, o, v)
	if err != nil {
		fmt.Fprintf(env.stderr, "trackwatch backtest: %v\n", err)
		return exitFailure
	}
	printComparison(env, cmp, res, format)
	return exitOK
}

// printComparison prints a comparison in format: table, json or csv.
func printComparison(env *cmdEnv, cmp backtest.Comparison, res backtest.Result, format string) {
	opt := func(v *float64, f string) string {
		if v == nil {
			return ""
		}
		return fmt.Sprintf(f, *v)
	}
	switch format {
	case "json":
		printStructured(env, "json", []any{struct {
			backtest.Comparison
			Seconds float64 `json:"seconds"`
		}{cmp, res.Took.Seconds()}})
	case "csv":
		w := csv.NewWriter(env.stdout)
		w.Write([]string{"setting", "value", "detector", "min_per_step", "median_per_step", "max_per_step", "orders", "ended_badly",
			"median_lead_days", "p10_lead_days", "flagged_after_protection_ended", "confirmed_fake", "false_positive", "precision", "backtest_id"})
		for _, vr := range cmp.Variants {
			for _, d := range vr.Detectors {
				w.Write([]string{"detect." + cmp.Setting, detect.FormatValue(vr.Value), d.Detector, strconv.FormatUint(d.MinPerStep, 10),
					strconv.FormatFloat(d.MedianPerStep, 'f', -1, 64), strconv.FormatUint(d.MaxPerStep, 10), strconv.FormatUint(d.Orders, 10),
					strconv.FormatUint(d.EndedBadly, 10), opt(d.MedianLeadDays, "%.3f"), opt(d.P10LeadDays, "%.3f"), strconv.FormatUint(d.AfterProtection, 10),
					strconv.FormatUint(d.ConfirmedFake, 10), strconv.FormatUint(d.FalsePositive, 10), opt(d.Precision, "%.4f"), vr.BacktestID})
			}
		}
		w.Flush()
	default:
		tw := tabwriter.NewWriter(env.stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "DETECT.%s\tDETECTOR\tALERTS/STEP MIN\tMEDIAN\tMAX\tORDERS\tENDED BADLY\tLEAD DAYS MEDIAN\tP10\tFLAGGED AFTER PROTECTION\tCONFIRMED FAKE\tFALSE POSITIVE\tPRECISION\n",
			strings.ToUpper(cmp.Setting))
		dash := func(s string) string {
			if s == "" {
				return "-"
			}
			return s
		}
		for _, vr := range cmp.Variants {
			value := detect.FormatValue(vr.Value)
			if vr.Value == cmp.Current {
				value += " (current)"
			}
			for _, d := range vr.Detectors {
				fmt.Fprintf(tw, "%s\t%s\t%d\t%.0f\t%d\t%d\t%d\t%s\t%s\t%d\t%d\t%d\t%s\n", value, d.Detector, d.MinPerStep, d.MedianPerStep, d.MaxPerStep,
					d.Orders, d.EndedBadly, dash(opt(d.MedianLeadDays, "%.1f")), dash(opt(d.P10LeadDays, "%.1f")), d.AfterProtection,
					d.ConfirmedFake, d.FalsePositive, dash(opt(pct(d.Precision), "%.1f%%")))
			}
		}
		tw.Flush()
		how := "one run per step for every value"
		if !cmp.Shared {
			how = "a backtest per value"
		}
		fmt.Fprintf(env.stdout, "comparison %s of detect.%s over %s: %d steps from %s to %s every %s (%s), %d findings in %.1fs; each value's history: alert_history WHERE backtest_id = the value's id (--format csv)\n",
			cmp.ID, cmp.Setting, strings.Join(cmp.Detectors, ", "), cmp.Steps, cmp.From.Format(time.RFC3339), cmp.To.Format(time.RFC3339), time.Duration(cmp.Step), how,
			res.Findings, res.Took.Seconds())
	}
}

func pct(p *float64) *float64 {
	if p == nil {
		return nil
	}
	x := 100 * *p
	return &x
}
