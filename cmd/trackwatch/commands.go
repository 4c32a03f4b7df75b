package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"

	"github.com/trackwatch/trackwatch/config"
	"github.com/trackwatch/trackwatch/devstack"
	"github.com/trackwatch/trackwatch/rebuild"
	"github.com/trackwatch/trackwatch/schemas"
	"github.com/trackwatch/trackwatch/service"
)

// allCommands is the command table.
func allCommands() []command {
	return []command{{name: "run", summary: "run the pipeline (starts the embedded stack when no servers are configured)", run: runCmd,
		usage: `Usage: trackwatch run [flags]

Runs trackwatch: applies the schema, serves /healthz and /metrics, and runs the
pipeline. With kafka.brokers and clickhouse.addr unset it first starts the embedded
Kafka broker and ClickHouse server on loopback (see 'trackwatch dev').
`}, {name: "ingest", summary: "run only the Kafka-to-ClickHouse ingest (scale out: several in one group)", run: ingestCmd,
		usage: `Usage: trackwatch ingest [flags]

Runs only the ingest: consumes the tracking and order topics in the consumer group
kafka.group_id and writes ClickHouse, with an exactly-once effect across crashes and
rebalances. Start several processes with the same group to share the partitions. It
serves /healthz and /metrics on http.listen unless --no-http is given.
`}, {name: "simulate", summary: "generate labelled traffic into Kafka or files", run: simulateCmd,
		usage: `Usage: trackwatch simulate [--orders N] [--seed S] [--as-of RFC3339] [--to kafka|files] [--out DIR]

Generates realistic, labelled traffic in the v1 contract: orders across marketplaces,
carriers and countries, covering every detector's positive cases and every trap
(slow sellers, combined parcels, recycled numbers, spelling variants, ...), with
duplicates, out-of-order delivery and timestamps in several offsets. --to kafka
produces it to the running stack's topics; --to files writes tracking-events.ndjson,
order-events.ndjson and truth.json (which detectors should flag each order as of
--as-of) into --out.
`}, {name: "dev", summary: "start the embedded Kafka broker and ClickHouse server and keep them up", run: devCmd,
		usage: `Usage: trackwatch dev [flags]

Starts an in-process Kafka broker with the tracking and order topics and a real
ClickHouse server (libchdb) on loopback, applies the schema, prints the addresses and
runs until interrupted. Data persists in the data directories across restarts.
`}, {name: "backfill", summary: "load history from files (NDJSON, CSV, Parquet) or re-read Kafka from a moment", run: backfillCmd,
		usage: backfillUsage,
	}, {name: "backtest", summary: "what the detectors would have said as of every day of a past period, and how early", run: backtestCmd,
		usage: backtestUsage,
	}, {name: "dlq", summary: "list or replay dead-lettered messages", run: dlqCmd,
		usage: `Usage: trackwatch dlq list   [--topic T] [--reason R] [--since TIME] [--open] [--limit N] [--format table|json]
       trackwatch dlq replay [--topic T] [--reason R] [--since TIME] [--again] [--dry-run] [--all]

list shows the messages ingest could not accept, newest first, with the reason, the
error, where they came from and how often they were replayed. replay re-produces the
selected ones (raw bytes and key unchanged) to their topics after a fix, so they go
through ingest again, and records the replay; ones already replayed are skipped unless
--again. Both connect to the running stack (configured, or the embedded one that
'trackwatch run' or 'trackwatch dev' serves).
`}, {name: "detect", summary: "evaluate the detectors once, now or as of a past moment", run: detectCmd,
		usage: `Usage: trackwatch detect --once [--detector NAME] [--as-of RFC3339] [--record] [--format table|json|ndjson]

Evaluates the detectors in ClickHouse and prints what they flag, with the recommended
action and a reason a buyer can paste into a dispute. Without --as-of it evaluates now
and records the alerts (firing, and resolving those whose condition cleared). With
--as-of it sees only events that occurred at or before that moment and prints the
findings; add --record to write them as alerts too. The same data and moment always
give the same findings. Connects to the running stack.

Alerts are versioned by the moment a run evaluated, not by when it wrote: --record with
an --as-of earlier than the detectors' latest recorded run changes none of their
alerts (it says so); in an empty database, runs recorded in time order build the
alerts' history as it would have happened.
`}, {name: "alerts", summary: "list alerts", run: alertsCmd,
		usage: `Usage: trackwatch alerts [--detector NAME] [--status firing|resolved] [--limit N] [--format table|json|ndjson]

Lists the alerts the detectors recorded, newest detection first. Connects to the
running stack.
`}, {name: "receivers", summary: "list, enable or disable notification receivers; a test webhook receiver", run: receiversCmd,
		usage: receiversUsage,
	}, {name: "notifications", summary: "list or replay alert notifications", run: notificationsCmd,
		usage: notificationsUsage,
	}, {name: "number", summary: "explain a tracking number's verdict: formats, check digits, couriers", run: numberCmd,
		usage: numberUsage,
	}, {name: "phrases", summary: "carrier wordings seen, the unmapped ones; re-classify stored history", run: phrasesCmd,
		usage: phrasesUsage,
	}, {name: "migrate", summary: "apply the ClickHouse schema and exit", run: migrateCmd,
		usage: `Usage: trackwatch migrate [flags]

Applies the embedded schema migrations that the ClickHouse database has not recorded,
in order, and exits. Idempotent. With --print, prints the DDL instead of applying it
(with clickhouse.cluster set: ON CLUSTER DDL with Replicated* engines).
--rebuild-summaries then summarises every month of events again into the summaries the
detectors read (carrier_months, order_months), one month at a time: once after
migrating a cluster with history (its migrations cannot fill them there), or to repair
them.
`}, {name: "config", summary: "print the effective configuration (secrets masked)", run: configCmd,
		usage: `Usage: trackwatch config [--keys] [--check] [flags]

Loads the configuration as every command does (file, TRACKWATCH_* environment, flags),
validates it and prints the result as YAML with defaults filled and secrets masked.
With --keys, lists every key with its environment variable instead. With --check, it
then connects to every configured dependency and reports each: ClickHouse (its version
and the database's schema), Kafka (the brokers, the topics and their partitions) and
each notification receiver's host (a TCP connection; nothing is sent); it exits 1 when
one fails.
`}, {name: "health", summary: "ask a running trackwatch's /healthz (exit 0 when healthy), for container health checks", run: healthCmd,
		usage: healthUsage,
	}, {name: "version", summary: "print the version", run: versionCmd,
		usage: "Usage: trackwatch version\n\nPrints trackwatch's version, the Go version, the embedded ClickHouse (libchdb) version and the event contract version.\n"}}
}

