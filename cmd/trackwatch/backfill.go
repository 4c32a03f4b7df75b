package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/trackwatch/trackwatch/backfill"
	"github.com/trackwatch/trackwatch/backfill/eventfile"
	"github.com/trackwatch/trackwatch/feeds"
	"github.com/trackwatch/trackwatch/service"
)

const backfillUsage = `Usage: trackwatch backfill load [flags] FILE|DIR|GLOB|- ...
       trackwatch backfill files [--unfinished] [--limit N] [--format table|json]
       trackwatch backfill kafka --since TIME [--until TIME] [--group ID]

load stores events from files: NDJSON in the v1 contract (one object per line, the
same objects as on the topics), CSV with a header (nested fields flattened as
location.country, ship_to.postal_code, ...) or Parquet, plain or compressed (.gz,
.zst), named one by one, as directories (their files, recursively) or globs; or, with
--format PROVIDER (aftership, 17track, trackingmore, easypost, ship24, shopify), NDJSON
of that provider's own JSON, one saved webhook body or tracking API response per line,
mapped into events as its webhooks are (--marketplace for shopify's orders). Each
file's kind of events is told from its fields unless --topic names it. Events are
decoded, validated and normalised as the Kafka ingest does; rejected ones go to the
dead-letter table with their file and line (trackwatch dlq list). Loading a file
again stores nothing twice, and a load that was interrupted (even killed) goes on
where it stopped when the same command runs again: each file's progress is kept in
ClickHouse (backfill_files). Progress shows as a bar on a terminal and as log lines
otherwise; a summary per file ends the load. Notifications are not sent for
backfilled events until a detector run evaluates them.

files lists the files loads have started, newest first: position reached, records,
rows stored, dead letters, and whether done (--unfinished: the ones a load has yet to
finish; the same load command goes on with them).

kafka re-reads the topics from --since (offsets looked up by timestamp) up to --until
(default: the end of each partition when it starts) in a consumer group of its own,
without touching the live group's offsets, and stores each message that is not
already stored (by topic, partition and offset) exactly once.

Both connect to the running stack (configured, or the embedded one that 'trackwatch
run' or 'trackwatch dev' serves).
`

