// Package devstacktest starts the embedded stack for tests in other packages: a ClickHouse
// server and a Kafka broker on free loopback ports, with data in the test's temp dir.
//
// A test binary that uses it must call devstack.RunChildIfRequested first in TestMain,
// because the ClickHouse server runs as a re-executed copy of the test binary.
package devstacktest

import (
	"context"
	"flag"
	"fmt"
	"html"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trackwatch/trackwatch/devstack"
)

// Logger returns a logger that writes only when the test runs verbosely. It is safe in
// helper processes that never parse test flags (they get a silent logger).
func Logger() *slog.Logger {
	if flag.Parsed() && testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// RequireLib skips the test when libchdb.so has not been fetched, except under CI
// (CI=true), where a missing library is a broken setup and fails the test.
func RequireLib(t testing.TB) string {
	t.Helper()
	path := devstack.DefaultLibPath()
	if p := os.Getenv("TRACKWATCH_EMBEDDED_CLICKHOUSE_LIB_PATH"); p != "" {
		path = p
	}
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("libchdb.so missing at %s under CI; fetch it with: %s", path, devstack.FetchCommand)
		}
		t.Skipf("libchdb.so missing at %s; fetch it with: %s", path, devstack.FetchCommand)
	}
	return path
}

// ClickHouseConfig returns a config on free ports with data under dir.
func ClickHouseConfig(t testing.TB, dir string) devstack.ClickHouseConfig {
	tcp := FreePort(t)
	http := FreePort(t)
	for http == tcp { // the kernel may hand the same free port out twice in a row
		http = FreePort(t)
	}
	return devstack.ClickHouseConfig{
		LibPath:    RequireLib(t),
		DataDir:    dir,
		TCPPort:    tcp,
		HTTPPort:   http,
		ListenHost: "127.0.0.1",
	}
}

// StartClickHouse starts a server for the test and stops it at cleanup; a server that
// fails to stop cleanly fails the test.
func StartClickHouse(t testing.TB, dir string) *devstack.ClickHouse {
	t.Helper()
	return startClickHouse(t, dir, t.Errorf)
}

// StartClickHouseForKilledClients is StartClickHouse for tests that SIGKILL processes
// connected to the server: libchdb's server may abort when it stops after such a client
// (a real ClickHouse does not; trackwatch supervises and restarts it). Its stop error is
// logged, not failed on; the test's own assertions are what count.
func StartClickHouseForKilledClients(t testing.TB, dir string) *devstack.ClickHouse {
	t.Helper()
	return startClickHouse(t, dir, t.Logf)
}

// StartClickHouseWithConfigFile is StartClickHouse with a server configuration file
// (devstack.ClickHouseConfig.ConfigFile): users with passwords, system.query_log.
func StartClickHouseWithConfigFile(t testing.TB, dir, file string) *devstack.ClickHouse {
	t.Helper()
	return startClickHouse(t, dir, t.Errorf, func(c *devstack.ClickHouseConfig) { c.ConfigFile = file })
}

// StartClickHouseWithUsers is StartClickHouse with users besides "default", each with its
// password (users.xml; the server reads it once and cannot change a password while it
// runs), and system.query_log on, flushed every 200 ms, for tests that ask which user
// ran what. Note that libchdb's server aborts on a failed native-protocol login (an
// uncaught AUTHENTICATION_FAILED); the supervisor restarts it, but a test should not
// try a wrong password.
func StartClickHouseWithUsers(t testing.TB, dir string, users map[string]string) *devstack.ClickHouse {
	t.Helper()
	var b strings.Builder
	b.WriteString("<clickhouse>\n  <users>\n    <default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></default>\n")
	for name, pass := range users {
		fmt.Fprintf(&b, "    <%s><password>%s</password><networks><ip>::/0</ip></networks><profile>default</profile><quota>default</quota></%s>\n", name, html.EscapeString(pass), name)
	}
	b.WriteString("  </users>\n  <profiles><default/></profiles>\n  <quotas><default/></quotas>\n</clickhouse>\n")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	usersFile, serverFile := filepath.Join(dir, "users.xml"), filepath.Join(dir, "server.xml")
	if err := os.WriteFile(usersFile, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	server := `<clickhouse>
  <user_directories><users_xml><path>` + html.EscapeString(usersFile) + `</path></users_xml></user_directories>
  <query_log><database>system</database><table>query_log</table><flush_interval_milliseconds>200</flush_interval_milliseconds></query_log>
</clickhouse>
`
	if err := os.WriteFile(serverFile, []byte(server), 0o600); err != nil {
		t.Fatal(err)
	}
	return StartClickHouseWithConfigFile(t, filepath.Join(dir, "data"), serverFile)
}

func startClickHouse(t testing.TB, dir string, onStopError func(format string, args ...any), opts ...func(*devstack.ClickHouseConfig)) *devstack.ClickHouse {
	t.Helper()
	cfg := ClickHouseConfig(t, dir)
	for _, o := range opts {
		o(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ch, err := devstack.StartClickHouse(ctx, cfg, Logger())
	if err != nil {
		t.Fatalf("start embedded clickhouse: %v", err)
	}
	t.Cleanup(func() {
		if err := ch.Close(); err != nil {
			onStopError("stop embedded clickhouse: %v", err)
		}
	})
	return ch
}

// StartKafka starts an in-memory broker with the given topics and stops it at cleanup.
func StartKafka(t testing.TB, partitions int, topics ...string) *devstack.Kafka {
	t.Helper()
	k, err := devstack.StartKafka(devstack.KafkaConfig{Listen: "127.0.0.1:0", Partitions: partitions, Memory: true}, topics, Logger())
	if err != nil {
		t.Fatalf("start embedded kafka: %v", err)
	}
	t.Cleanup(k.Close)
	return k
}

// FreePort returns a loopback port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	port, err := devstack.FreePort("127.0.0.1")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	return port
}
