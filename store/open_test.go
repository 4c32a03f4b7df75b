package store_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/trackwatch/trackwatch/devstack"
	"github.com/trackwatch/trackwatch/devstack/devstacktest"
	"github.com/trackwatch/trackwatch/store"
)

func TestMain(m *testing.M) {
	devstack.RunChildIfRequested()
	os.Exit(m.Run())
}

// Sessions ask the server for no ProfileEvents packets: one arriving after a result's
// end makes clickhouse-go's health check replace the idle connection, and a detector
// run's temporary tables go with it.
func TestConnectionsAskForNoProfileEvents(t *testing.T) {
	ch := devstacktest.StartClickHouse(t, t.TempDir())
	conn, err := store.OpenSession(context.Background(), store.Config{Username: "default", DialTimeout: 5 * time.Second}, ch.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var v string
	if err := conn.QueryRow(t.Context(), "SELECT toString(getSetting('send_profile_events'))").Scan(&v); err != nil {
		t.Fatal(err)
	}
	if v != "0" && v != "false" {
		t.Fatalf("send_profile_events = %s", v)
	}
}