func backfillCmd(ctx context.Context, env *cmdEnv, c command, args []string) int {
	sub, code, ok := subcommand(env, c, args, "load", "kafka", "files")
	if !ok {
		return code
	}
	switch sub {
	case "kafka":
		return backfillKafkaCmd(ctx, env, c, args[1:])
	case "files":
		return backfillFilesCmd(ctx, env, c, args[1:])
	}
	fs, cf := newFlags(env, c)
	topic := fs.String("topic", "", "the kind of every file's events: tracking or order (default: told from each file's fields)")
	format := fs.String("format", "", "the format of every file: ndjson, csv or parquet (default: from each file's name; needed for -), or a provider: "+strings.Join(feeds.Providers(), ", "))
	marketplace := fs.String("marketplace", "", "with --format shopify: the marketplace of the orders")
	compression := fs.String("compression", "", "standard input's compression: gzip or zstd (files say theirs by name)")
	batch := fs.Int("batch-rows", 20_000, "records per insert block (a resumed file keeps the size it started with)")
	writers := fs.Int("writers", 2, "blocks stored at once (progress is still recorded in file order)")
	progress := fs.String("progress", "auto", "auto (a bar on a terminal, log lines otherwise), bar, log or none")
	summary := fs.String("summary", "table", "the summary at the end: table or json")
	files, ok, code := parseInterleaved(fs, args[1:])
	if !ok {
		return code
	}
	l := backfill.Loader{BatchRows: *batch, Writers: *writers}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(env.stderr, "trackwatch backfill load: "+format+"\n", a...)
		return exitUsage
	}
	switch *topic {
	case "":
	case "tracking", "order":
		l.Kind = eventfile.Kind(*topic)
	default:
		return usage("--topic %q is not tracking or order", *topic)
	}
	l.Marketplace = *marketplace
	if feeds.Known(*format) {
		l.Provider = *format
	} else if *format != "" {
		f, err := eventfile.ParseFormat(*format)
		if err != nil {
			return usage("--%v", err)
		}
		l.Format = f
	}
	switch *compression {
	case "", "gzip", "zstd":
		l.Compression = eventfile.Compression(*compression)
	default:
		return usage("--compression %q is not gzip or zstd", *compression)
	}
	if *batch < 1 || *batch > 1_000_000 {
		return usage("--batch-rows %d is out of range 1..1000000", *batch)
	}
	if *writers < 1 || *writers > 16 {
		return usage("--writers %d is out of range 1..16", *writers)
	}
	if *progress != "auto" && *progress != "bar" && *progress != "log" && *progress != "none" {
		return usage("--progress %q is not auto, bar, log or none", *progress)
	}
	if *summary != "table" && *summary != "json" {
		return usage("--summary %q is not table or json", *summary)
	}
	if len(files) == 0 {
		fmt.Fprintln(env.stderr, "trackwatch backfill load: name at least one file, directory, glob or - (standard input)")
		fs.Usage()
		return exitUsage
	}
	paths, err := eventfile.Expand(files)
	if err != nil {
		return usage("%v", err)
	}
	if err := l.Check(paths); err != nil {
		fmt.Fprintf(env.stderr, "trackwatch backfill load: nothing loaded:\n%v\n", err)
		return exitUsage
	}
	cfg, logger, ok := cf.loadOrExit(env)
	if !ok {
		return exitUsage
	}
	cfg.Runtime.Apply(env.environ) // files of any size: bound the heap as the ingest does
	writer, err := service.IngestWriter(cfg, logger)
	if err != nil {
		fmt.Fprintf(env.stderr, "trackwatch backfill load: %v\n", err)
		return configExit(err)
	}
	clients, ok := connect(ctx, env, "backfill load", cfg)
	if !ok {
		return exitFailure
	}
	defer clients.Close()
	l.Conn, l.Database, l.Logger = clients.ClickHouse, cfg.ClickHouse.Database, logger
	l.Writer = writer(clients.ClickHouse)
	l.TrackingTopic, l.OrderTopic = cfg.Kafka.TrackingTopic, cfg.Kafka.OrderTopic
	mode := *progress
	if mode == "auto" {
		mode = "log"
		if f, ok := env.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			mode = "bar"
		}
	}
	switch mode {
	case "bar":
		l.Progress = &barProgress{w: env.stderr}
	case "log":
		l.Progress = &logProgress{log: logger, every: 10 * time.Second}
	}
	start := time.Now()
	results, err := l.Load(ctx, paths)
	printLoadSummary(env, results, *summary, time.Since(start))
	if err != nil {
		fmt.Fprintf(env.stderr, "trackwatch backfill load: %v\n", err)
		if !errors.Is(err, context.Canceled) {
			fmt.Fprintln(env.stderr, "what was stored is recorded: the same command goes on from there")
		}
		return exitFailure
	}
	return exitOK
}

