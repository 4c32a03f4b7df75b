package service

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/trackwatch/trackwatch/config"
	"github.com/trackwatch/trackwatch/detect"
	"github.com/trackwatch/trackwatch/schemas"
	"github.com/trackwatch/trackwatch/store"
)

// An embedded cluster (embedded.clickhouse.shards and replicas) keeps its rows in each
// node's local database and answers for the whole cluster through Distributed tables
// in the configured database (schemas.MigrateCluster): ingest, the API and the
// notifications use those, on any node; the detectors run on every node, each over its
// shard's orders in its local database, recording its own alerts there.

// Clustered reports whether cfg starts (or, for a command, reaches) an embedded cluster.
func Clustered(cfg config.Config) bool {
	return cfg.ClickHouse.Embedded() && cfg.Embedded.ClickHouse.Clustered()
}

// ClusterName is the name of the embedded cluster's shards: clickhouse.cluster, default
// trackwatch.
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
	cfg.Distributed = false // a run reads and writes its node's local tables
	var out []detect.Node
	for _, n := range nodes {
		addr := n.Addr
		out = append(out, detect.Node{Name: addr, Shard: detect.Shard{Index: n.Shard - 1, Count: shards}, Replica: n.Replica - 1,
			Open: func(ctx context.Context) (driver.Conn, error) { return store.OpenSession(ctx, cfg, addr) }})
	}
	return out
}

// migrateCluster applies the schema on every node of the stack's cluster.
func migrateCluster(ctx context.Context, cfg config.Config, stack *Stack, now func() time.Time) (map[string][]schemas.Migration, error) {
	c := cfg.ClickHouse
	c.Distributed = false
	var nodes []schemas.Node
	for _, addr := range stack.ClickHouseAddr {
		conn, err := store.Open(ctx, c, addr)
		if err != nil {
			return nil, fmt.Errorf("clickhouse node %s: %w", addr, err)
		}
		defer conn.Close()
		nodes = append(nodes, schemas.Node{Name: addr, Conn: conn})
	}
	return schemas.MigrateCluster(ctx, nodes, schemas.Layout{Database: c.Database, Shards: stack.cluster.Name, Everywhere: stack.cluster.Everywhere}, now)
}

// onEveryNode runs do on conn and the configured database, or, on an embedded cluster,
// on each node and its local database in turn, and returns what the first node's do
// returned.
func onEveryNode(ctx context.Context, cfg config.Config, stack *Stack, conn driver.Conn, do func(driver.Conn, string) (int, error)) (int, error) {
	if stack.cluster == nil {
		return do(conn, cfg.ClickHouse.Database)
	}
	c := cfg.ClickHouse
	c.Distributed = false
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
	if s.cluster == nil {
		return nil
	}
	nodes, shards, err := clusterNodes(ctx, conn, s.cluster.Name)
	if err != nil {
		return err
	}
	so.Nodes, so.Database = detectNodes(nodes, shards, cfg), schemas.LocalDatabase(cfg.Database)
	return nil
}
