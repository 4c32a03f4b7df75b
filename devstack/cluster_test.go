package devstack_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/trackwatch/trackwatch/devstack"
	"github.com/trackwatch/trackwatch/devstack/devstacktest"
)

func startCluster(t *testing.T, shards, replicas int) *devstack.Cluster {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cl, err := devstack.StartCluster(ctx, "tw_test", shards, replicas, func(s, r int) devstack.ClickHouseConfig {
		return devstacktest.ClickHouseConfig(t, filepath.Join(dir, fmt.Sprintf("node-%d-%d", s+1, r+1)))
	}, devstacktest.Logger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := cl.Close(); err != nil {
			t.Errorf("stop the cluster: %v", err)
		}
	})
	return cl
}

func count(t *testing.T, conn clickhouse.Conn, q string) uint64 {
	t.Helper()
	var n uint64
	if err := conn.QueryRow(context.Background(), q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// createSharded makes table t_local on every node and t, a Distributed table over them
// sharded by a hash of k, on every node (libchdb refuses ON CLUSTER: each node in turn).
func createSharded(t *testing.T, conns []clickhouse.Conn, cluster string) {
	t.Helper()
	for _, c := range conns {
		for _, q := range []string{
			"CREATE TABLE t_local (k String, v UInt64) ENGINE = MergeTree ORDER BY k",
			"CREATE TABLE t AS t_local ENGINE = Distributed(" + cluster + ", currentDatabase(), t_local, cityHash64(k))",
		} {
			if err := c.Exec(context.Background(), q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
	}
}

func insertThroughDistributed(t *testing.T, conn clickhouse.Conn, n int) {
	t.Helper()
	ctx := clickhouse.Context(context.Background(), clickhouse.WithSettings(clickhouse.Settings{"distributed_foreground_insert": 1}))
	if err := conn.Exec(ctx, "INSERT INTO t SELECT toString(number), number FROM numbers({n:UInt64})", clickhouse.Named("n", uint64(n))); err != nil {
		t.Fatal(err)
	}
}

// Two embedded servers form a sharded cluster: an insert through a Distributed table
// spreads the rows over both shards by the sharding key, a read through it (or
// cluster()) sees every row once, and each node knows the cluster and its own macros.
func TestTwoEmbeddedNodesFormAShardedCluster(t *testing.T) {
	cl := startCluster(t, 2, 1)
	var conns []clickhouse.Conn
	for _, addr := range cl.Addrs() {
		conns = append(conns, open(t, addr))
	}
	if n := count(t, conns[1], "SELECT count() FROM system.clusters WHERE cluster = 'tw_test'"); n != 2 {
		t.Fatalf("node 2 knows %d hosts of the cluster, want 2", n)
	}
	var shard string
	if err := conns[1].QueryRow(context.Background(), "SELECT getMacro('shard')").Scan(&shard); err != nil || shard != "2" {
		t.Fatalf("node 2's shard macro: %q, %v", shard, err)
	}
	createSharded(t, conns, cl.Name)
	insertThroughDistributed(t, conns[0], 10_000)
	local := []uint64{count(t, conns[0], "SELECT count() FROM t_local"), count(t, conns[1], "SELECT count() FROM t_local")}
	if local[0]+local[1] != 10_000 || local[0] < 4_000 || local[1] < 4_000 {
		t.Fatalf("rows per shard %v: want 10,000 spread over both", local)
	}
	for i, c := range conns {
		if n := count(t, c, "SELECT count() FROM t"); n != 10_000 {
			t.Errorf("node %d reads %d rows through the Distributed table, want 10000", i+1, n)
		}
		if n := count(t, c, "SELECT count() FROM cluster('tw_test', currentDatabase(), t_local)"); n != 10_000 {
			t.Errorf("node %d reads %d rows through cluster(), want 10000", i+1, n)
		}
	}
	// a key lives on one shard: the rows of one key sum on the node that holds them
	var onShards uint64
	for _, c := range conns {
		onShards += count(t, c, "SELECT countIf(k = '42') FROM t_local")
	}
	if onShards != 1 {
		t.Fatalf("key 42 stored %d times across the shards", onShards)
	}
	// a GLOBAL join sends the right side to every shard
	if n := count(t, conns[0], "SELECT count() FROM t GLOBAL INNER JOIN (SELECT toString(number) AS k FROM numbers(100)) AS s USING k"); n != 100 {
		t.Fatalf("GLOBAL JOIN matched %d rows, want 100", n)
	}
}

// A shard of two replicas (internal_replication false): the Distributed insert writes
// every replica, so each holds every row.
func TestAShardsReplicasEachGetEveryRow(t *testing.T) {
	cl := startCluster(t, 1, 2)
	var conns []clickhouse.Conn
	for _, addr := range cl.Addrs() {
		conns = append(conns, open(t, addr))
	}
	createSharded(t, conns, cl.Name)
	insertThroughDistributed(t, conns[0], 1_000)
	for i, c := range conns {
		if n := count(t, c, "SELECT count() FROM t_local"); n != 1_000 {
			t.Errorf("replica %d holds %d rows, want 1000", i+1, n)
		}
	}
}

func TestClusterConfigurationErrorsNameTheNode(t *testing.T) {
	dir := t.TempDir()
	node := func(s, r int) devstack.ClickHouseConfig {
		c := devstack.ClickHouseConfig{DataDir: filepath.Join(dir, fmt.Sprintf("n%d%d", s, r)), LibPath: "/nonexistent/libchdb.so"}
		if s == 1 {
			c.ConfigFile = filepath.Join(dir, "own.xml")
		}
		return c
	}
	for _, tc := range []struct {
		name             string
		shards, replicas int
		want             string
	}{
		{"tw", 0, 1, "0 shards x 1 replicas: each must be at least 1"},
		{"1bad", 1, 1, "name \"1bad\""},
		{"tw", 2, 1, "node 2.1: a configuration file of its own"},
	} {
		_, err := devstack.StartCluster(context.Background(), tc.name, tc.shards, tc.replicas, node, devstacktest.Logger())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("StartCluster(%q, %d, %d) = %v, want %q", tc.name, tc.shards, tc.replicas, err, tc.want)
		}
	}
}
