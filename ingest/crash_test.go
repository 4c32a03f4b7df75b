package ingest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/trackwatch/trackwatch/devstack"
	"github.com/trackwatch/trackwatch/devstack/devstacktest"
	"github.com/trackwatch/trackwatch/ingest"
	"github.com/trackwatch/trackwatch/schemas"
	"github.com/trackwatch/trackwatch/store"
)

// childEnv makes the test binary an ingest process configured by a JSON childSpec, so
// that a test can SIGKILL it.
const childEnv = "INGEST_TEST_CHILD"

type childSpec struct {
	Brokers    []string
	CHAddr     string
	DB, Group  string
	CrashAt    string // before_insert, after_insert, after_commit, or "" for none
	CrashAfter int64  // SIGKILL itself the Nth time it reaches CrashAt
}

func runChild(spec string) int {
	var cs childSpec
	if err := json.Unmarshal([]byte(spec), &cs); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	// Like a process supervisor restarting trackwatch, wait for ClickHouse (the embedded
	// server may itself be restarting after the previous child's death).
	var conn driver.Conn
	var err error
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
		conn, err = store.Open(ctx, store.Config{Database: cs.DB, Username: "default", DialTimeout: 5 * time.Second, MaxOpenConns: 16}, cs.CHAddr)
		if err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	opts := ingestOpts(cs.Brokers, conn, cs.DB, cs.Group)
	opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	var reached atomic.Int64
	crash := func(point string) func(string, int32, int64, int64) {
		if cs.CrashAt != point {
			return nil
		}
		return func(string, int32, int64, int64) {
			if reached.Add(1) == cs.CrashAfter {
				_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
				select {} // the signal is on its way
			}
		}
	}
	opts.Hooks = ingest.Hooks{BeforeInsert: crash("before_insert"), AfterInsert: crash("after_insert"), AfterCommit: crash("after_commit")}
	if err := ingest.Run(ctx, opts); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

type child struct {
	cmd    *exec.Cmd
	stderr *lockedBuffer
}

// lockedBuffer is the child's stderr, written by exec's copier while a test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitLog waits until the child has logged text.
func (c *child) waitLog(t *testing.T, text string, within time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(within); !strings.Contains(c.stderr.String(), text); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("child did not log %q within %s%s", text, within, c.output())
		}
	}
}

func startChild(t *testing.T, cs childSpec) *child {
	t.Helper()
	spec, _ := json.Marshal(cs)
	c := &child{cmd: exec.Command(os.Args[0], "-test.run=^$"), stderr: &lockedBuffer{}}
	c.cmd.Env = append(os.Environ(), childEnv+"="+string(spec))
	c.cmd.Stderr = c.stderr
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.cmd.Process.Kill(); _, _ = c.cmd.Process.Wait() })
	return c
}

func (c *child) output() string { return "\nchild stderr:\n" + c.stderr.String() }

// waitKilled waits for the child to SIGKILL itself at its crash point.
func (c *child) waitKilled(t *testing.T, within time.Duration) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(within):
		t.Fatalf("child never reached its crash point within %s; stderr:\n%s", within, c.stderr)
	}
	ws, _ := c.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child ended with %v, not SIGKILL; stderr:\n%s", c.cmd.ProcessState, c.stderr)
	}
}

// stop ends the child with SIGTERM and expects a clean exit.
func (c *child) stop(t *testing.T) {
	t.Helper()
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	if err := c.cmd.Wait(); err != nil {
		t.Fatalf("child exit: %v; stderr:\n%s", err, c.stderr)
	}
}

func TestSIGKILLAtEachPointLosesAndDuplicatesNothing(t *testing.T) {
	s := newStack(t)
	c := makeCorpus(2, 4000, true)
	produce(t, s.brokers, schemas.TrackingTopic, c.tracking)
	produce(t, s.brokers, schemas.OrderTopic, c.orders)
	for _, point := range []string{"before_insert", "after_insert", "after_commit"} {
		t.Run(point, func(t *testing.T) {
			db, group := "crash_"+point, "g_"+point
			s.migrate(t, db)
			spec := childSpec{Brokers: s.brokers, CHAddr: s.ch.Addr(), DB: db, Group: group, CrashAt: point, CrashAfter: 5}
			startChild(t, spec).waitKilled(t, 2*time.Minute)

			var stored uint64
			q := "SELECT (SELECT count() FROM `" + db + "`.tracking_events) + (SELECT count() FROM `" + db + "`.order_events) + (SELECT count() FROM `" + db + "`.dead_letters)"
			// The child's death may have crashed the embedded server (a libchdb bug its
			// supervisor works around); query once it is back.
			for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
				err := s.conn.QueryRow(context.Background(), q).Scan(&stored)
				if err == nil {
					break
				}
				if !store.Retryable(err) || time.Now().After(deadline) {
					t.Fatal(err)
				}
			}
			t.Logf("rows stored when killed at %s: %d", point, stored)
			if point != "before_insert" && stored == 0 {
				t.Fatalf("killed %s but nothing was stored: the crash came too early to test anything", point)
			}

			spec.CrashAt = ""
			again := startChild(t, spec)
			waitCommittedOr(t, s.brokers, group, 2*time.Minute, again.output, schemas.TrackingTopic, schemas.OrderTopic)
			again.stop(t)
			assertExactlyOnce(t, s.conn, db, c)
		})
	}
}

