package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/trackwatch/trackwatch/alert"
	"github.com/trackwatch/trackwatch/backtest"
	"github.com/trackwatch/trackwatch/config"
	"github.com/trackwatch/trackwatch/detect"
	"github.com/trackwatch/trackwatch/ingest"
	"github.com/trackwatch/trackwatch/schemas"
	"github.com/trackwatch/trackwatch/trackingnumber"
)

// The parts trackwatch's commands share, composed here once: a command parses its flags,
// asks for what it needs and prints.

// ErrNumberSpec is wrapped around an error loading the tracking-number specification's
// files (numbers.spec_dir; `make numbers` fetches them).
var ErrNumberSpec = errors.New("numbers.spec_dir")

// NumberChecker loads the tracking-number specification cfg names (numbers.spec_dir),
// judging the detectors' postal carriers (detect.postal_carriers) as posts. Its error
// wraps ErrNumberSpec.
func NumberChecker(cfg config.Config) (*trackingnumber.Checker, error) {
	numbers, err := trackingnumber.Load(cfg.Numbers)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNumberSpec, err)
	}
	return numbers.WithPostal(cfg.Detect.PostalCarriers), nil
}

// IngestWriter returns a maker of the writer ingest stores events with, as `trackwatch
// run` makes it: cfg's phrase tables, and tracking numbers judged by NumberChecker. Both
// are loaded now, so that a command fails on them before it connects; the error is the
// phrase tables' or NumberChecker's.
func IngestWriter(cfg config.Config, logger *slog.Logger) (func(ingest.Conn) *ingest.Writer, error) {
	phrases, err := cfg.Carriers.Table()
	if err != nil {
		return nil, err
	}
	numbers, err := NumberChecker(cfg)
	if err != nil {
		return nil, err
	}
	return func(conn ingest.Conn) *ingest.Writer {
		return ingest.NewWriter(conn, cfg.ClickHouse.Database, cfg.Ingest, phrases, nil, logger).CheckNumbers(numbers)
	}, nil
}

// Alerts is the alert store of the clients' database.
func (c *Clients) Alerts() *alert.Store { return alert.NewStore(c.ClickHouse, c.store.Database) }

// Detect evaluates set as of asOf with cfg, on a session of its own, and returns the
// findings; with record, it also records them as alerts (alert.Store) and returns what
// that changed.
func (c *Clients) Detect(ctx context.Context, set *detect.Set, cfg detect.Config, asOf time.Time, record bool) ([]detect.Finding, alert.Result, error) {
	if c.cluster != "" {
		return c.detectNodes(ctx, set, cfg, asOf, record)
	}
	var res alert.Result
	session, err := c.Session(ctx)
	if err != nil {
		return nil, res, err
	}
	defer session.Close()
	var all []detect.Finding
	consumers := []detect.Consumer{detect.Collect(&all)}
	if record {
		consumers = append(consumers, c.Alerts().Consumer(&res))
	}
	_, err = set.Evaluate(ctx, session, cfg, asOf, detect.Plain, consumers...)
	return all, res, err
}

// detectNodes is Detect on a cluster: every node evaluates its shard's orders
// in its local database (and records them there); the findings are replica 1's of each
// shard, together, ordered as one server orders them.
func (c *Clients) detectNodes(ctx context.Context, set *detect.Set, cfg detect.Config, asOf time.Time, record bool) ([]detect.Finding, alert.Result, error) {
	res := alert.Result{AsOf: asOf.UTC(), Firing: map[string]int{}, Counts: map[alert.ChangeKind]int{}, Behind: map[string]time.Time{}}
	nodes, shards, err := clusterNodes(ctx, c.ClickHouse, c.cluster)
	if err != nil {
		return nil, res, err
	}
	local, err := detect.NewSet(schemas.LocalDatabase(c.store.Database), set.Names()...)
	if err != nil {
		return nil, res, err
	}
	var all []detect.Finding
	for _, n := range detectNodes(nodes, shards, c.store) {
		if c.keeper && n.Replica > 0 { // the shard's replicas get its records through Keeper
			continue
		}
		session, err := n.Open(ctx)
		if err != nil {
			return nil, res, fmt.Errorf("node %s: %w", n.Name, err)
		}
		var found []detect.Finding
		var r alert.Result
		consumers := []detect.Consumer{detect.Collect(&found)}
		if record {
			consumers = append(consumers, alert.NewStore(session, schemas.LocalDatabase(c.store.Database)).Consumer(&r))
		}
		nc := cfg
		nc.Shard = n.Shard
		_, err = local.Evaluate(ctx, session, nc, asOf, detect.Plain, consumers...)
		session.Close()
		if err != nil {
			return nil, res, fmt.Errorf("node %s: %w", n.Name, err)
		}
		if n.Replica > 0 {
			continue
		}
		all = append(all, found...)
		for d, k := range r.Firing {
			res.Firing[d] += k
		}
		for k, v := range r.Counts {
			res.Counts[k] += v
		}
		res.Changes = append(res.Changes, r.Changes...)
		maps.Copy(res.Behind, r.Behind)
	}
	detect.SortFindings(all)
	return all, res, nil
}

// Backtests is a backtest runner over the clients' database, each step on a session of
// its own; on a cluster, each step on a node of each shard, over its local database.
func (c *Clients) Backtests(ctx context.Context, cfg detect.Config, logger *slog.Logger) (*backtest.Runner, error) {
	r := &backtest.Runner{Conn: c.ClickHouse, Database: c.store.Database, Config: cfg, Logger: logger,
		Session: func(ctx context.Context) (driver.Conn, error) { return c.Session(ctx) }}
	if c.cluster != "" {
		nodes, shards, err := clusterNodes(ctx, c.ClickHouse, c.cluster)
		if err != nil {
			return nil, err
		}
		r.Nodes, r.NodeDatabase = detectNodes(nodes, shards, c.store), schemas.LocalDatabase(c.store.Database)
	}
	return r, nil
}

// SchemaState is what the configured ClickHouse says of trackwatch's schema.
type SchemaState struct {
	Version   string // the server's
	HasSchema bool   // the database records migrations
	// Applied migrations of Known (the ones this build has).
	Applied, Known int
}

// SchemaState asks ClickHouse its version and how far database db's schema is migrated.
func (c *Clients) SchemaState(ctx context.Context, db string) (SchemaState, error) {
	var st SchemaState
	if err := c.ClickHouse.QueryRow(ctx, statements.In(db, "server_version")).Scan(&st.Version); err != nil {
		return st, err
	}
	known, err := schemas.Migrations(schemas.DDLOptions{Database: db})
	if err != nil {
		return st, err
	}
	st.Known = len(known)
	var exists uint8
	if err := c.ClickHouse.QueryRow(ctx, statements.In(db, "has_schema"), clickhouse.Named("db", db)).Scan(&exists); err != nil {
		return st, err
	}
	if st.HasSchema = exists > 0; !st.HasSchema {
		return st, nil
	}
	var applied uint64
	if err := c.ClickHouse.QueryRow(ctx, statements.In(db, "applied_migrations")).Scan(&applied); err != nil {
		return st, err
	}
	st.Applied = int(applied)
	return st, nil
}
