package schemas

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
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

// fedFromEverywhere are the tables, besides the Everywhere ones, that a materialized
// view fills from an Everywhere table: detect_changes, from order_events. On a keeper
// cluster an insert reaches one node and a replica that fetches the part does not run
// the views, so such a table must replicate across every node too, or the other
// shards would never see an order change (TestKeeperLayoutReplicatesViewTargets).
var fedFromEverywhere = map[string]bool{"detect_changes": true}

// ReplicatedEverywhere reports whether table, on a keeper cluster, is one replicated
// table across every node (else its replicas are the nodes of a shard).
func ReplicatedEverywhere(table string) bool {
	return placements[table] == Everywhere || fedFromEverywhere[table]
}

// The Keeper paths and replica names of a keeper cluster's local tables (DDLOptions
// Local with Cluster). {uuid} is the table's, which an ON CLUSTER statement gives every
// node alike, so that a migration's CREATE OR REPLACE (0004) makes a new table rather
// than meet the old one's path; {shard} and {replica} are each server's macros. A table
// replicated across every node has one path for all shards and a replica name unique
// across them.
var (
	shardPath      = []string{"'/clickhouse/tables/{uuid}/{shard}'", "'{replica}'"}
	everywherePath = []string{"'/clickhouse/tables/{uuid}/all'", "'{shard}-{replica}'"}
)

// LocalGranularity is the index_granularity of the order tables (orderTables) in a
// cluster's local database. Every node holds every order, and a scheduled run on a
// shard looks its changed orders up one by one: each lookup reads at least a granule,
// so with the default 8,192 rows a few hundred scattered orders read most of those
// tables on every shard (BENCHMARKS.md, "Rows read per shard"). A cluster's tables are
// created new, so they can take it at creation; one server keeps the default.
const LocalGranularity = 1024

// orderTables are the tables a scoped run looks orders up in, by order_id or number.
var orderTables = map[string]bool{"order_events": true, "order_months": true, "order_numbers": true}

var createRe = regexp.MustCompile("^CREATE (?:OR REPLACE )?TABLE (?:IF NOT EXISTS )?`[^`]+`\\.(\\w+)")

// place adapts the statements of a cluster's local database (Local) to where each
// table's rows live: a keeper cluster's tables replicated across every node get their
// path, and the order tables their granularity. Other statements are unchanged.
func (o DDLOptions) place(stmts []string) []string {
	if !o.Local {
		return stmts
	}
	for i, s := range stmts {
		m := createRe.FindStringSubmatch(s)
		if m == nil {
			continue
		}
		if o.Cluster != "" && ReplicatedEverywhere(m[1]) {
			s = strings.Replace(s, strings.Join(shardPath, ", "), strings.Join(everywherePath, ", "), 1)
		}
		if orderTables[m[1]] {
			setting := "index_granularity = " + strconv.Itoa(LocalGranularity)
			lines := strings.Split(s, "\n")
			if last := lines[len(lines)-1]; strings.HasPrefix(last, "SETTINGS ") {
				lines[len(lines)-1] = last + ", " + setting
			} else {
				lines = append(lines, "SETTINGS "+setting)
			}
			s = strings.Join(lines, "\n")
		}
		stmts[i] = s
	}
	return stmts
}

// Layout names the databases and clusters of a sharded cluster.
type Layout struct {
	// Database is the cluster-facing database (clickhouse.database); its tables are
	// Distributed tables over the local ones.
	Database string
	// Shards is the cluster of the shards (clickhouse.cluster); Everywhere, the
	// cluster of one shard whose replicas are all the nodes.
	Shards, Everywhere string
	// Keeper says the servers replicate through ClickHouse Keeper
	// (clickhouse.replication keeper): the local tables are Replicated*MergeTree,
	// created once ON CLUSTER (MigrateKeeper), and the clusters set
	// internal_replication. Else each replica is written by the inserts (write_all, and
	// every embedded cluster) and every node is migrated in turn (MigrateCluster).
	Keeper bool
}

