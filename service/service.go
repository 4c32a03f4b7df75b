package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sync/errgroup"

	"github.com/trackwatch/trackwatch/alert"
	"github.com/trackwatch/trackwatch/alert/notify"
	"github.com/trackwatch/trackwatch/alert/notify/integrations"
	"github.com/trackwatch/trackwatch/backtest"
	"github.com/trackwatch/trackwatch/config"
	"github.com/trackwatch/trackwatch/detect"
	"github.com/trackwatch/trackwatch/feeds"
	"github.com/trackwatch/trackwatch/httpapi"
	"github.com/trackwatch/trackwatch/ingest"
	"github.com/trackwatch/trackwatch/kafkaclient"
	"github.com/trackwatch/trackwatch/lookup"
	"github.com/trackwatch/trackwatch/rebuild"
	"github.com/trackwatch/trackwatch/schemas"
	"github.com/trackwatch/trackwatch/store"
)

// Options are the process-level dependencies of Run. The zero value is usable.
type Options struct {
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Registry receives all metrics; default a new registry with Go and process collectors.
	Registry *prometheus.Registry
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Ready, when set, is called once everything is serving.
	Ready func(Endpoints)
	// ForceEmbedded starts the embedded stack even when servers are configured.
	ForceEmbedded bool
	// NoHTTP skips the HTTP listener (trackwatch ingest scaled out as several processes).
	NoHTTP bool
	// NoDetect skips the detector schedule (trackwatch ingest).
	NoDetect bool
	// Demo feeds simulated, labelled traffic into the topics (trackwatch run --demo).
	Demo *DemoOptions
	// Reload, when set, is called on SIGHUP to read the configuration again: the API's
	// tokens, the listener's certificate, the notification receivers (with their *_file
	// secrets) and the ClickHouse and Kafka credentials are replaced from it; everything
	// else keeps its value until a restart.
	Reload func() (config.Config, error)
}

// Endpoints are the addresses a running trackwatch serves and uses.
type Endpoints struct {
	HTTP string
	// Webhooks is where the provider webhooks are served: HTTP, or
	// ingest.webhooks_listen's address.
	Webhooks       string
	Brokers        []string
	ClickHouseAddr []string
	ClickHouseHTTP string
	// Nodes are an embedded cluster's servers; nil for one server.
	Nodes []Node
}

