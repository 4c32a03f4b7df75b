package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/trackwatch/trackwatch/deadletter"
	"github.com/trackwatch/trackwatch/ingest"
)

func dlqCmd(ctx context.Context, env *cmdEnv, c command, args []string) int {
	sub, code, ok := subcommand(env, c, args, "list", "replay")
	if !ok {
		return code
	}
	fs, cf := newFlags(env, c)
	var f deadletter.Filter
	fs.StringVar(&f.Topic, "topic", "", "only this topic")
	fs.StringVar(&f.Reason, "reason", "", "only this reason: "+strings.Join(reasons, ", "))
	since := fs.String("since", "", "only dead letters from this RFC 3339 time on")
	fs.IntVar(&f.Limit, "limit", 100, "at most this many")
	format := fs.String("format", "table", "list output: table or json")
	open := fs.Bool("open", false, "list: only the ones not replayed yet")
	again := fs.Bool("again", false, "replay: include ones already replayed")
	all := fs.Bool("all", false, "replay: allow replaying without --topic or --reason")
	dryRun := fs.Bool("dry-run", false, "replay: show what would be replayed, produce nothing")
	if ok, code := parse(fs, args[1:]); !ok {
		return code
	}
	if *since != "" {
		t, err := time.Parse(time.RFC3339, *since)
		if err != nil {
			fmt.Fprintf(env.stderr, "trackwatch dlq: --since %q is not RFC 3339 (e.g. 2026-11-01T00:00:00Z)\n", *since)
			return exitUsage
		}
		f.Since = t
	}
	if f.Reason != "" && !validReason(f.Reason) {
		fmt.Fprintf(env.stderr, "trackwatch dlq: --reason %q is not one of %s\n", f.Reason, strings.Join(reasons, ", "))
		return exitUsage
	}
	if *format != "table" && *format != "json" {
		fmt.Fprintf(env.stderr, "trackwatch dlq: --format %q is not table or json\n", *format)
		return exitUsage
	}
	if sub == "replay" && f.Topic == "" && f.Reason == "" && !*all {
		fmt.Fprintln(env.stderr, "trackwatch dlq replay: name --topic and/or --reason, or pass --all to replay every open dead letter")
		return exitUsage
	}
	cfg, logger, ok := cf.loadOrExit(env)
	if !ok {
		return exitUsage
	}
	clients, ok := connect(ctx, env, "dlq", cfg)
	if !ok {
		return exitFailure
	}
	defer clients.Close()
	db := cfg.ClickHouse.Database

	if sub == "list" || *dryRun {
		f.Open = *open || (sub == "replay" && !*again)
		dls, err := deadletter.List(ctx, clients.ClickHouse, db, f)
		if err != nil {
			fmt.Fprintf(env.stderr, "trackwatch dlq: %v\n", err)
			return exitFailure
		}
		if sub == "replay" {
			fmt.Fprintf(env.stdout, "dry run: %d dead letters would be replayed\n", len(dls))
		}
		printDeadLetters(env, dls, *format)
		return exitOK
	}
	f.Open = !*again
	tr, err := cfg.Kafka.Transport()
	if err != nil {
		fmt.Fprintf(env.stderr, "trackwatch dlq: %v\n", err)
		return exitUsage
	}
	w := &kafka.Writer{Addr: kafka.TCP(clients.Brokers...), Transport: tr, Balancer: &kafka.Hash{}, RequiredAcks: kafka.RequireAll}
	defer w.Close()
	done, err := deadletter.Replay(ctx, clients.ClickHouse, db, w, f, time.Now())
	if err != nil {
		fmt.Fprintf(env.stderr, "trackwatch dlq replay: %v\n", err)
		return exitFailure
	}
	logger.Info("dead letters replayed", "count", len(done))
	fmt.Fprintf(env.stdout, "replayed %d dead letters to their topics; they go through ingest again\n", len(done))
	return exitOK
}

var reasons = []string{ingest.ReasonNotJSON, ingest.ReasonMissingField, ingest.ReasonBadTimestamp, ingest.ReasonInvalidValue, ingest.ReasonTooLarge, ingest.ReasonBadRecord}

func validReason(r string) bool {
	for _, x := range reasons {
		if r == x {
			return true
		}
	}
	return false
}

func printDeadLetters(env *cmdEnv, dls []deadletter.Stored, format string) {
	if printStructured(env, format, dls) {
		return
	}
	tw := tabwriter.NewWriter(env.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DEAD-LETTERED AT\tTOPIC/PARTITION/OFFSET OR FILE:LINE\tREASON\tREPLAYS\tERROR\tRAW (start)")
	for _, d := range dls {
		raw := d.Raw
		if len(raw) > 60 {
			raw = raw[:60] + "..."
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%q\n", d.DeadLetteredAt.UTC().Format(time.RFC3339), d.Origin(),
			d.Reason, d.Replays, d.Error, raw)
	}
	tw.Flush()
	if len(dls) == 0 {
		fmt.Fprintln(env.stdout, "(no dead letters match)")
	}
}
