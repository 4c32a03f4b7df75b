package service

import (
	"context"
	"fmt"
	"net"
	"reflect"
	"strconv"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/trackwatch/trackwatch/config"
	"github.com/trackwatch/trackwatch/detect"
	"github.com/trackwatch/trackwatch/devstack"
	"github.com/trackwatch/trackwatch/schemas"
	"github.com/trackwatch/trackwatch/sqlfile"
	"github.com/trackwatch/trackwatch/store"
)

// An embedded cluster (embedded.clickhouse.shards and replicas) keeps its rows in each
// node's local database and answers for the whole cluster through Distributed tables
// in the configured database (schemas.MigrateCluster): ingest, the API and the
// notifications use those, on any node; the detectors run shard by shard, on a node of
// the shard over the shard's orders in its local database, recording the alerts there
// and copying them to the shard's other replicas.

// Clustered reports whether cfg starts (or, for a command, reaches) an embedded cluster,
// or names configured servers that form a cluster (write_all or keeper).
func Clustered(cfg config.Config) bool {
	return cfg.ClickHouse.Embedded() && cfg.Embedded.ClickHouse.Clustered() || cfg.ClickHouse.WriteAll() || cfg.ClickHouse.Keeper()
}

// Script is the DDL trackwatch applies for cfg (`trackwatch migrate --print`): one
// server's, or a cluster's whole layout (a keeper cluster's once ON CLUSTER, a
// write_all or embedded cluster's on each node).
func Script(cfg config.Config) (string, error) {
	if Clustered(cfg) {
		name := ClusterName(cfg)
		return schemas.ClusterScript(schemas.Layout{Database: cfg.ClickHouse.Database, Shards: name,
			Everywhere: devstack.Everywhere(name), Keeper: cfg.ClickHouse.Keeper()})
	}
	return schemas.Script(cfg.ClickHouse.DDL())
}

// ClusterName is the name of the cluster's shards: clickhouse.cluster, default
// trackwatch (an embedded cluster's).
func ClusterName(cfg config.Config) string {
	if cfg.ClickHouse.Cluster != "" {
		return cfg.ClickHouse.Cluster
	}
	return "trackwatch"
}

// Node is a server of a cluster: shard and replica from 1, its native address.
type Node struct {
	Shard, Replica int
	Addr           string
}

// clusterNodes are the servers of cluster as conn's server knows them.
func clusterNodes(ctx context.Context, conn driver.Conn, cluster string) ([]Node, int, error) {
	var rows []struct {
		Shard   uint32 `ch:"shard_num"`
		Replica uint32 `ch:"replica_num"`
		Host    string `ch:"host_address"`
		Port    uint16 `ch:"port"`
	}
	if err := conn.Select(ctx, &rows, statements.Text("cluster_nodes", nil), clickhouse.Named("cluster", cluster)); err != nil {
		return nil, 0, fmt.Errorf("cluster %s: its nodes: %w", cluster, err)
	}
	if len(rows) == 0 {
		return nil, 0, fmt.Errorf("cluster %s: the server knows no such cluster (remote_servers)", cluster)
	}
	var nodes []Node
	shards := 0
	for _, r := range rows {
		nodes = append(nodes, Node{Shard: int(r.Shard), Replica: int(r.Replica), Addr: net.JoinHostPort(r.Host, strconv.Itoa(int(r.Port)))})
		shards = max(shards, int(r.Shard))
	}
	return nodes, shards, nil
}

// detectNodes are the cluster's nodes as the detectors run on them: each on a session
// of its own to that node.
func detectNodes(nodes []Node, shards int, cfg store.Config) []detect.Node {
	cfg = nodeConfig(cfg) // a run reads and writes its node's local tables
	var out []detect.Node
	for _, n := range nodes {
		addr := n.Addr
		out = append(out, detect.Node{Name: addr, Shard: detect.Shard{Index: n.Shard - 1, Count: shards}, Replica: n.Replica - 1,
			Open: func(ctx context.Context) (driver.Conn, error) { return store.OpenSession(ctx, cfg, addr) }})
	}
	return out
}

