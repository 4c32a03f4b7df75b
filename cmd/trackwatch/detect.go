package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/trackwatch/trackwatch/alert"
	"github.com/trackwatch/trackwatch/detect"
)

func detectCmd(ctx context.Context, env *cmdEnv, c command, args []string) int {
	fs, cf := newFlags(env, c)
	once := fs.Bool("once", false, "evaluate once and exit (required: scheduled runs come with `trackwatch run`)")
	name := fs.String("detector", "", "only this detector: "+strings.Join(detect.Names, ", "))
	asOfFlag := fs.String("as-of", "", "evaluate as of this RFC 3339 moment, seeing only events at or before it (default now)")
	record := fs.Bool("record", false, "with --as-of: also write the alerts (without --as-of they are always written)")
	format := fs.String("format", "table", "output: table, json or ndjson")
	if ok, code := parse(fs, args); !ok {
		return code
	}
	if !*once {
		fmt.Fprintln(env.stderr, "trackwatch detect: pass --once (scheduled detection runs inside `trackwatch run`)")
		fs.Usage()
		return exitUsage
	}
	asOf := time.Now().UTC().Truncate(time.Millisecond)
	write := true
	if *asOfFlag != "" {
		t, err := time.Parse(time.RFC3339, *asOfFlag)
		if err != nil {
			fmt.Fprintf(env.stderr, "trackwatch detect: --as-of %q is not RFC 3339 (e.g. 2026-10-13T12:00:00Z)\n", *asOfFlag)
			return exitUsage
		}
		asOf, write = t.UTC(), *record
	}
	if *format != "table" && *format != "json" && *format != "ndjson" {
		fmt.Fprintf(env.stderr, "trackwatch detect: --format %q is not table, json or ndjson\n", *format)
		return exitUsage
	}
	cfg, logger, ok := cf.loadOrExit(env)
	if !ok {
		return exitUsage
	}
	var names []string
	if *name != "" {
		names = []string{*name}
	}
	set, err := detect.NewSet(cfg.ClickHouse.Database, names...)
	if err != nil {
		fmt.Fprintf(env.stderr, "trackwatch detect: %v\n", err)
		return exitUsage
	}
	clients, ok := connect(ctx, env, "detect", cfg)
	if !ok {
		return exitFailure
	}
	defer clients.Close()
	start := time.Now()
	all, res, err := clients.Detect(ctx, set, cfg.Detect, asOf, write)
	if err != nil {
		fmt.Fprintf(env.stderr, "trackwatch detect: %v\n", err)
		return exitFailure
	}
	if write {
		for d, at := range res.Behind {
			logger.Warn("alerts of this detector are recorded as of a later moment; this run changed none of them "+
				"(record a past moment in a database of its own)", "detector", d, "recorded_as_of", at, "as_of", asOf)
		}
	}
	logger.Info("detectors evaluated", "detectors", strings.Join(set.Names(), ","), "as_of", asOf, "findings", len(all),
		"recorded", write, "fired", res.Count(alert.ChangeFired), "refired", res.Count(alert.ChangeRefired),
		"resolved", res.Count(alert.ChangeResolved), "seconds", time.Since(start).Seconds())
	if !printStructured(env, *format, all) {
		tw := tabwriter.NewWriter(env.stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "DETECTOR\tORDER\tTRACKING NUMBER\tSEVERITY\tRECOMMENDATION\tPROTECTION ENDS\tREASON")
		for _, r := range all {
			ends := "-"
			if r.ProtectionEndsAt != nil {
				ends = r.ProtectionEndsAt.UTC().Format("2006-01-02")
			}
			order := r.OrderID
			if order == "" { // a seller's finding (seller_valid_tracking_rate)
				order = "seller " + r.SellerID
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Detector, order, r.TrackingNumber, r.Severity, r.Recommendation, ends, r.Reason)
		}
		tw.Flush()
		fmt.Fprintf(env.stdout, "%d findings as of %s", len(all), asOf.Format(time.RFC3339))
		if write {
			fmt.Fprintf(env.stdout, "; alerts recorded: %d fired, %d refired, %d resolved", res.Count(alert.ChangeFired),
				res.Count(alert.ChangeRefired), res.Count(alert.ChangeResolved))
		}
		fmt.Fprintln(env.stdout)
	}
	return exitOK
}
