package schemas_test

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/trackwatch/trackwatch/devstack/devstacktest"
	"github.com/trackwatch/trackwatch/schemas"
)

// libchdb runs neither ON CLUSTER DDL nor ReplicatedMergeTree, so the keeper cluster's
// DDL is checked here as far as it can be without such servers: against the write_all
// layout (which runs on embedded clusters), and through ClickHouse's own parser.

var keeperLayout = schemas.Layout{Database: "tw", Shards: "prod_cluster", Everywhere: "prod_cluster_everywhere", Keeper: true}

// scriptStatements splits a script as Script and ClusterScript write it: each statement
// ends with ";" and a blank line; comment lines are dropped.
func scriptStatements(t *testing.T, script string) []string {
	t.Helper()
	var out []string
	for _, chunk := range strings.Split(script, ";\n\n") {
		var code []string
		for _, line := range strings.Split(chunk, "\n") {
			if !strings.HasPrefix(strings.TrimSpace(line), "--") {
				code = append(code, line)
			}
		}
		if s := strings.TrimSpace(strings.Join(code, "\n")); s != "" {
			out = append(out, s)
		}
	}
	if len(out) < 50 {
		t.Fatalf("%d statements in the script: the split no longer matches it", len(out))
	}
	return out
}

var (
	createTableRe = regexp.MustCompile("^CREATE (?:OR REPLACE )?TABLE (?:IF NOT EXISTS )?`(\\w+)`\\.`?(\\w+)`?")
	engineRe      = regexp.MustCompile(`(?m)^ENGINE = (\w+)\((.*)\)$`)
	viewRe        = regexp.MustCompile("^CREATE MATERIALIZED VIEW IF NOT EXISTS `\\w+`\\.\\w+(?: ON CLUSTER `\\w+`)? TO `\\w+`\\.(\\w+) AS(?s:.*?)FROM `\\w+`\\.(\\w+)")
)

// createdTables are the CREATE TABLE statements of db in stmts, by table, in order.
func createdTables(stmts []string, db string) map[string][]string {
	out := map[string][]string{}
	for _, s := range stmts {
		if m := createTableRe.FindStringSubmatch(s); m != nil && m[1] == db {
			out[m[2]] = append(out[m[2]], s)
		}
	}
	return out
}