// nodeConfig is cfg for a connection to one node's local tables: no Distributed
// settings, and the node's address in place of the configured ones.
func nodeConfig(cfg store.Config) store.Config {
	cfg.Addr, cfg.Distributed = nil, false
	return cfg
}

// migrateCluster applies the schema on every node of the stack's cluster, whose nodes it
// reads from the first server when the configuration named servers: on a keeper
// cluster once, ON CLUSTER, through the configured servers (listed under the first
// node's address), else node by node.
func migrateCluster(ctx context.Context, cfg config.Config, stack *Stack, now func() time.Time) (map[string][]schemas.Migration, error) {
	if stack.keeper {
		conn, err := store.Open(ctx, cfg.ClickHouse)
		if err != nil {
			return nil, fmt.Errorf("clickhouse: %w", err)
		}
		defer conn.Close()
		if stack.Nodes, _, err = clusterNodes(ctx, conn, stack.clusterName); err != nil {
			return nil, err
		}
		ran, err := schemas.MigrateKeeper(ctx, conn, stack.layout(cfg.ClickHouse.Database), now)
		return map[string][]schemas.Migration{stack.Nodes[0].Addr: ran}, err
	}
	if len(stack.Nodes) == 0 {
		conn, err := store.Open(ctx, cfg.ClickHouse)
		if err != nil {
			return nil, fmt.Errorf("clickhouse: %w", err)
		}
		stack.Nodes, _, err = clusterNodes(ctx, conn, stack.clusterName)
		conn.Close()
		if err != nil {
			return nil, err
		}
	}
	c := nodeConfig(cfg.ClickHouse)
	var nodes []schemas.Node
	for _, n := range stack.Nodes {
		addr := n.Addr
		conn, err := store.Open(ctx, c, addr)
		if err != nil {
			return nil, fmt.Errorf("clickhouse node %s: %w", addr, err)
		}
		defer conn.Close()
		nodes = append(nodes, schemas.Node{Name: addr, Conn: conn})
	}
	return schemas.MigrateCluster(ctx, nodes, stack.layout(c.Database), now)
}

// onEveryNode runs do on conn and the configured database, or, on a write_all
// cluster, on each node and its local database in turn, and returns what the first
// node's do returned. On a keeper cluster it runs once, on the local database of a
// configured server: what do writes there reaches the other replicas through Keeper.
func onEveryNode(ctx context.Context, cfg config.Config, stack *Stack, conn driver.Conn, do func(driver.Conn, string) (int, error)) (int, error) {
	if !stack.Clustered() {
		return do(conn, cfg.ClickHouse.Database)
	}
	if stack.keeper {
		nc, err := store.Open(ctx, cfg.ClickHouse)
		if err != nil {
			return 0, fmt.Errorf("clickhouse: %w", err)
		}
		defer nc.Close()
		return do(nc, schemas.LocalDatabase(cfg.ClickHouse.Database))
	}
	c := nodeConfig(cfg.ClickHouse)
	first := -1
	for _, n := range stack.Nodes {
		nc, err := store.Open(ctx, c, n.Addr)
		if err != nil {
			return 0, fmt.Errorf("clickhouse node %s: %w", n.Addr, err)
		}
		k, err := do(nc, schemas.LocalDatabase(c.Database))
		nc.Close()
		if err != nil {
			return 0, fmt.Errorf("clickhouse node %s: %w", n.Addr, err)
		}
		if first < 0 {
			first = k
		}
	}
	return first, nil
}

// onNodes makes the scheduler's runs evaluate on every node of the stack's cluster, each
// its shard in its local database; nothing on one server.
func (s *Stack) onNodes(ctx context.Context, conn driver.Conn, cfg store.Config, so *detect.SchedulerOptions) error {
	if !s.Clustered() {
		return nil
	}
	nodes, shards, err := clusterNodes(ctx, conn, s.clusterName)
	if err != nil {
		return err
	}
	so.Nodes, so.Database = detectNodes(nodes, shards, cfg), schemas.LocalDatabase(cfg.Database)
	for _, n := range nodes {
		if n.Replica > 1 { // one replica of a shard evaluates, the others get its records
			so.Sync = syncReplica(cfg)
			if s.keeper {
				so.Sync = replicated
			}
		}
	}
	return nil
}