// embeddedAliases are the shorthand flags for the embedded stack's ports and paths.
func embeddedAliases(f *flag.FlagSet, cf *configFlags) {
	cf.alias(f, "kafka-listen", "embedded.kafka.listen", "embedded Kafka `host:port`")
	cf.alias(f, "partitions", "embedded.kafka.partitions", "partitions per embedded topic")
	cf.alias(f, "kafka-data-dir", "embedded.kafka.data_dir", "embedded Kafka data `dir`")
	cf.alias(f, "clickhouse-data-dir", "embedded.clickhouse.data_dir", "embedded ClickHouse data `dir`")
	cf.alias(f, "clickhouse-tcp-port", "embedded.clickhouse.tcp_port", "embedded ClickHouse native `port`")
	cf.alias(f, "clickhouse-http-port", "embedded.clickhouse.http_port", "embedded ClickHouse HTTP `port`")
}

func runCmd(ctx context.Context, env *cmdEnv, c command, args []string) int {
	fs, cf := newFlags(env, c)
	cf.alias(fs, "http-listen", "http.listen", "HTTP `host:port` for /healthz and /metrics")
	demoOn := fs.Bool("demo", false, "feed simulated, labelled traffic continuously and run the detectors every minute, to watch alerts appear")
	demoEvery := fs.Duration("demo-interval", 20*time.Second, "with --demo: how often a batch of simulated orders is produced")
	embeddedAliases(fs, cf)
	if ok, code := parse(fs, args); !ok {
		return code
	}
	cfg, logger, ok := cf.loadOrExit(env)
	if !ok {
		return exitUsage
	}
	cfg.Runtime.Apply(env.environ) // a long-running process: bound its heap
	opts := service.Options{Logger: logger, Ready: func(ep service.Endpoints) {
		fmt.Fprintf(env.stdout, "trackwatch is running\n  health:     http://%s/healthz\n  metrics:    http://%s/metrics\n  kafka:      %s\n  clickhouse: %s\n",
			ep.HTTP, ep.HTTP, strings.Join(ep.Brokers, ","), strings.Join(ep.ClickHouseAddr, ","))
		printNodes(env.stdout, ep.Nodes)
		if *demoOn {
			fmt.Fprintf(env.stdout, "demo: simulated orders every %s, detectors every minute; watch them with\n  ./bin/trackwatch alerts --status firing\n", *demoEvery)
		}
	}}
	opts.Reload = func() (config.Config, error) { return cf.load(env) }
	if *demoOn {
		opts.Demo = &service.DemoOptions{Interval: *demoEvery}
		if cfg.Detect.Schedule == "*/5 * * * *" { // the default: a demo should not keep people waiting
			cfg.Detect.Schedule = "* * * * *"
		}
	}
	err := service.Run(ctx, cfg, opts)
	if err != nil {
		logger.Error("run failed", "err", err)
		return exitFailure
	}
	return exitOK
}