// parseInterleaved parses flags that may come before, between or after the
// positional arguments, and returns those.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, bool, int) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, false, exitOK
			}
			return nil, false, exitUsage
		}
		if fs.NArg() == 0 {
			return pos, true, exitOK
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func printLoadSummary(env *cmdEnv, results []backfill.FileResult, format string, took time.Duration) {
	if format == "json" {
		printStructured(env, "json", results)
		return
	}
	if len(results) == 0 {
		return
	}
	tw := tabwriter.NewWriter(env.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FILE\tKIND\tFORMAT\tRECORDS READ\tROWS STORED\tALREADY PRESENT\tDUPLICATES\tDEAD-LETTERED\tSECONDS\tROWS/S\t")
	var tot backfill.FileResult
	for _, r := range results {
		rate := "-"
		if r.Seconds > 0 && r.Rows > 0 {
			rate = fmt.Sprintf("%.0f", float64(r.Rows)/r.Seconds)
		}
		note := ""
		if r.LoadedBefore {
			note = " (loaded before)"
		}
		fmt.Fprintf(tw, "%s%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%.1f\t%s\t\n", r.Path, note, r.Kind, r.Format, r.Records, r.Rows, r.AlreadyPresent,
			r.Duplicates, r.DeadLettered, r.Seconds, rate)
		tot.Records += r.Records
		tot.Rows += r.Rows
		tot.AlreadyPresent += r.AlreadyPresent
		tot.Duplicates += r.Duplicates
		tot.DeadLettered += r.DeadLettered
	}
	fmt.Fprintf(tw, "total (%d files)\t\t\t%d\t%d\t%d\t%d\t%d\t%.1f\t%.0f\t\n", len(results), tot.Records, tot.Rows, tot.AlreadyPresent,
		tot.Duplicates, tot.DeadLettered, took.Seconds(), float64(tot.Rows)/max(took.Seconds(), 1e-9))
	tw.Flush()
	if tot.DeadLettered > 0 {
		fmt.Fprintln(env.stdout, "dead-lettered records: trackwatch dlq list --reason ... shows them with their file and line")
	}
}

// barProgress draws a progress bar per file on a terminal: bytes of the file, records
// read and their rate.
type barProgress struct {
	w     io.Writer
	bar   *progressbar.ProgressBar
	start time.Time
	path  string
}

func (p *barProgress) Start(path string, size int64, done int64) {
	p.path, p.start = path, time.Now()
	max := size
	if max <= 0 {
		max = -1 // unknown: a spinner
	}
	p.bar = progressbar.NewOptions64(max,
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionSetDescription(path),
		progressbar.OptionShowBytes(true),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionSetWidth(30),
		progressbar.OptionClearOnFinish(),
	)
}

func (p *barProgress) Advance(bytes, records int64) {
	if p.bar == nil {
		return
	}
	rate := float64(records) / max(time.Since(p.start).Seconds(), 1e-9)
	p.bar.Describe(fmt.Sprintf("%s: %d records, %.0f/s", p.path, records, rate))
	_ = p.bar.Set64(bytes)
}

func (p *barProgress) Finish(r backfill.FileResult) {
	if p.bar != nil {
		_ = p.bar.Finish()
		p.bar = nil
	}
}

// logProgress writes a log line per file and, while one loads, every interval.
type logProgress struct {
	log   *slog.Logger
	every time.Duration
	start time.Time
	last  time.Time
	path  string
	size  int64
}

func (p *logProgress) Start(path string, size int64, done int64) {
	p.path, p.size, p.start, p.last = path, size, time.Now(), time.Now()
	p.log.Info("backfill file started", "path", path, "bytes", size, "resumed_after", done)
}

func (p *logProgress) Advance(bytes, records int64) {
	if time.Since(p.last) < p.every {
		return
	}
	p.last = time.Now()
	el := time.Since(p.start).Seconds()
	args := []any{"path", p.path, "records", records, "records_per_s", int(float64(records) / max(el, 1e-9)), "bytes", bytes}
	if p.size > 0 && bytes > 0 {
		frac := float64(bytes) / float64(p.size)
		eta := time.Duration(el * (1 - frac) / frac * float64(time.Second))
		args = append(args, "percent", int(100*frac), "eta", eta.Round(time.Second).String())
	}
	p.log.Info("backfill progress", args...)
}

func (p *logProgress) Finish(r backfill.FileResult) {
	p.log.Info("backfill file done", "path", r.Path, "loaded_before", r.LoadedBefore, "rows", r.Rows, "already_present", r.AlreadyPresent,
		"duplicates", r.Duplicates, "dead_lettered", r.DeadLettered, "seconds", r.Seconds)
}

func backfillKafkaCmd(ctx context.Context, env *cmdEnv, c command, args []string) int {
	fs, cf := newFlags(env, c)
	since := fs.String("since", "", "read from this RFC 3339 moment (required)")
	until := fs.String("until", "", "stop at this RFC 3339 moment (default: the end of each partition when the replay starts)")
	group := fs.String("group", "", "the replay's consumer group (default trackwatch-replay-<since>); the same group resumes a stopped replay")
	if ok, code := parse(fs, args); !ok {
		return code
	}
	r := backfill.Replay{}
	var err error
	if r.Since, err = time.Parse(time.RFC3339, *since); err != nil {
		fmt.Fprintf(env.stderr, "trackwatch backfill kafka: --since %q is not RFC 3339 (e.g. 2026-10-01T00:00:00Z)\n", *since)
		return exitUsage
	}
	if *until != "" {
		if r.Until, err = time.Parse(time.RFC3339, *until); err != nil {
			fmt.Fprintf(env.stderr, "trackwatch backfill kafka: --until %q is not RFC 3339\n", *until)
			return exitUsage
		}
		if !r.Until.After(r.Since) {
			fmt.Fprintln(env.stderr, "trackwatch backfill kafka: --until must be after --since")
			return exitUsage
		}
	}
	cfg, logger, ok := cf.loadOrExit(env)
	if !ok {
		return exitUsage
	}
	r.Group = *group
	if r.Group == "" {
		r.Group = "trackwatch-replay-" + r.Since.UTC().Format("20060102T150405Z")
	}
	if r.Group == cfg.Kafka.GroupID {
		fmt.Fprintf(env.stderr, "trackwatch backfill kafka: --group %q is the live ingest's group; a replay needs a group of its own\n", r.Group)
		return exitUsage
	}
	writer, err := service.IngestWriter(cfg, logger)
	if err != nil {
		fmt.Fprintf(env.stderr, "trackwatch backfill kafka: %v\n", err)
		return configExit(err)
	}
	if r.Dialer, err = cfg.Kafka.Dialer(); err != nil {
		fmt.Fprintf(env.stderr, "trackwatch backfill kafka: %v\n", err)
		return exitUsage
	}
	if r.Transport, err = cfg.Kafka.Transport(); err != nil {
		fmt.Fprintf(env.stderr, "trackwatch backfill kafka: %v\n", err)
		return exitUsage
	}
	clients, ok := connect(ctx, env, "backfill kafka", cfg)
	if !ok {
		return exitFailure
	}
	defer clients.Close()
	r.Brokers, r.Conn, r.Database, r.Logger = clients.Brokers, clients.ClickHouse, cfg.ClickHouse.Database, logger
	r.TrackingTopic, r.OrderTopic = cfg.Kafka.TrackingTopic, cfg.Kafka.OrderTopic
	r.Writer = writer(clients.ClickHouse)
	last := time.Now()
	r.Progress = func(topic string, partition int, offset, end int64) {
		if time.Since(last) >= 5*time.Second || offset >= end {
			last = time.Now()
			logger.Info("replay progress", "topic", topic, "partition", partition, "offset", offset, "end", end)
		}
	}
	start := time.Now()
	res, err := r.Run(ctx)
	fmt.Fprintf(env.stdout, "replay %s: %d messages read, %d stored, %d already stored, %d dead-lettered, %d duplicates in %.1fs\n",
		r.Group, res.Messages, res.Stored, res.AlreadyStored, res.DeadLettered, res.Duplicates, time.Since(start).Seconds())
	if err != nil {
		fmt.Fprintf(env.stderr, "trackwatch backfill kafka: %v\n(the same command with --group %s goes on from the committed offsets)\n", err, r.Group)
		return exitFailure
	}
	return exitOK
}

func backfillFilesCmd(ctx context.Context, env *cmdEnv, c command, args []string) int {
	fs, cf := newFlags(env, c)
	unfinished := fs.Bool("unfinished", false, "only files a load has not finished")
	limit := fs.Int("limit", 100, "at most this many")
	format := fs.String("format", "table", "table or json")
	if ok, code := parse(fs, args); !ok {
		return code
	}
	if *format != "table" && *format != "json" {
		fmt.Fprintf(env.stderr, "trackwatch backfill files: --format %q is not table or json\n", *format)
		return exitUsage
	}
	cfg, _, ok := cf.loadOrExit(env)
	if !ok {
		return exitUsage
	}
	clients, ok := connect(ctx, env, "backfill files", cfg)
	if !ok {
		return exitFailure
	}
	defer clients.Close()
	files, err := backfill.Files(ctx, clients.ClickHouse, cfg.ClickHouse.Database, *unfinished, *limit)
	if err != nil {
		fmt.Fprintf(env.stderr, "trackwatch backfill files: %v\n", err)
		return exitFailure
	}
	if printStructured(env, *format, files) {
		return exitOK
	}
	tw := tabwriter.NewWriter(env.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "UPDATED\tPATH\tKIND\tFORMAT\tSTATE\tPOSITION\tRECORDS\tROWS STORED\tDEAD-LETTERED\tFILE ID")
	for _, f := range files {
		state := "unfinished"
		if f.Done {
			state = "done"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%.12s\n", f.UpdatedAt.UTC().Format(time.RFC3339), f.Path, f.Kind, f.Format,
			state, f.Position, f.Records, f.RowsStored, f.DeadLettered, f.FileID)
	}
	tw.Flush()
	if len(files) == 0 {
		fmt.Fprintln(env.stdout, "(no backfilled files)")
	}
	return exitOK
}
