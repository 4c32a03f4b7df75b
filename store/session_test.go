package store_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/trackwatch/trackwatch/devstack"
	"github.com/trackwatch/trackwatch/devstack/devstacktest"
	"github.com/trackwatch/trackwatch/store"
)

func TestMain(m *testing.M) {
	devstack.RunChildIfRequested()
	os.Exit(m.Run())
}

// losses runs n times a statement that reads rows, then one that needs the
// connection's temporary table at once, and counts the times the table was gone.
func losses(t *testing.T, conn driver.Conn, n int) int {
	t.Helper()
	ctx := context.Background()
	if err := conn.Exec(ctx, "CREATE TEMPORARY TABLE IF NOT EXISTS kept ENGINE = Memory AS SELECT 1 AS x"); err != nil {
		t.Fatal(err)
	}
	lost := 0
	for range n {
		var x uint8
		if err := conn.QueryRow(ctx, "SELECT 1").Scan(&x); err != nil {
			t.Fatal(err)
		}
		if err := conn.Exec(ctx, "SELECT count() FROM kept"); err != nil {
			lost++
			// a new connection: make the table again for the next round
			if err := conn.Exec(ctx, "CREATE TEMPORARY TABLE IF NOT EXISTS kept ENGINE = Memory AS SELECT 1 AS x"); err != nil {
				t.Fatal(err)
			}
		}
	}
	return lost
}

// A session keeps its connection, so its temporary tables, from one statement to the
// next, also right after a statement that read rows (clickhouse-go hands that
// connection back from a goroutine; a statement issued before it is back would dial a
// new one).
func TestASessionKeepsItsTemporaryTablesAfterReadingRows(t *testing.T) {
	ch := devstacktest.StartClickHouse(t, t.TempDir())
	cfg := store.Config{Username: "default", DialTimeout: 5 * time.Second, MaxOpenConns: 1}
	raw, err := store.Open(context.Background(), cfg, ch.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	session, err := store.OpenSession(context.Background(), cfg, ch.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer session.Close()
	const n = 2000
	t.Logf("a plain pool of one connection lost its temporary table %d times in %d", losses(t, raw, n), n)
	if lost := losses(t, session, n); lost != 0 {
		t.Fatalf("the session lost its temporary table %d times in %d", lost, n)
	}
}
