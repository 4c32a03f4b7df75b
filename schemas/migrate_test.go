package schemas_test

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/trackwatch/trackwatch/devstack"
	"github.com/trackwatch/trackwatch/devstack/devstacktest"
	"github.com/trackwatch/trackwatch/schemas"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestMain(m *testing.M) {
	devstack.RunChildIfRequested()
	os.Exit(m.Run())
}

func renderAll(t *testing.T, opts schemas.DDLOptions) string {
	t.Helper()
	script, err := schemas.Script(opts)
	if err != nil {
		t.Fatal(err)
	}
	return script
}

func TestDDLMatchesGoldenFiles(t *testing.T) {
	keeper := schemas.Layout{Database: "tw", Shards: "prod_cluster", Everywhere: "prod_cluster_everywhere", Keeper: true}
	for _, tc := range []struct {
		name   string
		render func() (string, error)
	}{
		{"single server with defaults", func() (string, error) { return schemas.Script(schemas.DDLOptions{}) }},
		{"cluster with replicated engines", func() (string, error) {
			return schemas.Script(schemas.DDLOptions{Database: "tw", Cluster: "prod_cluster"})
		}},
		{"write_all cluster layout", func() (string, error) {
			l := keeper
			l.Keeper = false
			return schemas.ClusterScript(l)
		}},
		{"keeper cluster layout", func() (string, error) { return schemas.ClusterScript(keeper) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.render()
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "golden", strings.ReplaceAll(tc.name, " ", "_")+".sql")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./schemas -update to create it)", err)
			}
			if got != string(want) {
				t.Fatalf("DDL differs from %s (go test ./schemas -update rewrites it):\n%s", golden, got)
			}
		})
	}
}

func TestClusterDDLIsOnClusterAndReplicatedEverywhere(t *testing.T) {
	opts := schemas.DDLOptions{Cluster: "c1"}
	boot, _ := schemas.Bootstrap(opts)
	ms, err := schemas.Migrations(opts)
	if err != nil {
		t.Fatal(err)
	}
	stmts := boot
	for _, m := range ms {
		stmts = append(stmts, m.Statements...)
	}
	for _, s := range stmts {
		if !strings.Contains(s, "ON CLUSTER `c1`") {
			t.Errorf("statement lacks ON CLUSTER:\n%s", s)
		}
		if strings.Contains(s, "ENGINE") && !strings.Contains(s, "ENGINE = Replicated") {
			t.Errorf("table engine is not replicated:\n%s", s)
		}
		if strings.Contains(s, "non_replicated_deduplication_window") {
			t.Errorf("cluster DDL uses the non-replicated dedup setting:\n%s", s)
		}
	}
}

func TestBadNamesAreRejected(t *testing.T) {
	for _, tc := range []struct {
		name, key string
		opts      schemas.DDLOptions
	}{
		{"database with a quote", "database", schemas.DDLOptions{Database: "x`; DROP"}},
		{"database starting with a digit", "database", schemas.DDLOptions{Database: "1db"}},
		{"cluster with a space", "cluster", schemas.DDLOptions{Cluster: "a b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := schemas.Migrations(tc.opts)
			if err == nil || !strings.HasPrefix(err.Error(), tc.key+":") {
				t.Fatalf("err = %v, want one naming %q", err, tc.key)
			}
		})
	}
}

