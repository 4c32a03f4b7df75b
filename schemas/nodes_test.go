package schemas_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/trackwatch/trackwatch/devstack"
	"github.com/trackwatch/trackwatch/devstack/devstacktest"
	"github.com/trackwatch/trackwatch/schemas"
)

// On a cluster of embedded servers (no ON CLUSTER DDL), every node gets every migration
// and records it; a node that recorded another checksum stops the migration before any
// node is changed, and the error names it.
func TestMigrateNodesAppliesEveryMigrationOnEveryNode(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cl, err := devstack.StartCluster(ctx, "tw_mig", 2, 1, func(s, r int) devstack.ClickHouseConfig {
		return devstacktest.ClickHouseConfig(t, filepath.Join(dir, fmt.Sprintf("node-%d", s+1)))
	}, devstacktest.Logger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cl.Close() })
	var nodes []schemas.Node
	var conns []clickhouse.Conn
	for _, addr := range cl.Addrs() {
		conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{addr}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = conn.Close() })
		conns = append(conns, conn)
		nodes = append(nodes, schemas.Node{Name: addr, Conn: conn})
	}
	opts := schemas.DDLOptions{Database: "mig"}
	all, err := schemas.Migrations(opts)
	if err != nil {
		t.Fatal(err)
	}
	// node 2 already has the first migrations (an earlier, smaller cluster), node 1 none:
	// applied one by one, as an earlier release did (a later migration's tables would
	// not take an earlier one's INSERT again: 0013's after 0016's new columns)
	boot, err := schemas.Bootstrap(opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range boot {
		if err := conns[1].Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range all[:3] {
		for _, q := range m.Statements {
			if err := conns[1].Exec(ctx, q); err != nil {
				t.Fatalf("%s: %v", m.Name, err)
			}
		}
		if err := conns[1].Exec(ctx, "INSERT INTO mig.schema_migrations VALUES (?, ?, ?, now64(3))", m.Version, m.Name, m.Checksum); err != nil {
			t.Fatal(err)
		}
	}
	ran, err := schemas.MigrateNodes(ctx, nodes, opts, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	if len(ran[nodes[0].Name]) != len(all) || len(ran[nodes[1].Name]) != len(all)-3 {
		t.Fatalf("applied %d on node 1 and %d on node 2, want %d and %d", len(ran[nodes[0].Name]), len(ran[nodes[1].Name]), len(all), len(all)-3)
	}
	recorded := func(c clickhouse.Conn) uint64 {
		var n uint64
		if err := c.QueryRow(ctx, "SELECT count() FROM mig.schema_migrations FINAL").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for i, c := range conns {
		if n := recorded(c); int(n) != len(all) {
			t.Errorf("node %d recorded %d migrations, want %d", i+1, n, len(all))
		}
	}
	// node 2 recorded another checksum for migration 1: nothing runs anywhere
	if err := conns[1].Exec(ctx, "INSERT INTO mig.schema_migrations VALUES (1, '0001_events.sql', 'edited', now64(3) + 60)"); err != nil {
		t.Fatal(err)
	}
	if err := conns[0].Exec(ctx, "ALTER TABLE mig.schema_migrations DELETE WHERE version = 2 SETTINGS mutations_sync = 1"); err != nil {
		t.Fatal(err)
	}
	_, err = schemas.MigrateNodes(ctx, nodes, opts, time.Now)
	if !errors.Is(err, schemas.ErrChecksumMismatch) || !strings.Contains(err.Error(), "node "+nodes[1].Name) {
		t.Fatalf("MigrateNodes with node 2 disagreeing: %v, want ErrChecksumMismatch naming node %s", err, nodes[1].Name)
	}
	if n := recorded(conns[0]); int(n) != len(all)-1 {
		t.Fatalf("node 1 was migrated although node 2 disagrees: %d recorded", n)
	}
}