// replicated is the SyncFunc of a keeper cluster: a shard's replicas share its
// records through ReplicatedMergeTree, so one replica evaluates (detect.runNodes picks
// the one with the latest run) and nothing is copied.
func replicated(context.Context, detect.Node, detect.Node) error { return nil }

// syncTables are what a shard's scheduled run records (schemas.PerNode), in the order a
// run writes them (its checkpoint last), each with the column its rows are versioned by.
var syncTables = []struct{ table, column string }{
	{"alert_changes", "as_of"}, {"alerts", "as_of"}, {"alert_runs", "as_of"},
	{"detect_next_checks", "written_at"}, {"detect_checkpoints", "written_at"},
}

// syncReplica copies what the scheduled runs recorded on one replica of a shard to
// another: for each table, the rows from the receiving replica's own latest version on.
// The rows pass through trackwatch (the servers' own remote() would need the
// credentials in the statement).
func syncReplica(cfg store.Config) detect.SyncFunc {
	local := schemas.LocalDatabase(cfg.Database)
	return func(ctx context.Context, from, to detect.Node) error {
		src, err := store.Open(ctx, nodeConfig(cfg), from.Name)
		if err != nil {
			return err
		}
		defer src.Close()
		dst, err := store.Open(ctx, nodeConfig(cfg), to.Name)
		if err != nil {
			return err
		}
		defer dst.Close()
		for _, t := range syncTables {
			data := sqlfile.DB(local).With("Table", sqlfile.Ident(t.table)).With("Column", t.column)
			if err := copyRows(ctx, src, dst, data); err != nil {
				return fmt.Errorf("%s: %w", t.table, err)
			}
		}
		return nil
	}
}

// copyRows copies the rows of a table (data: DB, Table, Column) from src from dst's
// latest version of Column on, whatever the table's columns.
func copyRows(ctx context.Context, src, dst driver.Conn, data sqlfile.Data) error {
	var latest string
	if err := dst.QueryRow(ctx, statements.Text("sync_latest", data)).Scan(&latest); err != nil {
		return err
	}
	rows, err := src.Query(ctx, statements.Text("sync_rows", data), clickhouse.Named("from", latest))
	if err != nil {
		return err
	}
	defer rows.Close()
	types := rows.ColumnTypes()
	batch, err := dst.PrepareBatch(ctx, statements.Text("sync_insert", data))
	if err != nil {
		return err
	}
	defer batch.Abort()
	for rows.Next() {
		vals := make([]any, len(types))
		for i, ct := range types {
			vals[i] = reflect.New(ct.ScanType()).Interface()
		}
		if err := rows.Scan(vals...); err != nil {
			return err
		}
		for i, v := range vals {
			vals[i] = reflect.ValueOf(v).Elem().Interface()
		}
		if err := batch.Append(vals...); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if batch.Rows() == 0 {
		return nil
	}
	return batch.Send()
}

// NodeState is what a node of a cluster says of its local database's schema (Err when
// it cannot be reached).
type NodeState struct {
	Node
	SchemaState
	Err error
}

// Nodes reports each node of the cluster the clients reach, with its local database's
// schema; nil on one server.
func (c *Clients) Nodes(ctx context.Context) ([]NodeState, error) {
	if c.cluster == "" {
		return nil, nil
	}
	nodes, _, err := clusterNodes(ctx, c.ClickHouse, c.cluster)
	if err != nil {
		return nil, err
	}
	var out []NodeState
	for _, n := range nodes {
		st := NodeState{Node: n}
		conn, err := store.Open(ctx, nodeConfig(c.store), n.Addr)
		if err == nil {
			st.SchemaState, err = (&Clients{ClickHouse: conn}).SchemaState(ctx, schemas.LocalDatabase(c.store.Database))
			conn.Close()
		}
		st.Err = err
		out = append(out, st)
	}
	return out, nil
}