// ddl is the DDL of the layout's local database.
func (l Layout) ddl() DDLOptions {
	o := DDLOptions{Database: l.Local(), Local: true}
	if l.Keeper {
		o.Cluster = l.Shards
	}
	return o
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
	if l.Keeper {
		return nil, errors.New("replication: a keeper cluster is migrated once, ON CLUSTER (MigrateKeeper), not node by node")
	}
	ran, err := MigrateNodes(ctx, nodes, l.ddl(), now)
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

// MigrateKeeper migrates a keeper cluster (Layout.Keeper) through conn, any one of its
// servers: each migration once, ON CLUSTER, the local tables Replicated*MergeTree
// (schema_migrations among the tables replicated across every node, so the record is
// one for the cluster), then the cluster-facing Distributed tables, ON CLUSTER too. It
// needs servers with ClickHouse Keeper and the macros {shard} and {replica}; libchdb
// has neither (ClusterScript is what it would run).
func MigrateKeeper(ctx context.Context, conn Conn, l Layout, now func() time.Time) ([]Migration, error) {
	if l.Database == "" {
		l.Database = "trackwatch"
	}
	l.Keeper = true
	if err := l.validate(); err != nil {
		return nil, err
	}
	ran, err := Migrate(ctx, conn, l.ddl(), now)
	if err != nil {
		return ran, err
	}
	return ran, distribute(ctx, conn, l)
}

// ClusterScript is the whole DDL of a new cluster of layout l as one script: the local
// database's migrations, then the cluster-facing database and a Distributed table over
// each local table. On a keeper cluster (Layout.Keeper) it is what MigrateKeeper runs,
// once, every statement ON CLUSTER; on a write_all cluster, what MigrateCluster runs on
// each node. `trackwatch migrate --print` shows it, and golden files hold it.
func ClusterScript(l Layout) (string, error) {
	if err := l.validate(); err != nil {
		return "", err
	}
	script, err := Script(l.ddl())
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(script)
	b.WriteString("-- the cluster-facing tables\n")
	b.WriteString(statements.Text("database", l.data("")) + ";\n\n")
	for _, t := range slices.Sorted(maps.Keys(placements)) {
		b.WriteString(statements.Text("distributed", l.data(t)) + ";\n\n")
	}
	return b.String(), nil
}

// data is what the statements of sql/cluster.sql are rendered with for table t (none:
// the database's).
func (l Layout) data(t string) sqlfile.Data {
	data := sqlfile.Data{"DB": sqlfile.Ident(l.Database), "Local": sqlfile.Ident(l.Local()), "LocalName": l.Local(),
		"Table": sqlfile.Ident(t), "TableName": t, "Cluster": l.Shards, "Key": "", "Replace": false, "OnCluster": ""}
	if l.Keeper {
		data["OnCluster"] = " ON CLUSTER " + sqlfile.Ident(l.Shards).String()
	}
	switch {
	case placements[t] == ByNumber:
		data["Key"] = ShardingKey
	case placements[t] == Everywhere, l.Keeper && ReplicatedEverywhere(t):
		// every node holds every row: read from one (through the shards' cluster, each
		// shard would answer with all of them)
		data["Cluster"] = l.Everywhere
	}
	return data
}

// distribute creates or updates the Distributed tables of conn's node (of every node, ON
// CLUSTER, on a keeper cluster).
func distribute(ctx context.Context, conn Conn, l Layout) error {
	if err := conn.Exec(ctx, statements.Text("database", l.data(""))); err != nil {
		return fmt.Errorf("cluster database: %w", err)
	}
	var tables []struct {
		Database string `ch:"database"`
		Table    string `ch:"table"`
		Engine   string `ch:"engine"`
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
			if t.Engine != "Distributed" { // replacing it would drop its rows
				return fmt.Errorf("table %s.%s is a %s table, not a Distributed one: the database holds rows of a server not yet laid out as a cluster; copy them into the cluster (docs/cluster.md#resharding) or choose another clickhouse.database", t.Database, t.Table, t.Engine)
			}
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
		data := l.data(t).With("Replace", exists)
		if err := conn.Exec(ctx, statements.Text("distributed", data)); err != nil {
			return fmt.Errorf("cluster table %s: %w", t, err)
		}
	}
	return nil
}
