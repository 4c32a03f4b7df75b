package store_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/trackwatch/trackwatch/devstack/devstacktest"
	"github.com/trackwatch/trackwatch/store"
)

func currentUser(t *testing.T, conn driver.Conn) string {
	t.Helper()
	var u string
	if err := conn.QueryRow(context.Background(), "SELECT currentUser()").Scan(&u); err != nil {
		t.Fatal(err)
	}
	return u
}

// A pool's credentials are replaced in place: statements on the pool and sessions
// opened from it afterwards run as the new user; a session opened before keeps its
// connection; the same credentials again replace nothing; discarded ones change nothing.
func TestPoolReplacesItsCredentials(t *testing.T) {
	devstacktest.RequireLib(t)
	ch := devstacktest.StartClickHouseWithUsers(t, filepath.Join(t.TempDir(), "ch"),
		map[string]string{"tw_a": "pass-a-1d4e", "tw_b": "pass-b-9c0f"})
	ctx := context.Background()
	cfg := store.Config{Username: "tw_a", Password: "pass-a-1d4e", DialTimeout: 10 * time.Second, MaxOpenConns: 4}
	pool, err := store.OpenPool(ctx, cfg, ch.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if u := currentUser(t, pool); u != "tw_a" {
		t.Fatalf("pool user %q, want tw_a", u)
	}
	before, err := pool.OpenSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer before.Close()

	if p, err := pool.PrepareCredentials(ctx, cfg); err != nil || p != nil {
		t.Fatalf("the credentials in use again: %v, %v; want nothing to replace", p, err)
	}
	next := cfg
	next.Username, next.Password = "tw_b", "pass-b-9c0f"
	discarded, err := pool.PrepareCredentials(ctx, next)
	if err != nil || discarded == nil {
		t.Fatalf("prepare tw_b: %v, %v", discarded, err)
	}
	discarded.Discard()
	if u := currentUser(t, pool); u != "tw_a" {
		t.Fatalf("after a discarded replacement the pool runs as %q", u)
	}

	pending, err := pool.PrepareCredentials(ctx, next)
	if err != nil {
		t.Fatal(err)
	}
	pending.Commit()
	if u := currentUser(t, pool); u != "tw_b" {
		t.Fatalf("after the replacement the pool runs as %q, want tw_b", u)
	}
	if pool.Username() != "tw_b" {
		t.Fatalf("Username() = %q", pool.Username())
	}
	after, err := pool.OpenSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer after.Close()
	if u := currentUser(t, after); u != "tw_b" {
		t.Fatalf("a session opened after the replacement runs as %q, want tw_b", u)
	}
	if u := currentUser(t, before); u != "tw_a" {
		t.Fatalf("a session opened before the replacement runs as %q, want tw_a (its own connection)", u)
	}
}