func ingestCmd(ctx context.Context, env *cmdEnv, c command, args []string) int {
	fs, cf := newFlags(env, c)
	cf.alias(fs, "http-listen", "http.listen", "HTTP `host:port` for /healthz and /metrics")
	noHTTP := fs.Bool("no-http", false, "do not serve /healthz and /metrics")
	embeddedAliases(fs, cf)
	if ok, code := parse(fs, args); !ok {
		return code
	}
	cfg, logger, ok := cf.loadOrExit(env)
	if !ok {
		return exitUsage
	}
	cfg.Runtime.Apply(env.environ) // a long-running process: bound its heap
	err := service.Run(ctx, cfg, service.Options{Logger: logger, NoHTTP: *noHTTP, NoDetect: true, Ready: func(ep service.Endpoints) {
		fmt.Fprintf(env.stdout, "trackwatch ingest is running (group %s)\n  kafka:      %s\n  clickhouse: %s\n",
			cfg.Kafka.GroupID, strings.Join(ep.Brokers, ","), strings.Join(ep.ClickHouseAddr, ","))
		printNodes(env.stdout, ep.Nodes)
	}, Reload: func() (config.Config, error) { return cf.load(env) }}) // SIGHUP: rotated database credentials
	if err != nil {
		logger.Error("ingest failed", "err", err)
		return exitFailure
	}
	return exitOK
}

func devCmd(ctx context.Context, env *cmdEnv, c command, args []string) int {
	fs, cf := newFlags(env, c)
	embeddedAliases(fs, cf)
	if ok, code := parse(fs, args); !ok {
		return code
	}
	cfg, logger, ok := cf.loadOrExit(env)
	if !ok {
		return exitUsage
	}
	cfg.Runtime.Apply(env.environ) // a long-running process: bound its heap
	err := service.Dev(ctx, cfg, service.Options{Logger: logger, Ready: func(ep service.Endpoints) {
		if len(ep.Nodes) > 0 {
			fmt.Fprintf(env.stdout, "embedded stack is up (Ctrl-C stops it)\n  kafka:            %s  topics %s, %s\n  clickhouse http:  http://%s (node 1)\n  database:         %s (Distributed tables over %s on every node)\n",
				strings.Join(ep.Brokers, ","), cfg.Kafka.TrackingTopic, cfg.Kafka.OrderTopic, ep.ClickHouseHTTP, cfg.ClickHouse.Database, schemas.LocalDatabase(cfg.ClickHouse.Database))
			printNodes(env.stdout, ep.Nodes)
			fmt.Fprintf(env.stdout, "Commands given the same --set embedded.clickhouse.* reach it (alerts, detect, config --check); point\nanother trackwatch (run, ingest) at it with:\n  --set kafka.brokers=%s --set clickhouse.addr=%s --set clickhouse.cluster=%s --set clickhouse.replication=write_all\n",
				strings.Join(ep.Brokers, ","), ep.ClickHouseAddr[0], service.ClusterName(cfg))
			return
		}
		fmt.Fprintf(env.stdout, "embedded stack is up (Ctrl-C stops it)\n  kafka:            %s  topics %s, %s\n  clickhouse:       %s (native)\n  clickhouse http:  http://%s\n  database:         %s\nPoint another trackwatch at it with:\n  --set kafka.brokers=%s --set clickhouse.addr=%s\n",
			strings.Join(ep.Brokers, ","), cfg.Kafka.TrackingTopic, cfg.Kafka.OrderTopic,
			strings.Join(ep.ClickHouseAddr, ","), ep.ClickHouseHTTP, cfg.ClickHouse.Database,
			strings.Join(ep.Brokers, ","), strings.Join(ep.ClickHouseAddr, ","))
	}})
	if err != nil {
		logger.Error("dev failed", "err", err)
		return exitFailure
	}
	return exitOK
}

