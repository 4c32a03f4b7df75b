package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/trackwatch/trackwatch/rebuild"
	"github.com/trackwatch/trackwatch/service"
)

const phrasesUsage = `Usage: trackwatch phrases [list] [--unmapped | --disagreements] [--since TIME] [--carrier SLUG] [--limit N] [--format table|json]
       trackwatch phrases renormalise [--dry-run]

list shows the carrier wordings (raw_status) stored, most frequent first, with the
status and sub-status they were stored with and the sub-status the current phrase
table (the embedded tables and carriers.phrases) gives them now. --unmapped shows only
the wordings no phrase covered (stored as unknown, never counted as movement): add
them to carriers.phrases. --disagreements shows the wordings that a tracking
aggregator (ingest.webhooks) reads as another status than the phrase table does: the
events kept the phrase table's reading; check the words, and correct either side in
carriers.phrases. renormalise classifies the stored history again with the
current table, after a release or a carriers.phrases change, updating the events whose
sub-status (or derived status) changes; --dry-run counts them.
`

func phrasesCmd(ctx context.Context, env *cmdEnv, c command, args []string) int {
	sub := "list"
	if len(args) > 0 && (args[0] == "list" || args[0] == "renormalise") {
		sub, args = args[0], args[1:]
	}
	fs, cf := newFlags(env, c)
	var f rebuild.PhraseFilter
	fs.BoolVar(&f.Unmapped, "unmapped", false, "list: only wordings stored as unknown")
	disagreements := fs.Bool("disagreements", false, "list: only wordings an aggregator's status disagrees with")
	since := fs.String("since", "", "list: only events from this RFC 3339 time on")
	fs.StringVar(&f.Carrier, "carrier", "", "list: only this carrier slug")
	fs.IntVar(&f.Limit, "limit", 100, "list: at most this many")
	format := fs.String("format", "table", "list: table or json")
	dryRun := fs.Bool("dry-run", false, "renormalise: count, change nothing")
	if ok, code := parse(fs, args); !ok {
		return code
	}
	if *since != "" {
		t, err := time.Parse(time.RFC3339, *since)
		if err != nil {
			fmt.Fprintf(env.stderr, "trackwatch phrases: --since %q is not RFC 3339 (e.g. 2026-11-01T00:00:00Z)\n", *since)
			return exitUsage
		}
		f.Since = t
	}
	if *format != "table" && *format != "json" {
		fmt.Fprintf(env.stderr, "trackwatch phrases: --format %q is not table or json\n", *format)
		return exitUsage
	}
	cfg, logger, ok := cf.loadOrExit(env)
	if !ok {
		return exitUsage
	}
	table, err := cfg.Carriers.Table()
	if err != nil {
		fmt.Fprintf(env.stderr, "trackwatch phrases: %v\n", err)
		return exitUsage
	}
	clients, ok := connect(ctx, env, "phrases", cfg)
	if !ok {
		return exitFailure
	}
	defer clients.Close()
	db := cfg.ClickHouse.Database
	if sub == "renormalise" {
		start := time.Now()
		res, err := rebuild.Renormalise(ctx, clients.ClickHouse, db, table, *dryRun)
		if err != nil {
			fmt.Fprintf(env.stderr, "trackwatch phrases: %v\n", err)
			return exitFailure
		}
		verb := "renormalised"
		if *dryRun {
			verb = "would renormalise"
		}
		fmt.Fprintf(env.stdout, "%s %d events in %d wordings whose classification changed\n", verb, res.Events, res.Wordings)
		logger.Info("phrases renormalised", "events", res.Events, "wordings", res.Wordings, "dry_run", *dryRun, "seconds", time.Since(start).Seconds())
		return exitOK
	}
	if *disagreements {
		return listDisagreements(ctx, env, clients, db, f, *format)
	}
	ps, err := rebuild.Phrases(ctx, clients.ClickHouse, db, table, f)
	if err != nil {
		fmt.Fprintf(env.stderr, "trackwatch phrases: %v\n", err)
		return exitFailure
	}
	if !printStructured(env, *format, ps) {
		tw := tabwriter.NewWriter(env.stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "EVENTS\tCARRIER\tSTORED AS\tNOW\tLAST SEEN\tRAW STATUS")
		for _, p := range ps {
			now := string(p.Now)
			if now == p.SubStatus {
				now = "="
			}
			raw := p.RawStatus
			if len(raw) > 90 {
				raw = raw[:87] + "..."
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", p.Events, p.Carrier, p.SubStatus, now, p.LastSeen.UTC().Format("2006-01-02"), raw)
		}
		tw.Flush()
		fmt.Fprintf(env.stdout, "%d wordings\n", len(ps))
	}
	return exitOK
}

func listDisagreements(ctx context.Context, env *cmdEnv, clients *service.Clients, db string, f rebuild.PhraseFilter, format string) int {
	ds, err := rebuild.Disagreements(ctx, clients.ClickHouse, db, f)
	if err != nil {
		fmt.Fprintf(env.stderr, "trackwatch phrases: %v\n", err)
		return exitFailure
	}
	if !printStructured(env, format, ds) {
		tw := tabwriter.NewWriter(env.stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "EVENTS\tPROVIDER\tCARRIER\tSTORED AS\tPROVIDER SAYS\tLAST SEEN\tRAW STATUS")
		for _, d := range ds {
			raw := d.RawStatus
			if len(raw) > 90 {
				raw = raw[:87] + "..."
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", d.Events, d.Provider, d.Carrier, d.SubStatus, d.ProviderStatus, d.LastSeen.UTC().Format("2006-01-02"), raw)
		}
		tw.Flush()
		fmt.Fprintf(env.stdout, "%d disagreeing wordings\n", len(ds))
	}
	return exitOK
}
