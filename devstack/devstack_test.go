package devstack_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/segmentio/kafka-go"

	"github.com/trackwatch/trackwatch/devstack"
	"github.com/trackwatch/trackwatch/devstack/devstacktest"
)

func TestMain(m *testing.M) {
	devstack.RunChildIfRequested()
	if os.Getenv(orphanParentEnv) != "" {
		os.Exit(runOrphanParent())
	}
	os.Exit(m.Run())
}

func open(t *testing.T, addr string) clickhouse.Conn {
	t.Helper()
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{addr}})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func TestClickHouseAnswersNativeProtocolWithVersion26(t *testing.T) {
	ch := devstacktest.StartClickHouse(t, t.TempDir())
	conn := open(t, ch.Addr())
	ctx := context.Background()
	var version string
	if err := conn.QueryRow(ctx, "SELECT version()").Scan(&version); err != nil {
		t.Fatalf("select version(): %v", err)
	}
	if !strings.HasPrefix(version, "26.") {
		t.Fatalf("version() = %q, want 26.x", version)
	}
	var sum uint64
	if err := conn.QueryRow(ctx, "SELECT sum(number) FROM numbers({n:UInt64})", clickhouse.Named("n", "1000")).Scan(&sum); err != nil {
		t.Fatalf("parameterised query: %v", err)
	}
	if sum != 499500 {
		t.Fatalf("sum(number) over 1000 = %d, want 499500", sum)
	}
}

func TestClickHouseKeepsDataAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	cfg := devstacktest.ClickHouseConfig(t, dir)

	first, err := devstack.StartClickHouse(ctx, cfg, devstacktest.Logger())
	if err != nil {
		t.Fatal(err)
	}
	conn := open(t, first.Addr())
	for _, q := range []string{
		"CREATE DATABASE IF NOT EXISTS keep",
		"CREATE TABLE keep.t (n UInt32) ENGINE = MergeTree ORDER BY n",
		"INSERT INTO keep.t SELECT number FROM numbers(10)",
	} {
		if err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	conn.Close()
	if err := first.Close(); err != nil {
		t.Fatalf("stop: %v", err)
	}

	second := devstacktest.StartClickHouse(t, dir)
	var n uint64
	if err := open(t, second.Addr()).QueryRow(ctx, "SELECT count() FROM keep.t").Scan(&n); err != nil {
		t.Fatalf("count after restart: %v", err)
	}
	if n != 10 {
		t.Fatalf("rows after restart = %d, want 10", n)
	}
}

