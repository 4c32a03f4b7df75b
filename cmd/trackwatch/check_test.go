package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trackwatch/trackwatch/devstack"
	"github.com/trackwatch/trackwatch/devstack/devstacktest"
	"github.com/trackwatch/trackwatch/schemas"
	"github.com/trackwatch/trackwatch/store"
)

func TestMain(m *testing.M) {
	devstack.RunChildIfRequested()
	os.Exit(m.Run())
}

func TestConfigCheckReportsEachDependency(t *testing.T) {
	ch := devstacktest.StartClickHouse(t, t.TempDir())
	k := devstacktest.StartKafka(t, 2, schemas.TrackingTopic, schemas.OrderTopic)
	conn, err := store.Open(context.Background(), store.Config{Username: "default", DialTimeout: 5 * time.Second}, ch.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	cfgFile := "../../trackwatch.yaml"
	run := func(sets ...string) (int, string) {
		args := []string{"config", "--check", "--config", cfgFile, "--set", "clickhouse.addr=" + ch.Addr(), "--set", "kafka.brokers=" + k.Addr()}
		for _, s := range sets {
			args = append(args, "--set", s)
		}
		var out, errb bytes.Buffer
		code := Main(context.Background(), args, &out, &errb, nil)
		return code, out.String() + errb.String()
	}
	code, out := run()
	if code != exitOK || !strings.Contains(out, "has no schema yet") || !strings.Contains(out, "topics tracking-events (2 partitions), order-events (2 partitions)") {
		t.Fatalf("before the schema: exit %d\n%s", code, out)
	}
	if _, err := schemas.Migrate(context.Background(), conn, schemas.DDLOptions{Database: "trackwatch"}, time.Now); err != nil {
		t.Fatal(err)
	}
	if code, out = run(); code != exitOK || !strings.Contains(out, "migrations applied, up to date") {
		t.Fatalf("migrated: exit %d\n%s", code, out)
	}
	// A topic that does not exist, and a ClickHouse that does not answer: each named.
	code, out = run("kafka.tracking_topic=parcels", "clickhouse.dial_timeout=1s", "clickhouse.addr=127.0.0.1:1")
	if code != exitFailure || !strings.Contains(out, "topic parcels does not exist") || !strings.Contains(out, "clickhouse  127.0.0.1:1") {
		t.Fatalf("broken dependencies: exit %d\n%s", code, out)
	}
	// A receiver is checked by its host alone: its URL's path may hold a token.
	cfgFile = filepath.Join(t.TempDir(), "receivers.yaml")
	if err := os.WriteFile(cfgFile, []byte("notify:\n  receivers:\n    - {name: hook, type: webhook, url: \"http://127.0.0.1:1/hooks/T0KEN-in-the-path\", secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out = run()
	if code != exitFailure || !strings.Contains(out, "receiver hook (webhook)  127.0.0.1:1") || strings.Contains(out, "T0KEN") {
		t.Fatalf("a receiver that does not answer: exit %d\n%s", code, out)
	}
}
