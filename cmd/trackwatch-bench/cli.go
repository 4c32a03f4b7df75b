package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/trackwatch/trackwatch/config"
	"github.com/trackwatch/trackwatch/internal/cli"
)

// Exit codes (cli's).
const (
	exitOK      = cli.ExitOK
	exitFailure = cli.ExitFailure // the benchmark ran and failed
	exitUsage   = cli.ExitUsage
)

// cmdEnv is what every benchmark gets from the process.
type cmdEnv struct {
	stdout, stderr io.Writer
	environ        []string
}

// benchmarks are the subcommands, by name.
var benchmarks = map[string]func(ctx context.Context, env *cmdEnv, args []string) int{
	"ingest":   benchIngest,
	"detect":   benchDetect,
	"notify":   benchNotify,
	"api":      benchAPI,
	"backfill": benchBackfill,
	"backtest": benchBacktest,
	"soak":     benchSoak,
	"webhooks": benchWebhooks,
}

// Main runs the benchmark named by args[0] and returns the process exit code. Without
// one it prints the usage: exit 0 for -h or --help, 2 otherwise.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer, environ []string) int {
	env := &cmdEnv{stdout: stdout, stderr: stderr, environ: environ}
	if len(args) > 0 {
		if run, ok := benchmarks[args[0]]; ok {
			return run(ctx, env, args[1:])
		}
	}
	fmt.Fprint(stderr, usage)
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		return exitOK
	}
	return exitUsage
}

const usage = `Usage: trackwatch-bench ingest [flags]
       trackwatch-bench detect [--events 1000000,10000000] [--repeat 3] [--skip-single] [--journeys]
       trackwatch-bench notify [--changes 10000] [--runs 50] [--per-run 10] [--concurrency 4]
       trackwatch-bench api [--events 10000000] [--requests 200]
       trackwatch-bench backfill [--events 1000000] [--batch-rows 20000]
       trackwatch-bench backtest [--events 10000000] [--steps 60] [--parallel 2] [--vary detect.stalled_days=5,7,10] [--skip-all] [--vary-first]
       trackwatch-bench detect --shards 2 [--events 1000000,10000000]
       trackwatch-bench soak [--load 5m] [--orders 10] [--instances 3] [--shards 2] [--replicas 2] [--stop-replica N]
       trackwatch-bench webhooks [--requests 50000] [--concurrency 64] [--latency-seconds 20]

Run it from the repository: go run ./cmd/trackwatch-bench <benchmark> [flags]. It reads
trackwatch's configuration as trackwatch does (--config, else ./trackwatch.yaml if
present; TRACKWATCH_* environment; --set) for the embedded engine (libchdb) and the log.

backfill writes --events generated tracking events to an NDJSON file and, against a
fresh embedded ClickHouse, times ClickHouse's own INSERT ... FORMAT JSONEachRow of the
file into the same table (the reference: nested fields mapped, nothing normalised) and
'trackwatch backfill load' of it as its own process (with its peak RSS).

webhooks posts --requests signed one-checkpoint AfterShip updates to trackwatch's
listener (the provider webhook endpoint, feeds) from --concurrency clients, with
trackwatch's ingest consuming what the endpoint produces, and times them answered and end
to end into ClickHouse; then sends at half that rate for --latency-seconds and reports
the requests' p50/p99; then produces the same events straight to Kafka and times the
plain ingest of them (the reference). Everything runs in this process against its own
embedded Kafka and ClickHouse.

backtest generates the detector benchmark's data and times a backtest of --steps daily
steps ending at the data's as-of moment, beside one step alone (the baseline). With
--vary it then times a backtest of the detectors the setting changes (the baseline) and
backtest --vary of the values over the same steps (--skip-all: only these two;
--vary-first: the comparison first).

api loads the detector benchmark's data, records every detector's alerts, and times the
workspace: the queue (first page, and filtered), an alert page, a seller page and an
API query, each as the store's call in process (the baseline) and as an HTTP request.

notify logs --changes alert changes in a fresh embedded ClickHouse and delivers them to
a local webhook receiver (answering 204): first by a plain loop that signs and posts
them (the baseline), then by trackwatch's dispatcher from the change log (claims,
delivery log). Then it measures the latency from a burst of changes being logged (the
end of a detector run) to each one's first attempt at the receiver.

detect generates each scale's orders and carrier events inside a fresh embedded
ClickHouse and times each detector in a run of its own (evaluate and record alerts;
--skip-single leaves these out) and all detectors in one run, as the schedule runs
them: over the summaries kept at insert, and summarising every event instead (the
baseline, detect.from_events), with the stages of each and the peak memory of
ClickHouse and of trackwatch. The first run of a measurement records every alert; the
median of the later ones (nothing changed) is reported, and the first run apart. Then it
runs the schedule's own runs one after the other: one over every order, --repeat 5
minutes apart (each evaluating only what can have changed; the generated events dated
in those minutes are stored before each, as an ingest would have; each stage's median
over them is reported), and one after a
minute of ingest (60,000 carrier scans and 6,000 order events), failing if that one's counts of
alerts firing differ from a run over every order as of the same moment. With
--journeys, some orders also have a buyer's journey (every 10th paid, every 50th asked to
cancel before its shipment, every 40th disputed, every 60th refunded), so that the
journey's detectors (cancel_dodged, dispute_unanswered, refund_overdue) have work.

detect --shards N loads each scale on one embedded server and copies it into a cluster
of N (through its Distributed tables, sharded as ingest shards), then runs the schedule's
first run (every order) and one 5 minutes later (what changed) on the one server and on
each shard in turn, printing the rows each server read (its SelectedRows counter) and
its time; it fails when the shards' alerts together are not the one server's, alert by
alert (ids, states, texts and evidence: a count and an XOR of their hashes per server).

soak starts a cluster of --shards x --replicas embedded servers and a Kafka broker, three
'trackwatch run' processes pointed at them and a webhook receiver, and produces simulated
traffic for --load. Meanwhile it SIGKILLs an instance (started again 15 s later), stops a
replica for a minute and restarts the broker. Then it checks that every produced event is
stored once, that the replicas of each shard hold the same rows, and that every alert
change reached the receiver (any duplicate with the same webhook-id); exit 1 otherwise.

ingest:

Starts its own embedded Kafka and ClickHouse (in a temp dir), loads --events generated
v1 events into Kafka, and measures in one run: the ceiling (clickhouse-go inserting the
already-decoded rows), trackwatch's ingest as its own process (events/s end to end and
peak RSS), ClickHouse copying the stored rows into the same tables (INSERT ... SELECT:
what the server accepts), the latency from produce to queryable at half the measured
rate (--latency-seconds), and ClickHouse's Kafka engine with a materialized view into
the same tables.

ingest and backfill run the product binary as its own process: before anything is
timed, they build it from this source tree (go build ./cmd/trackwatch) into a temp dir.
Prints a Markdown table for BENCHMARKS.md. Needs libchdb (make chdb).
`