// Every table of the write_all layout (the one embedded clusters run) has its keeper
// counterpart: created by the same statements in the local database, ON CLUSTER, with
// the replicated variant of the same engine and arguments, replicated within its shard
// or across every node by where its rows live, and a Distributed table over it through
// the cluster that reaches each row once.
func TestEveryWriteAllTableHasItsKeeperCounterpart(t *testing.T) {
	writeAll, err := schemas.Script(schemas.DDLOptions{Database: "tw_local", Local: true})
	if err != nil {
		t.Fatal(err)
	}
	keeper, err := schemas.ClusterScript(keeperLayout)
	if err != nil {
		t.Fatal(err)
	}
	wa, kp := scriptStatements(t, writeAll), scriptStatements(t, keeper)
	waTables, kpTables, distributed := createdTables(wa, "tw_local"), createdTables(kp, "tw_local"), createdTables(kp, "tw")
	if len(waTables) < 20 {
		t.Fatalf("found %d tables in the write_all script: the pattern no longer matches it", len(waTables))
	}
	for table, creates := range waTables {
		kcreates := kpTables[table]
		if len(kcreates) != len(creates) {
			t.Errorf("%s: created %d times in the keeper layout, %d in write_all", table, len(kcreates), len(creates))
			continue
		}
		for i, c := range creates {
			k := kcreates[i]
			if !strings.Contains(k, " ON CLUSTER `prod_cluster`\n") {
				t.Errorf("%s: not ON CLUSTER:\n%s", table, k)
			}
			we, ke := engineRe.FindStringSubmatch(c), engineRe.FindStringSubmatch(k)
			if we == nil || ke == nil {
				t.Errorf("%s: no engine line in\n%s\nor\n%s", table, c, k)
				continue
			}
			path := "'/clickhouse/tables/{uuid}/{shard}', '{replica}'"
			if schemas.ReplicatedEverywhere(table) {
				path = "'/clickhouse/tables/{uuid}/all', '{shard}-{replica}'"
			}
			wantArgs := path
			if we[2] != "" {
				wantArgs += ", " + we[2]
			}
			if ke[1] != "Replicated"+we[1] || ke[2] != wantArgs {
				t.Errorf("%s: keeper engine %s(%s), want Replicated%s(%s)", table, ke[1], ke[2], we[1], wantArgs)
			}
			// the rest of the statement (columns, keys, TTL) is the same
			norm := func(s string) string {
				s = strings.Replace(s, " ON CLUSTER `prod_cluster`", "", 1)
				s = engineRe.ReplaceAllString(s, "ENGINE")
				s = strings.Replace(s, "replicated_deduplication_window = 10000, replicated_deduplication_window_seconds = 604800", "DEDUP", 1)
				return strings.Replace(s, "non_replicated_deduplication_window = 10000", "DEDUP", 1)
			}
			if norm(c) != norm(k) {
				t.Errorf("%s: the keeper statement differs from write_all's beyond ON CLUSTER and the engine:\n%s\n---\n%s", table, c, k)
			}
		}
		d := distributed[table]
		if len(d) != 1 {
			t.Errorf("%s: %d Distributed tables over it, want 1", table, len(d))
			continue
		}
		cluster := "prod_cluster"
		if schemas.ReplicatedEverywhere(table) {
			cluster = "prod_cluster_everywhere"
		}
		want := "ENGINE = Distributed('" + cluster + "', 'tw_local', '" + table + "')"
		if schemas.PlacementOf(table) == schemas.ByNumber {
			want = "ENGINE = Distributed('" + cluster + "', 'tw_local', '" + table + "', " + schemas.ShardingKey + ")"
		}
		if !strings.HasSuffix(d[0], want) || !strings.Contains(d[0], " ON CLUSTER `prod_cluster` AS `tw_local`.`"+table+"`") {
			t.Errorf("%s: Distributed table\n%s\nwant ON CLUSTER, AS the local table, and %s", table, d[0], want)
		}
	}
	for table := range kpTables {
		if waTables[table] == nil {
			t.Errorf("%s: in the keeper layout only", table)
		}
	}
	for _, s := range kp {
		if strings.Contains(s, "CREATE") && !strings.Contains(s, "ON CLUSTER `prod_cluster`") {
			t.Errorf("keeper DDL without ON CLUSTER:\n%s", s)
		}
		if strings.HasPrefix(s, "INSERT") {
			t.Errorf("keeper DDL inserts (a new cluster has no rows to fill from, and an ON CLUSTER migration cannot insert once per shard):\n%s", s)
		}
	}
}

// A materialized view runs only on the server an insert reaches, not on a replica that
// fetches the part: on a keeper cluster, a view over a table replicated across every
// node must write into one replicated across every node too, or the shards the insert
// did not reach would miss its rows. And on any cluster, a view over a sharded table
// cannot fill an Everywhere table (each node would hold only its shard's part).
func TestKeeperLayoutReplicatesViewTargets(t *testing.T) {
	script, err := schemas.Script(schemas.DDLOptions{Database: "tw"})
	if err != nil {
		t.Fatal(err)
	}
	views := 0
	for _, s := range scriptStatements(t, script) {
		m := viewRe.FindStringSubmatch(s)
		if m == nil {
			continue
		}
		views++
		target, source := m[1], m[2]
		if schemas.ReplicatedEverywhere(source) && !schemas.ReplicatedEverywhere(target) {
			t.Errorf("view %s -> %s: the source is replicated across every node, the target only within a shard", source, target)
		}
		if schemas.PlacementOf(source) != schemas.Everywhere && schemas.PlacementOf(target) == schemas.Everywhere {
			t.Errorf("view %s -> %s: a sharded source fills a table every node must hold whole", source, target)
		}
	}
	if views < 6 {
		t.Fatalf("found %d views: the pattern no longer matches the script", views)
	}
}

