package schemas

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/trackwatch/trackwatch/sqlfile"
)

// A cluster of embedded servers (libchdb: no ON CLUSTER DDL, no ReplicatedMergeTree)
// keeps trackwatch's tables in two databases on every node:
//
//   - the local database (Database + "_local") holds the rows: the migrations' tables,
//     materialized views and summaries, migrated on each node in turn (MigrateNodes);
//   - the database itself holds, for each local table, a Distributed table of the same
//     name and columns over the cluster, so that whatever reads or writes "trackwatch.x"
//     on any node reaches the whole cluster.
//
// Where a table's rows live is its Placement. The detectors' work is local to a shard:
// a tracking number's carrier events and summaries live on the shard its hash picks,
// every order's events on every node (a detector run on a shard evaluates the orders
// whose latest number the shard holds, with the whole order at hand), and what a run
// writes (alerts, their changes, its bookkeeping) on the shard that ran it.

// Placement is where a table's rows live on a cluster.
type Placement int

const (
	// ByNumber tables are sharded by a hash of tracking_number (ShardingKey): a row is
	// written to one shard (each of its replicas) and read from one replica per shard.
	ByNumber Placement = iota + 1
	// Everywhere tables hold every row on every node: written to all of them, read from
	// one. Orders (each shard evaluates orders against its own numbers), and what
	// instances coordinate through (claims, delivery log, actions, jobs).
	Everywhere
	// PerNode tables are written by the detector runs on a node, into its local
	// database (with replicas, the replica that evaluates a shard's run, whose records
	// are then copied to the others), and read from one replica per shard. Nothing
	// inserts through the cluster.
	PerNode
)

// ShardingKey is the expression a ByNumber table is sharded by. A detector run on shard
// i of n evaluates the orders whose latest number has cityHash64(number) % n = i (the
// Distributed engine's choice with equal weights).
const ShardingKey = "cityHash64(tracking_number)"

// placements are every table's, by name. A migration that adds a table adds it here
// (TestEveryTableHasAPlacement).
var placements = map[string]Placement{
	"tracking_events": ByNumber,
	"carrier_months":  ByNumber,

	"order_events":        Everywhere,
	"order_months":        Everywhere,
	"order_numbers":       Everywhere,
	"number_checks":       Everywhere,
	"number_check_runs":   Everywhere,
	"dead_letters":        Everywhere,
	"dead_letter_replays": Everywhere,
	"alert_actions":       Everywhere,
	"notify_attempts":     Everywhere,
	"notify_claims":       Everywhere,
	"notify_receivers":    Everywhere,
	"detect_ticks":        Everywhere,
	"backfill_files":      Everywhere,
	"backtests":           Everywhere,
	"schema_migrations":   Everywhere,
	// comparisons of a setting's values (backtest --vary), as the backtests
	"backtest_comparisons": Everywhere,

	"alerts":             PerNode,
	"alert_changes":      PerNode,
	"alert_runs":         PerNode,
	"alert_history":      PerNode,
	"detect_changes":     PerNode,
	"detect_next_checks": PerNode,
	"detect_checkpoints": PerNode,
}

// PlacementOf returns where table's rows live on a cluster (0 for a table it does not
// know).
func PlacementOf(table string) Placement { return placements[table] }

// Layout names the databases and clusters of an embedded cluster.
type Layout struct {
	// Database is the cluster-facing database (clickhouse.database); its tables are
	// Distributed tables over the local ones.
	Database string
	// Shards is the cluster of the shards (clickhouse.cluster); Everywhere, the
	// cluster of one shard whose replicas are all the nodes.
	Shards, Everywhere string
}

// Local is the database that holds the rows on each node.
func (l Layout) Local() string { return LocalDatabase(l.Database) }

// LocalDatabase is the database that holds the rows on each node of a cluster whose
// cluster-facing database is db.
func LocalDatabase(db string) string { return db + "_local" }

func (l Layout) validate() error {
	for _, c := range []struct{ key, name string }{{"cluster", l.Shards}, {"cluster (everywhere)", l.Everywhere}} {
		if !clusterRe.MatchString(c.name) {
			return fmt.Errorf("%s: %q must match %s", c.key, c.name, clusterRe)
		}
	}
	o := DDLOptions{Database: l.Database}
	if err := o.Validate(); err != nil {
		return err
	}
	if !identRe.MatchString(l.Local()) {
		return fmt.Errorf("database: %q must match %s", l.Local(), identRe)
	}
	return nil
}

// MigrateCluster migrates an embedded cluster: the local database on every node
// (MigrateNodes, refused before any change when a node recorded another checksum),
// then on every node the cluster-facing Distributed tables over the local ones, created
// where missing and replaced where a migration changed the local table's columns.
func MigrateCluster(ctx context.Context, nodes []Node, l Layout, now func() time.Time) (map[string][]Migration, error) {
	if l.Database == "" {
		l.Database = "trackwatch"
	}
	if err := l.validate(); err != nil {
		return nil, err
	}
	ran, err := MigrateNodes(ctx, nodes, DDLOptions{Database: l.Local()}, now)
	if err != nil {
		return ran, err
	}
	for _, n := range nodes {
		if err := distribute(ctx, n.Conn, l); err != nil {
			return ran, fmt.Errorf("node %s: %w", n.Name, err)
		}
	}
	return ran, nil
}

// distribute creates or updates the Distributed tables of conn's node.
func distribute(ctx context.Context, conn Conn, l Layout) error {
	if err := conn.Exec(ctx, statements.In(l.Database, "database")); err != nil {
		return fmt.Errorf("cluster database: %w", err)
	}
	var tables []struct {
		Database string `ch:"database"`
		Table    string `ch:"table"`
		Columns  string `ch:"columns"`
	}
	if err := conn.Select(ctx, &tables, statements.Text("tables", nil), namedArgs("local", l.Local(), "db", l.Database)...); err != nil {
		return fmt.Errorf("cluster tables: %w", err)
	}
	have := map[string]string{}
	var local []string
	cols := map[string]string{}
	for _, t := range tables {
		if t.Database == l.Database {
			have[t.Table] = t.Columns
		} else {
			local = append(local, t.Table)
			cols[t.Table] = t.Columns
		}
	}
	slices.Sort(local)
	for _, t := range local {
		p := placements[t]
		if p == 0 {
			return fmt.Errorf("table %s has no placement on a cluster (schemas/cluster.go)", t)
		}
		current, exists := have[t]
		if exists && current == cols[t] {
			continue
		}
		data := sqlfile.Data{"DB": sqlfile.Ident(l.Database), "Local": sqlfile.Ident(l.Local()), "LocalName": l.Local(),
			"Table": sqlfile.Ident(t), "TableName": t, "Cluster": l.Shards, "Key": "", "Replace": exists}
		switch p {
		case ByNumber:
			data["Key"] = ShardingKey
		case Everywhere:
			data["Cluster"] = l.Everywhere
		}
		if err := conn.Exec(ctx, statements.Text("distributed", data)); err != nil {
			return fmt.Errorf("cluster table %s: %w", t, err)
		}
	}
	return nil
}