func TestClickHouseRestartMidStreamLosesAndDuplicatesNothing(t *testing.T) {
	dir := t.TempDir()
	cfg := devstacktest.ClickHouseConfig(t, dir)
	ctx := context.Background()
	ch, err := devstack.StartClickHouse(ctx, cfg, devstacktest.Logger())
	if err != nil {
		t.Fatal(err)
	}
	k := devstacktest.StartKafka(t, partitions, schemas.TrackingTopic, schemas.OrderTopic)
	s := &stack{ch: ch, brokers: []string{k.Addr()}, conn: openCH(t, ch.Addr())}
	s.migrate(t, "trackwatch")
	c := makeCorpus(3, 4000, true)
	half := len(c.tracking) / 2
	produce(t, s.brokers, schemas.TrackingTopic, c.tracking[:half])
	produce(t, s.brokers, schemas.OrderTopic, c.orders)

	stop := runIngest(t, ingestOptions(s, "trackwatch", "g"))
	defer stop()
	waitCommitted(t, s.brokers, "g", 2*time.Minute, schemas.OrderTopic)

	if err := ch.Close(); err != nil {
		t.Fatalf("stop clickhouse: %v", err)
	}
	// While ClickHouse is down the rest arrives; ingest must hold it and retry.
	produce(t, s.brokers, schemas.TrackingTopic, c.tracking[half:])
	time.Sleep(2 * time.Second) // let ingest hit the outage: this is the scenario, not a timing assertion
	ch2, err := devstack.StartClickHouse(ctx, cfg, devstacktest.Logger())
	if err != nil {
		t.Fatalf("restart clickhouse: %v", err)
	}
	defer ch2.Close()

	waitCommitted(t, s.brokers, "g", 2*time.Minute, schemas.TrackingTopic, schemas.OrderTopic)
	assertExactlyOnce(t, openCH(t, ch2.Addr()), "trackwatch", c)
}

func TestSecondMemberTakesOverFromAKilledOne(t *testing.T) {
	s := newStack(t)
	s.migrate(t, "trackwatch")
	c := makeCorpus(4, 6000, true)
	half := len(c.tracking) / 2
	spec := childSpec{Brokers: s.brokers, CHAddr: s.ch.Addr(), DB: "trackwatch", Group: "pair"}

	b := startChild(t, spec)
	produce(t, s.brokers, schemas.TrackingTopic, c.tracking[:half])
	waitCommitted(t, s.brokers, "pair", 2*time.Minute, schemas.TrackingTopic)

	// A joins (the group rebalances, A gets half the partitions) and dies by SIGKILL
	// right after an insert it did not commit: the hardest case for B.
	spec.CrashAt, spec.CrashAfter = "after_insert", 2
	a := startChild(t, spec)
	a.waitLog(t, "generation started", time.Minute) // A holds partitions before more data comes
	produce(t, s.brokers, schemas.TrackingTopic, c.tracking[half:])
	produce(t, s.brokers, schemas.OrderTopic, c.orders)
	a.waitKilled(t, 2*time.Minute)

	waitCommitted(t, s.brokers, "pair", 3*time.Minute, schemas.TrackingTopic, schemas.OrderTopic)
	b.stop(t)
	assertExactlyOnce(t, s.conn, "trackwatch", c)
}

func TestKafkaRestartMidStreamLosesAndDuplicatesNothing(t *testing.T) {
	ch := devstacktest.StartClickHouse(t, t.TempDir())
	port, err := devstack.FreePort("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	kcfg := devstack.KafkaConfig{Listen: fmt.Sprintf("127.0.0.1:%d", port), Partitions: partitions, DataDir: t.TempDir()}
	topics := []string{schemas.TrackingTopic, schemas.OrderTopic}
	k, err := devstack.StartKafka(kcfg, topics, devstacktest.Logger())
	if err != nil {
		t.Fatal(err)
	}
	s := &stack{ch: ch, brokers: []string{k.Addr()}, conn: openCH(t, ch.Addr())}
	s.migrate(t, "trackwatch")
	c := makeCorpus(5, 4000, true)
	half := len(c.tracking) / 2
	produce(t, s.brokers, schemas.TrackingTopic, c.tracking[:half])

	stop := runIngest(t, ingestOptions(s, "trackwatch", "g"))
	defer stop()
	waitCommitted(t, s.brokers, "g", 2*time.Minute, schemas.TrackingTopic)

	k.Close() // the broker goes away; ingest keeps retrying
	time.Sleep(2 * time.Second)
	k, err = devstack.StartKafka(kcfg, topics, devstacktest.Logger())
	if err != nil {
		t.Fatalf("restart kafka: %v", err)
	}
	defer k.Close()
	produce(t, s.brokers, schemas.TrackingTopic, c.tracking[half:])
	produce(t, s.brokers, schemas.OrderTopic, c.orders)
	waitCommitted(t, s.brokers, "g", 3*time.Minute, schemas.TrackingTopic, schemas.OrderTopic)
	assertExactlyOnce(t, s.conn, "trackwatch", c)
}