func TestCrashedServerIsRestartedWithItsData(t *testing.T) {
	ch := devstacktest.StartClickHouse(t, t.TempDir())
	ctx := context.Background()
	conn := open(t, ch.Addr())
	if err := conn.Exec(ctx, "CREATE TABLE default.t (n UInt32) ENGINE = MergeTree ORDER BY n"); err != nil {
		t.Fatal(err)
	}
	if err := conn.Exec(ctx, "INSERT INTO default.t SELECT number FROM numbers(5)"); err != nil {
		t.Fatal(err)
	}
	first := ch.Pid()
	if err := syscall.Kill(first, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	var n uint64
	for {
		err := conn.QueryRow(ctx, "SELECT count() FROM default.t").Scan(&n)
		if err == nil && ch.Pid() != first {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not back within 60s after SIGKILL: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n != 5 || ch.Restarts() != 1 {
		t.Fatalf("after restart: %d rows (want 5), %d restarts (want 1)", n, ch.Restarts())
	}
}

func TestSecondServerOnSameDataDirFailsClearly(t *testing.T) {
	dir := t.TempDir()
	devstacktest.StartClickHouse(t, dir)
	_, err := devstack.StartClickHouse(context.Background(), devstacktest.ClickHouseConfig(t, dir), devstacktest.Logger())
	if !errors.Is(err, devstack.ErrDataDirInUse) {
		t.Fatalf("second start on %s: err = %v, want ErrDataDirInUse", dir, err)
	}
	if !strings.Contains(err.Error(), dir) {
		t.Fatalf("error %q does not name the directory", err)
	}
}

func TestMissingLibraryNamesTheFetchCommand(t *testing.T) {
	cfg := devstack.ClickHouseConfig{LibPath: filepath.Join(t.TempDir(), "nope", "libchdb.so"), DataDir: t.TempDir()}
	_, err := devstack.StartClickHouse(context.Background(), cfg, devstacktest.Logger())
	if !errors.Is(err, devstack.ErrLibMissing) || !strings.Contains(err.Error(), "make chdb") {
		t.Fatalf("err = %v, want ErrLibMissing naming `make chdb`", err)
	}
}

func TestBusyPortIsReportedWithItsKey(t *testing.T) {
	cfg := devstacktest.ClickHouseConfig(t, t.TempDir())
	k := devstacktest.StartKafka(t, 1, "x") // occupies a port we can reuse as the "busy" one
	_, port, _ := strings.Cut(k.Addr(), ":")
	cfg.TCPPort, _ = strconv.Atoi(port)
	_, err := devstack.StartClickHouse(context.Background(), cfg, devstacktest.Logger())
	if err == nil || !strings.Contains(err.Error(), "embedded.clickhouse.tcp_port") {
		t.Fatalf("err = %v, want one naming embedded.clickhouse.tcp_port", err)
	}
}

// orphanParentEnv makes the test binary act as a trackwatch parent that starts the
// server, reports the child's pid on stdout and then waits to be killed.
const orphanParentEnv = "DEVSTACK_TEST_ORPHAN_PARENT"

func runOrphanParent() int {
	var cfg devstack.ClickHouseConfig
	cfg.LibPath = os.Getenv("TRACKWATCH_EMBEDDED_CLICKHOUSE_LIB_PATH")
	cfg.DataDir = os.Getenv(orphanParentEnv)
	cfg.TCPPort, _ = strconv.Atoi(os.Getenv("DEVSTACK_TEST_TCP_PORT"))
	cfg.HTTPPort, _ = strconv.Atoi(os.Getenv("DEVSTACK_TEST_HTTP_PORT"))
	ch, err := devstack.StartClickHouse(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(ch.Pid())
	select {}
}

func TestSIGKILLedParentLeavesNoClickHouseBehind(t *testing.T) {
	base := devstacktest.ClickHouseConfig(t, t.TempDir())
	parent := exec.Command(os.Args[0], "-test.run=^$")
	parent.Env = append(os.Environ(),
		orphanParentEnv+"="+base.DataDir,
		"TRACKWATCH_EMBEDDED_CLICKHOUSE_LIB_PATH="+base.LibPath,
		"DEVSTACK_TEST_TCP_PORT="+strconv.Itoa(base.TCPPort),
		"DEVSTACK_TEST_HTTP_PORT="+strconv.Itoa(base.HTTPPort),
	)
	parent.Stderr = os.Stderr
	out, err := parent.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	var childPid int
	if _, err := fmt.Fscan(out, &childPid); err != nil {
		_ = parent.Process.Kill()
		t.Fatalf("read child pid from parent: %v", err)
	}
	if !alive(childPid) {
		t.Fatalf("child %d is not running before the parent is killed", childPid)
	}
	if err := parent.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = parent.Wait()

	// The child notices its closed stdin and shuts down; allow it a generous while.
	deadline := time.Now().Add(60 * time.Second)
	for alive(childPid) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(childPid, syscall.SIGKILL)
			t.Fatalf("clickhouse child %d still running 60s after its parent was SIGKILLed", childPid)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// And the directory lock went with it: a new server can start on the same data.
	if _, err := devstack.StartClickHouse(context.Background(), devstacktest.ClickHouseConfig(t, base.DataDir), devstacktest.Logger()); err != nil {
		t.Fatalf("restart on the same data: %v; processes holding the lock: %s", err, lockHolders(filepath.Join(base.DataDir, ".trackwatch.lock")))
	}
}

// lockHolders lists the processes that have path open, from /proc.
func lockHolders(path string) string {
	var out []string
	procs, _ := filepath.Glob("/proc/[0-9]*/fd/*")
	for _, fd := range procs {
		if target, err := os.Readlink(fd); err == nil && target == path {
			pid := strings.Split(fd, "/")[2]
			cmd, _ := os.ReadFile("/proc/" + pid + "/cmdline")
			stat, _ := os.ReadFile("/proc/" + pid + "/stat")
			out = append(out, fmt.Sprintf("pid %s [%s] %q", pid, strings.Fields(string(stat) + " ? ? ?")[2], strings.ReplaceAll(string(cmd), "\x00", " ")))
		}
	}
	return strings.Join(out, "; ")
}

// alive reports whether pid is a live (not zombie) process.
func alive(pid int) bool {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	// Field 3 is the state; the command (field 2) is in parentheses and may hold spaces.
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && len(s) > i+2 {
		return s[i+2] != 'Z' && s[i+2] != 'X'
	}
	return true
}

func TestKafkaServesKafkaGoConsumerGroup(t *testing.T) {
	k := devstacktest.StartKafka(t, 4, "tracking-events", "order-events")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	w := &kafka.Writer{Addr: kafka.TCP(k.Addr()), Topic: "tracking-events", Balancer: &kafka.Hash{}, BatchTimeout: 5 * time.Millisecond}
	defer w.Close()
	want := map[string]bool{}
	var msgs []kafka.Message
	for i := range 100 {
		key := fmt.Sprintf("k%03d", i)
		want[key] = true
		msgs = append(msgs, kafka.Message{Key: []byte(key), Value: []byte(`{"n":` + strconv.Itoa(i) + `}`)})
	}
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatalf("produce: %v", err)
	}

	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: []string{k.Addr()}, GroupID: "devstack-test", Topic: "tracking-events",
		StartOffset: kafka.FirstOffset, MaxWait: 100 * time.Millisecond,
	})
	defer r.Close()
	partitions := map[int]bool{}
	for len(want) > 0 {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			t.Fatalf("fetch with %d messages left: %v", len(want), err)
		}
		delete(want, string(m.Key))
		partitions[m.Partition] = true
		if err := r.CommitMessages(ctx, m); err != nil {
			t.Fatalf("commit: %v", err)
		}
	}
	if len(partitions) != 4 {
		t.Fatalf("messages came from %d partitions, want 4", len(partitions))
	}
}