// Every statement of the keeper layout parses: ClickHouse's own parser (formatQuery on
// an embedded server, which parses without executing, so ON CLUSTER and the Replicated
// engines need no Keeper) reads each one and prints it back with its ON CLUSTER clause
// and engine.
func TestKeeperDDLParses(t *testing.T) {
	keeper, err := schemas.ClusterScript(keeperLayout)
	if err != nil {
		t.Fatal(err)
	}
	ch := devstacktest.StartClickHouse(t, t.TempDir())
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{ch.Addr()}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	stmts := scriptStatements(t, keeper)
	for _, s := range stmts {
		var formatted string
		if err := conn.QueryRow(ctx, "SELECT formatQuery({q:String})", clickhouse.Named("q", s)).Scan(&formatted); err != nil {
			t.Errorf("does not parse: %v\n%s", err, s)
			continue
		}
		if strings.HasPrefix(s, "CREATE") && !strings.Contains(formatted, "ON CLUSTER prod_cluster") {
			t.Errorf("parsed without its ON CLUSTER clause:\n%s\n---\n%s", s, formatted)
		}
		if e := engineRe.FindStringSubmatch(s); e != nil && !strings.Contains(formatted, "ENGINE = "+e[1]+"(") {
			t.Errorf("parsed without its engine %s:\n%s", e[1], formatted)
		}
	}
	// the parser does reject what is not SQL: the check can fail
	if err := conn.QueryRow(ctx, "SELECT formatQuery({q:String})", clickhouse.Named("q", stmts[1]+" ENGINE")).Scan(new(string)); err == nil {
		t.Fatal("formatQuery accepted a statement with a stray ENGINE at its end")
	}
}

// recordingConn is a server that has nothing yet: it records what it is sent.
type recordingConn struct{ execs, selects []string }

func (c *recordingConn) Exec(_ context.Context, q string, _ ...any) error {
	c.execs = append(c.execs, q)
	return nil
}

func (c *recordingConn) Select(_ context.Context, _ any, q string, _ ...any) error {
	c.selects = append(c.selects, q)
	return nil
}

// A keeper cluster is migrated through one server, once: every statement of the
// bootstrap and the migrations in turn, each ON CLUSTER, each migration recorded once
// (in a table replicated across every node), then the cluster-facing database.
func TestMigrateKeeperAppliesEachStatementOnceOnCluster(t *testing.T) {
	conn := &recordingConn{}
	ran, err := schemas.MigrateKeeper(context.Background(), conn, keeperLayout, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	local := schemas.DDLOptions{Database: "tw_local", Cluster: "prod_cluster", Local: true}
	boot, err := schemas.Bootstrap(local)
	if err != nil {
		t.Fatal(err)
	}
	all, err := schemas.Migrations(local)
	if err != nil {
		t.Fatal(err)
	}
	if len(ran) != len(all) {
		t.Fatalf("applied %d migrations, want %d", len(ran), len(all))
	}
	want := slices.Clone(boot)
	for _, m := range all {
		want = append(want, m.Statements...)
		want = append(want, "record "+m.Name)
	}
	want = append(want, "CREATE DATABASE IF NOT EXISTS `tw` ON CLUSTER `prod_cluster`")
	var got []string
	records := 0
	for _, q := range conn.execs {
		if strings.HasPrefix(q, "INSERT INTO `tw_local`.schema_migrations") && records < len(all) {
			q = "record " + all[records].Name
			records++
		}
		got = append(got, q)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("sent %d statements, want %d (each once, in order)", len(got), len(want))
	}
	for _, q := range got {
		if !strings.HasPrefix(q, "record ") && !strings.Contains(q, "ON CLUSTER `prod_cluster`") {
			t.Errorf("sent without ON CLUSTER:\n%s", q)
		}
	}
	// a write_all cluster is not migrated this way, nor a keeper one node by node
	if _, err := schemas.MigrateCluster(context.Background(), nil, keeperLayout, time.Now); err == nil {
		t.Error("MigrateCluster migrated a keeper cluster node by node")
	}
}