// configFlags are the configuration flags every benchmark has.
type configFlags struct {
	file string
	sets []string
}

// newFlags makes a benchmark's flag set with --config and --set, and the usage text.
func newFlags(env *cmdEnv) (*flag.FlagSet, *configFlags) {
	fs := flag.NewFlagSet("trackwatch-bench", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	cf := &configFlags{}
	fs.StringVar(&cf.file, "config", "", "YAML config `file` (default ./trackwatch.yaml if present)")
	fs.Func("set", "override a config key: `key.path=value` (repeatable)", func(v string) error {
		cf.sets = append(cf.sets, v)
		return nil
	})
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage+"\nFlags:\n")
		fs.PrintDefaults()
	}
	return fs, cf
}

// parse parses flags; on failure the flag package has printed the error and usage. -h
// is exit 0, a bad flag or a stray argument exit 2.
var parse = cli.Parse

// loadOrExit reads the configuration from --config (else TRACKWATCH_CONFIG, else
// ./trackwatch.yaml if present), the TRACKWATCH_* environment and --set, as trackwatch
// does, and builds the logger; or reports the problem.
func (cf *configFlags) loadOrExit(env *cmdEnv) (config.Config, *slog.Logger, bool) {
	cfg, err := cli.LoadConfig(cf.file, env.environ, cf.sets)
	if err != nil {
		fmt.Fprintf(env.stderr, "trackwatch-bench: %v\n", err)
		return cfg, nil, false
	}
	return cfg, cfg.Log.Logger(os.Stderr), true
}

// benchEnv loads the configuration and makes the progress printer a benchmark reports
// its steps with, on stderr.
func benchEnv(env *cmdEnv, cf *configFlags) (config.Config, *slog.Logger, func(string), bool) {
	cfg, logger, ok := cf.loadOrExit(env)
	if !ok {
		return cfg, nil, nil, false
	}
	started := time.Now()
	return cfg, logger, func(step string) { fmt.Fprintf(env.stderr, "[%6.1fs] %s\n", time.Since(started).Seconds(), step) }, true
}
