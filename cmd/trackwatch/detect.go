package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

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
	var detectors []*detect.Detector
	var err error
	if *name != "" {
		var d *detect.Detector
		if d, err = detect.New(*name, cfg.ClickHouse.Database); err == nil {
			detectors = []*detect.Detector{d}
		}
	} else {
		detectors, err = detect.All(cfg.ClickHouse.Database)
	}
	if err != nil {
		fmt.Fprintf(env.stderr, "trackwatch detect: %v\n", err)
		return exitUsage
	}
	clients, ok := connect(ctx, env, "detect", cfg)
	if !ok {
		return exitFailure
	}
	defer clients.Close()
	type result struct {
		Detector string `json:"detector"`
		detect.Finding
	}
	var all []result
	for _, d := range detectors {
		findings, err := d.Eval(ctx, clients.ClickHouse, cfg.Detect, asOf)
		if err != nil {
			fmt.Fprintf(env.stderr, "trackwatch detect: %v\n", err)
			return exitFailure
		}
		for _, f := range findings {
			all = append(all, result{d.Name, f})
		}
		if write {
			if _, err := d.Record(ctx, clients.ClickHouse, cfg.Detect, asOf); err != nil {
				fmt.Fprintf(env.stderr, "trackwatch detect: %v\n", err)
				return exitFailure
			}
		}
		logger.Info("detector evaluated", "detector", d.Name, "as_of", asOf, "findings", len(findings), "recorded", write)
	}
	if !printStructured(env, *format, all) {
		tw := tabwriter.NewWriter(env.stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "DETECTOR\tORDER\tTRACKING NUMBER\tSEVERITY\tRECOMMENDATION\tPROTECTION ENDS\tREASON")
		for _, r := range all {
			ends := "-"
			if r.ProtectionEndsAt != nil {
				ends = r.ProtectionEndsAt.UTC().Format("2006-01-02")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Detector, r.OrderID, r.TrackingNumber, r.Severity, r.Recommendation, ends, r.Reason)
		}
		tw.Flush()
		fmt.Fprintf(env.stdout, "%d findings as of %s", len(all), asOf.Format(time.RFC3339))
		if write {
			fmt.Fprint(env.stdout, "; alerts recorded")
		}
		fmt.Fprintln(env.stdout)
	}
	return exitOK
}