func migrateCmd(ctx context.Context, env *cmdEnv, c command, args []string) int {
	fs, cf := newFlags(env, c)
	printOnly := fs.Bool("print", false, "print the DDL for this configuration instead of applying it")
	rebuildSummaries := fs.Bool("rebuild-summaries", false, "then summarise every month of events again into carrier_months and order_months")
	if ok, code := parse(fs, args); !ok {
		return code
	}
	cfg, logger, ok := cf.loadOrExit(env)
	if !ok {
		return exitUsage
	}
	if *printOnly {
		script, err := service.Script(cfg)
		if err != nil {
			fmt.Fprintf(env.stderr, "trackwatch: %v\n", err)
			return exitUsage
		}
		fmt.Fprint(env.stdout, script)
		return exitOK
	}
	stack, err := service.StartStack(ctx, cfg, false, logger)
	if err != nil {
		logger.Error("migrate failed", "err", err)
		return exitFailure
	}
	defer stack.Close()
	if err := service.Migrate(ctx, cfg, stack, logger, time.Now); err != nil {
		logger.Error("migrate failed", "err", err)
		return exitFailure
	}
	if *rebuildSummaries {
		conn, err := stack.OpenClickHouse(ctx, cfg.ClickHouse)
		if err != nil {
			logger.Error("rebuild summaries failed", "err", err)
			return exitFailure
		}
		defer conn.Close()
		start := time.Now()
		months, err := rebuild.Summaries(ctx, conn, cfg.ClickHouse.Database, func(table string, m time.Time) {
			logger.Info("summaries rebuilt", "table", table, "month", m.Format("2006-01"))
		})
		if err != nil {
			logger.Error("rebuild summaries failed", "err", err)
			return exitFailure
		}
		logger.Info("summaries rebuilt", "months", months, "seconds", time.Since(start).Seconds())
	}
	return exitOK
}

func configCmd(ctx context.Context, env *cmdEnv, c command, args []string) int {
	fs, cf := newFlags(env, c)
	keys := fs.Bool("keys", false, "list every key and its environment variable")
	check := fs.Bool("check", false, "also connect to every configured dependency (ClickHouse, Kafka, receivers' hosts) and report each; exit 1 if one fails")
	if ok, code := parse(fs, args); !ok {
		return code
	}
	if *keys {
		for _, k := range config.Keys() {
			fmt.Fprintf(env.stdout, "%-36s %s%s\n", k, config.EnvPrefix, strings.ToUpper(strings.ReplaceAll(k, ".", "_")))
		}
		return exitOK
	}
	cfg, err := cf.load(env)
	if err != nil {
		fmt.Fprintf(env.stderr, "trackwatch: %v\n", err)
		return exitUsage
	}
	out, err := config.Dump(cfg)
	if err != nil {
		fmt.Fprintf(env.stderr, "trackwatch: %v\n", err)
		return exitFailure
	}
	fmt.Fprint(env.stdout, out)
	if *check {
		fmt.Fprintln(env.stdout)
		if !checkDependencies(ctx, env, cfg) {
			return exitFailure
		}
	}
	return exitOK
}

func versionCmd(_ context.Context, env *cmdEnv, c command, args []string) int {
	if len(args) > 0 {
		fmt.Fprint(env.stderr, c.usage)
		if args[0] == "-h" || args[0] == "--help" {
			return exitOK
		}
		return exitUsage
	}
	fmt.Fprintf(env.stdout, "trackwatch %s (%s, embedded clickhouse: libchdb %s, event contract v%d)\n",
		buildVersion(), runtime.Version(), devstack.ChdbVersion, schemas.ContractVersion)
	return exitOK
}

// printNodes lists an embedded cluster's ClickHouse servers, one per line.
func printNodes(w io.Writer, nodes []service.Node) {
	if len(nodes) > 0 {
		fmt.Fprintf(w, "  clickhouse cluster: %d nodes\n", len(nodes))
	}
	for _, n := range nodes {
		fmt.Fprintf(w, "    shard %d replica %d  %s\n", n.Shard, n.Replica, n.Addr)
	}
}