func TestMigrateTwiceCreatesTablesOnce(t *testing.T) {
	ch := devstacktest.StartClickHouse(t, t.TempDir())
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{ch.Addr()}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := context.Background()
	now := func() time.Time { return time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC) }
	opts := schemas.DDLOptions{Database: "mig"}
	all, _ := schemas.Migrations(opts)

	first, err := schemas.Migrate(ctx, conn, opts, now)
	if err != nil {
		t.Fatalf("first migrate: %v", err)
	}
	if len(first) != len(all) {
		t.Fatalf("first run applied %d migrations, want %d", len(first), len(all))
	}
	second, err := schemas.Migrate(ctx, conn, opts, now)
	if err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	if len(second) != 0 {
		t.Fatalf("second run applied %d migrations, want 0", len(second))
	}
	var tables []struct {
		Name string `ch:"name"`
	}
	if err := conn.Select(ctx, &tables, "SELECT name FROM system.tables WHERE database = {db:String} ORDER BY name", clickhouse.Named("db", "mig")); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tb := range tables {
		names = append(names, tb.Name)
	}
	if got, want := strings.Join(names, ","), "alert_actions,alert_changes,alert_history,alert_runs,alerts,backfill_files,backtest_comparisons,backtests,carrier_months,carrier_months_mv,dead_letter_replays,dead_letters,detect_changes,detect_changes_order_mv,detect_changes_tracking_mv,detect_checkpoints,detect_next_checks,detect_ticks,notify_attempts,notify_claims,notify_receivers,number_check_runs,number_checks,number_checks_mv,order_events,order_months,order_months_mv,order_numbers,order_numbers_mv,schema_migrations,tracking_events"; got != want {
		t.Fatalf("tables = %s, want %s", got, want)
	}
	var recorded uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM mig.schema_migrations FINAL").Scan(&recorded); err != nil {
		t.Fatal(err)
	}
	if int(recorded) != len(all) {
		t.Fatalf("schema_migrations has %d rows, want %d", recorded, len(all))
	}

	// An applied migration whose file later changed stops the next run.
	if err := conn.Exec(ctx, "INSERT INTO mig.schema_migrations VALUES (1, '0001_events.sql', 'edited', now64(3) + 60)"); err != nil {
		t.Fatal(err)
	}
	if _, err := schemas.Migrate(ctx, conn, opts, now); !errors.Is(err, schemas.ErrChecksumMismatch) {
		t.Fatalf("migrate after edit: err = %v, want ErrChecksumMismatch", err)
	}
}

func TestTheAlertStoreMigrationKeepsAlertsAndCanRunAgain(t *testing.T) {
	ch := devstacktest.StartClickHouse(t, t.TempDir())
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{ch.Addr()}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := context.Background()
	opts := schemas.DDLOptions{Database: "up"}
	all, err := schemas.Migrations(opts)
	if err != nil {
		t.Fatal(err)
	}
	// The database as it was before 0004: alerts versioned by write time.
	if err := conn.Exec(ctx, "CREATE DATABASE up"); err != nil {
		t.Fatal(err)
	}
	for _, m := range all[:3] {
		for _, st := range m.Statements {
			if err := conn.Exec(ctx, st); err != nil {
				t.Fatalf("%s: %v", m.Name, err)
			}
		}
	}
	if err := conn.Exec(ctx, `INSERT INTO up.alerts (alert_id, detector, order_id, evidence, first_detected_at, last_detected_at, status, resolved_at)
		VALUES ('a1', 'stalled_eir', 'o1', '{}', '2026-10-01 00:00:00', '2026-10-05 00:00:00', 'firing', NULL),
		       ('a2', 'stalled_eir', 'o2', '{}', '2026-10-01 00:00:00', '2026-10-03 00:00:00', 'resolved', '2026-10-04 00:00:00')`); err != nil {
		t.Fatal(err)
	}
	for range 2 { // a migration that stopped half-way runs again from its start
		for _, st := range all[3].Statements {
			if err := conn.Exec(ctx, st); err != nil {
				t.Fatalf("%s: %v", all[3].Name, err)
			}
		}
	}
	var got []struct {
		ID   string    `ch:"alert_id"`
		AsOf time.Time `ch:"as_of"`
	}
	if err := conn.Select(ctx, &got, "SELECT alert_id, as_of FROM up.alerts FINAL ORDER BY alert_id"); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !got[0].AsOf.Equal(time.Date(2026, 10, 5, 0, 0, 0, 0, time.UTC)) || !got[1].AsOf.Equal(time.Date(2026, 10, 4, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("alerts after the migration: %+v (want a1 as of its last detection, a2 as of its resolution)", got)
	}
}