func (o *Options) defaults() {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Registry == nil {
		o.Registry = prometheus.NewRegistry()
		o.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Migrate connects to the configured (or embedded) ClickHouse and applies the schema.
func Migrate(ctx context.Context, cfg config.Config, stack *Stack, logger *slog.Logger, now func() time.Time) error {
	if stack.Clustered() {
		ran, err := migrateCluster(ctx, cfg, stack, now)
		for _, n := range stack.Nodes {
			for _, m := range ran[n.Addr] {
				logger.Info("migration applied", "node", n.Addr, "shard", n.Shard, "replica", n.Replica, "version", m.Version, "name", m.Name)
			}
		}
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		logger.Info("schema up to date", "database", cfg.ClickHouse.Database, "local_database", schemas.LocalDatabase(cfg.ClickHouse.Database),
			"cluster", stack.clusterName, "nodes", len(stack.Nodes))
		_, err = onEveryNode(ctx, cfg, stack, nil, func(c driver.Conn, db string) (int, error) {
			opts := schemas.DDLOptions{Database: db}
			if stack.keeper { // once for every node
				opts.Cluster = stack.clusterName
			}
			return 0, retain(ctx, c, opts, cfg.ClickHouse.Retention, logger)
		})
		return err
	}
	conn, err := stack.OpenClickHouse(ctx, cfg.ClickHouse)
	if err != nil {
		return err
	}
	defer conn.Close()
	applied, err := schemas.Migrate(ctx, conn, cfg.ClickHouse.DDL(), now)
	for _, m := range applied {
		logger.Info("migration applied", "version", m.Version, "name", m.Name)
	}
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	logger.Info("schema up to date", "database", cfg.ClickHouse.Database, "applied_now", len(applied))
	return retain(ctx, conn, cfg.ClickHouse.DDL(), cfg.ClickHouse.Retention, logger)
}

// retain sets the retention window of the database's history (a TTL; only a changed
// window is written).
func retain(ctx context.Context, conn driver.Conn, opts schemas.DDLOptions, r schemas.Retention, logger *slog.Logger) error {
	changed, err := schemas.ApplyRetention(ctx, conn, opts, r)
	if err != nil {
		return fmt.Errorf("clickhouse.retention: %w", err)
	}
	if len(changed) > 0 {
		logger.Info("retention set", "database", opts.Database, "tables", changed, "events_months", r.EventsMonths, "summaries_months", r.SummariesMonths)
	}
	return nil
}

// Run starts the stack where needed, migrates, and serves until ctx ends.
func Run(ctx context.Context, cfg config.Config, opts Options) error {
	opts.defaults()
	logger := opts.Logger
	stack, err := StartStack(ctx, cfg, opts.ForceEmbedded, logger)
	if err != nil {
		return err
	}
	defer func() {
		if err := stack.Close(); err != nil {
			logger.Error("stop embedded stack", "err", err)
		}
	}()
	if err := Migrate(ctx, cfg, stack, logger, opts.Now); err != nil {
		return err
	}
	cfg.ClickHouse.Distributed = stack.Clustered()
	// One pool for every component, whose credentials a SIGHUP can replace; Kafka's SASL
	// credentials likewise, in every dialer and transport built from cfg.Kafka from now on.
	conn, err := store.OpenPool(ctx, cfg.ClickHouse, stack.ClickHouseAddr...)
	if err != nil {
		return fmt.Errorf("clickhouse: %w", err)
	}
	defer conn.Close()
	if err := cfg.Kafka.EnableCredentialReload(); err != nil {
		return err
	}

	alerts := alert.NewStore(conn, cfg.ClickHouse.Database)
	lookups := lookup.NewReader(conn, cfg.ClickHouse.Database)
	var sched *detect.Scheduler
	var dispatcher *notify.Dispatcher
	if !opts.NoDetect { // before anything starts, so a bad schedule stops nothing half-way
		// One name for this process in tick claims and delivery claims.
		instance := notify.NewInstanceID()
		open := conn.OpenSession
		if len(cfg.Notify.Receivers) > 0 {
			receivers, err := integrations.Build(cfg.Notify)
			if err != nil {
				return err
			}
			dispatcher = notify.NewDispatcher(notify.DispatcherOptions{Conn: conn, DB: cfg.ClickHouse.Database, Config: cfg.Notify,
				Receivers: receivers, Instance: instance, Logger: logger.With("component", "notify"),
				Metrics: notify.NewMetrics(opts.Registry), Now: opts.Now})
		}
		record := func(ctx context.Context, f *detect.Findings) (map[string]int, error) {
			res, err := alerts.Record(ctx, f)
			if res.Changed() {
				logger.Info("alert changes", "component", "alert", "as_of", res.AsOf, "fired", res.Count(alert.ChangeFired),
					"refired", res.Count(alert.ChangeRefired), "resolved", res.Count(alert.ChangeResolved))
			}
			if dispatcher != nil && res.Changed() {
				dispatcher.Wake() // deliver this run's changes now, not at the next poll
			}
			return res.Firing, err
		}
		so := detect.SchedulerOptions{Open: open, Database: cfg.ClickHouse.Database, Config: cfg.Detect,
			Record: record, Logger: logger.With("component", "detect"), Metrics: detect.NewMetrics(opts.Registry), Now: opts.Now}
		if err := stack.onNodes(ctx, conn, cfg.ClickHouse, &so); err != nil {
			return err
		}
		sched, err = detect.NewScheduler(so)
		if err != nil {
			return err
		}
		sched.ShareTicks(detect.NewTickClaims(conn, cfg.ClickHouse.Database, instance))
	}

	phrases, err := cfg.Carriers.Table() // before anything starts, like the schedule
	if err != nil {
		return err
	}
	numbers, err := NumberChecker(cfg)
	if err != nil {
		return err
	}
	kafkaCfg := cfg.Kafka
	checks := map[string]httpapi.Check{
		"clickhouse": func(ctx context.Context) error { return conn.Ping(ctx) },
		"kafka":      func(ctx context.Context) error { return kafkaCfg.Ping(ctx, stack.Brokers) },
	}
	var api, hooksAPI *httpapi.Server
	var webhooks *feeds.Handler
	if !opts.NoHTTP {
		if api, err = httpapi.New(cfg.HTTP, checks, opts.Registry, logger); err != nil {
			return err
		}
		api.MountAPI(alerts, lookups, opts.Now)
		api.MountNumbers(numbers)
		api.MountComparisons(backtest.Comparisons{Conn: conn, Database: cfg.ClickHouse.Database})
		api.MountDetect(cfg.Detect)
		api.MountUI(alerts, lookups, opts.Registry, opts.Now)
		if len(cfg.Ingest.Webhooks) > 0 {
			h, closeProducer, err := Webhooks(cfg, stack.Brokers, conn, opts.Registry, logger.With("component", "webhooks"))
			if err != nil {
				return err
			}
			defer closeProducer()
			webhooks = h
			if cfg.Ingest.WebhooksListen == "" {
				api.MountWebhooks(h)
				logger.Info("accepting provider webhooks", "component", "webhooks", "path", httpapi.WebhookPrefix+"{provider}", "providers", h.Providers())
			} else if hooksAPI, err = httpapi.NewWebhooks(cfg.Ingest.WebhooksListen, cfg.HTTP.TLS, h, logger); err != nil {
				return err
			} else if err := hooksAPI.Listen(); err != nil {
				return fmt.Errorf("ingest.webhooks_listen: %w", err)
			} else {
				logger.Info("accepting provider webhooks on a listener of their own", "component", "webhooks", "addr", hooksAPI.Addr(),
					"path", httpapi.WebhookPrefix+"{provider}", "providers", h.Providers())
			}
		}
		if !api.Authenticated() {
			logger.Warn("no http.tokens configured: the API serves this machine only (loopback), and every local request may act on alerts")
		}
		if err := api.Listen(); err != nil {
			return err
		}
	}

	g, gctx := errgroup.WithContext(ctx)
	if api != nil {
		g.Go(func() error { return api.Serve(gctx) })
	}
	if hooksAPI != nil {
		g.Go(func() error { return hooksAPI.Serve(gctx) })
	}
	metrics := ingest.NewMetrics(opts.Registry)
	g.Go(func() error {
		return ingest.Run(gctx, ingest.Options{
			Kafka: cfg.Kafka, Brokers: stack.Brokers, Config: cfg.Ingest, Conn: conn,
			Database: cfg.ClickHouse.Database, Logger: logger.With("component", "ingest"),
			Metrics: metrics, Phrases: phrases, Numbers: numbers,
		})
	})
	g.Go(func() error {
		// verdicts of numbers stored before this specification (or before number_checks);
		// on a cluster, every node judges the orders it holds (all) in its local tables
		n, err := onEveryNode(gctx, cfg, stack, conn, func(c driver.Conn, db string) (int, error) { return rebuild.Numbers(gctx, c, db, numbers) })
		if err != nil {
			logger.Error("recheck tracking numbers", "component", "ingest", "err", err)
			return nil // the detectors go on with the verdicts they have
		}
		if n > 0 {
			logger.Info("tracking numbers judged again", "component", "ingest", "pairs", n, "specification", numbers.Version())
		}
		return nil
	})
	if opts.Demo != nil {
		g.Go(func() error {
			return demo(gctx, cfg, stack.Brokers, *opts.Demo, opts.Now, logger.With("component", "demo"))
		})
	}
	if sched != nil {
		g.Go(func() error { return sched.Run(gctx) })
	}
	if dispatcher != nil {
		g.Go(func() error { return dispatcher.Run(gctx) })
		var names []string
		for _, r := range cfg.Notify.Receivers {
			names = append(names, r.Name+" ("+r.Type+" "+r.Endpoint()+")")
		}
		logger.Info("delivering alert changes", "receivers", names)
	}
	if opts.Reload != nil {
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		g.Go(func() error {
			defer signal.Stop(hup)
			for {
				select {
				case <-gctx.Done():
					return nil
				case <-hup:
					reload(gctx, opts.Reload, reloadable{api: api, hooksAPI: hooksAPI, webhooks: webhooks, notify: dispatcher, clickhouse: conn, kafka: &cfg.Kafka, brokers: stack.Brokers}, logger)
				}
			}
		})
	}
	g.Go(func() error {
		select {
		case <-gctx.Done():
			return nil
		case <-stack.Died():
			return errors.New("embedded clickhouse kept crashing and was given up; see clickhouse-server.log in its data directory")
		}
	})
	ep := Endpoints{Brokers: stack.Brokers, ClickHouseAddr: stack.ClickHouseAddr, ClickHouseHTTP: stack.ClickHouseHTTP, Nodes: stack.Nodes}
	if api != nil {
		ep.HTTP, ep.Webhooks = api.Addr(), api.Addr()
	}
	if hooksAPI != nil {
		ep.Webhooks = hooksAPI.Addr()
	}
	logger.Info("trackwatch running", "http", ep.HTTP, "kafka", ep.Brokers, "clickhouse", ep.ClickHouseAddr)
	if opts.Ready != nil {
		opts.Ready(ep)
	}
	err = g.Wait()
	logger.Info("trackwatch stopping")
	return err
}

// Dev starts the embedded stack regardless of config, applies the schema, calls ready
// with the addresses, and keeps the stack up until ctx ends, so that trackwatch
// processes pointed at it (or any Kafka and ClickHouse client) can use it.
func Dev(ctx context.Context, cfg config.Config, opts Options) error {
	opts.defaults()
	stack, err := StartStack(ctx, cfg, true, opts.Logger)
	if err != nil {
		return err
	}
	defer func() {
		if err := stack.Close(); err != nil {
			opts.Logger.Error("stop embedded stack", "err", err)
		}
	}()
	if err := Migrate(ctx, cfg, stack, opts.Logger, opts.Now); err != nil {
		return err
	}
	if opts.Ready != nil {
		opts.Ready(Endpoints{Brokers: stack.Brokers, ClickHouseAddr: stack.ClickHouseAddr, ClickHouseHTTP: stack.ClickHouseHTTP, Nodes: stack.Nodes})
	}
	select {
	case <-ctx.Done():
		return nil
	case <-stack.Died():
		return errors.New("embedded clickhouse kept crashing and was given up; see clickhouse-server.log in its data directory")
	}
}

// reloadable is what a SIGHUP can change in a running process.
type reloadable struct {
	api        *httpapi.Server
	hooksAPI   *httpapi.Server // the webhooks' own listener, when ingest.webhooks_listen is set
	webhooks   *feeds.Handler
	notify     *notify.Dispatcher
	clickhouse *store.Pool
	kafka      *kafkaclient.Config // the one the ingest and checks were built from
	brokers    []string
}

// reload applies a configuration read again on SIGHUP: rotated secrets in token_file,
// secret_file, url_file, clickhouse.password_file, kafka.sasl.password_file and the like
// take effect without a restart. New ClickHouse and Kafka credentials are checked against
// the servers before anything is replaced; on any error the running configuration stays.
func reload(ctx context.Context, read func() (config.Config, error), r reloadable, logger *slog.Logger) {
	fail := func(msg string, err error) {
		logger.Error("reload on SIGHUP failed; "+msg, "err", err)
	}
	cfg, err := read()
	if err != nil {
		fail("the running configuration stays", err)
		return
	}
	var receivers []notify.Receiver
	if r.notify != nil {
		if receivers, err = integrations.Build(cfg.Notify); err != nil {
			fail("the running configuration stays", err)
			return
		}
	}
	// New database credentials are tried before anything is replaced: a server that
	// refuses them leaves the whole running configuration as it is.
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	pending, err := r.clickhouse.PrepareCredentials(cctx, cfg.ClickHouse)
	if err != nil {
		fail("the running configuration stays", err)
		return
	}
	committed := false
	defer func() {
		if pending != nil && !committed {
			pending.Discard()
		}
	}()
	kafkaCommit, err := r.kafka.PrepareCredentials(cctx, cfg.Kafka, r.brokers)
	if err != nil {
		fail("the running configuration stays", err)
		return
	}
	if r.notify != nil {
		if err := r.notify.Reload(receivers); err != nil {
			fail("the running configuration stays", err)
			return
		}
	}
	if r.api != nil {
		if err := r.api.SetTokens(cfg.HTTP.Tokens); err != nil {
			fail("the API's tokens, the listener's certificate and the database credentials stay as they were", err)
			return
		}
		if err := r.api.ReloadTLS(cfg.HTTP.TLS); err != nil {
			fail("the listener's certificate and the database credentials stay as they were", err)
			return
		}
	}
	if r.hooksAPI != nil {
		if err := r.hooksAPI.ReloadTLS(cfg.HTTP.TLS); err != nil {
			fail("the webhooks' listener's certificate and the database credentials stay as they were", err)
			return
		}
	}
	if r.webhooks != nil {
		if err := r.webhooks.Reload(cfg.Ingest.Webhooks); err != nil {
			fail("the webhooks' secrets and the database credentials stay as they were", err)
			return
		}
	}
	if kafkaCommit != nil {
		kafkaCommit()
	}
	if pending != nil {
		pending.Commit()
		committed = true
	}
	logger.Info("configuration reloaded on SIGHUP: API tokens, the listener's certificate, notification receivers, webhook secrets and database credentials replaced (other settings need a restart)",
		"tokens", len(cfg.HTTP.Tokens), "receivers", len(receivers),
		"clickhouse_credentials_changed", pending != nil, "clickhouse_user", r.clickhouse.Username(),
		"kafka_credentials_changed", kafkaCommit != nil)
}
