package detect_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/trackwatch/trackwatch/detect"
	"github.com/trackwatch/trackwatch/detect/detecttest"
	"github.com/trackwatch/trackwatch/devstack/devstacktest"
	"github.com/trackwatch/trackwatch/store"
)

func TestTickClaimsPickOneWinnerThatEveryInstanceAgreesOn(t *testing.T) {
	w := detecttest.NewWorld(t, db)
	conn := w.Pooled()
	claims := []*detect.TickClaims{detect.NewTickClaims(conn, db, "a"), detect.NewTickClaims(conn, db, "b"), detect.NewTickClaims(conn, db, "c")}
	for i := range 30 {
		tick := asOf(1).Add(time.Duration(i) * time.Minute)
		winners := make([]string, len(claims))
		won := make([]bool, len(claims))
		var wg sync.WaitGroup
		for j, c := range claims {
			wg.Go(func() {
				var err error
				if won[j], winners[j], err = c.Claim(t.Context(), "*/5 * * * *", tick); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		n := 0
		for j := range claims {
			if won[j] {
				n++
			}
		}
		// Whoever read last saw every claim: its answer is the winner, and nobody else won.
		if n != 1 {
			t.Fatalf("tick %d: %d instances won (%v, winners %v)", i, n, won, winners)
		}
	}
	// Another schedule's tick at the same moment is a tick of its own.
	if won, _, err := claims[1].Claim(t.Context(), "0 * * * *", asOf(1)); err != nil || !won {
		t.Fatalf("a claim on another schedule: won %v, %v", won, err)
	}
}

// schedulerChildEnv makes the test binary a scheduler instance configured by a JSON
// schedulerSpec, so that a test can run several and SIGKILL one.
const schedulerChildEnv = "DETECT_TEST_SCHEDULER"

type schedulerSpec struct{ Addr, Instance string }

func runSchedulerChild(spec string) int {
	var s schedulerSpec
	if err := json.Unmarshal([]byte(spec), &s); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	cfg := detecttest.StoreConfig
	cfg.MaxOpenConns = 4
	conn, err := store.Open(ctx, cfg, s.Addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	open := func(ctx context.Context) (driver.Conn, error) {
		return store.OpenSession(ctx, detecttest.StoreConfig, s.Addr)
	}
	// The recorder logs which instance ran which tick; the alert store is not needed here.
	record := func(ctx context.Context, f *detect.Findings) (map[string]int, error) {
		return nil, conn.Exec(ctx, "INSERT INTO "+db+".runs_log (instance, as_of) SELECT {i:String}, {t:DateTime64(3, 'UTC')}",
			clickhouse.Named("i", s.Instance), clickhouse.Named("t", f.AsOf()))
	}
	sched, err := detect.NewScheduler(detect.SchedulerOptions{Open: open, Database: db, Config: detect.Config{Schedule: "@every 1s"}, Record: record, Logger: devstacktest.Logger(), Metrics: detect.NewMetrics(nil), Now: time.Now})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	sched.ShareTicks(detect.NewTickClaims(conn, db, s.Instance))
	_ = sched.Run(ctx)
	return 0
}

type ranTick struct {
	Instance string    `ch:"instance"`
	AsOf     time.Time `ch:"as_of"`
}

func TestThreeInstancesRunEachTickOnceAndOneKilledLosesNoMoreThanItsTick(t *testing.T) {
	w := detecttest.NewWorldForKilledClients(t, db)
	w.Shipped("stalled", "RR123456785CN", "china-post", 5)
	w.Scan("RR123456785CN", "Electronic information received", 5)
	conn := w.Pooled()
	if err := conn.Exec(t.Context(), "CREATE TABLE "+db+".runs_log (instance String, as_of DateTime64(3, 'UTC')) ENGINE = MergeTree ORDER BY as_of"); err != nil {
		t.Fatal(err)
	}
	procs := map[string]*exec.Cmd{}
	for _, name := range []string{"a", "b", "c"} {
		spec, _ := json.Marshal(schedulerSpec{Addr: w.Addr, Instance: name})
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), schedulerChildEnv+"="+string(spec))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		procs[name] = cmd
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	}
	ticks := func() []ranTick {
		// libchdb's server can abort after a SIGKILLed client (devstacktest's
		// StartClickHouseForKilledClients); the embedded stack restarts it, so a read
		// that meets the restart is retried.
		for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
			var out []ranTick
			err := conn.Select(t.Context(), &out, "SELECT instance, as_of FROM "+db+".runs_log ORDER BY as_of, instance")
			if err == nil {
				return out
			}
			if time.Now().After(deadline) {
				t.Fatal(err)
			}
			t.Logf("reading the ticks: %v (retrying)", err)
		}
	}
	waitTicks := func(n int) []ranTick {
		for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			if got := ticks(); len(got) >= n {
				return got
			}
			if time.Now().After(deadline) {
				t.Fatalf("fewer than %d ticks ran in 90 s: %v", n, ticks())
			}
		}
	}
	before := waitTicks(6)
	// Kill the instance that ran the latest tick, between its runs.
	victim := before[len(before)-1].Instance
	_ = procs[victim].Process.Signal(syscall.SIGKILL)
	_ = procs[victim].Wait()
	killedAt := time.Now()
	after := waitTicks(len(before) + 6)
	for name, cmd := range procs {
		if name != victim {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			_ = cmd.Wait()
		}
	}
	all := ticks()
	seen := map[time.Time]string{}
	for _, r := range all {
		if other, dup := seen[r.AsOf]; dup {
			t.Fatalf("tick %s ran twice (%s and %s)", r.AsOf.Format(time.RFC3339), other, r.Instance)
		}
		seen[r.AsOf] = r.Instance
	}
	// After the kill, the survivors take over: no more than one tick goes missing between
	// two that ran (the killed instance's claim on a tick it did not live to run).
	var gapAfterKill time.Duration
	for i := 1; i < len(all); i++ {
		if all[i].AsOf.After(killedAt.Add(-2*time.Second)) && all[i].AsOf.Before(killedAt.Add(5*time.Second)) {
			gapAfterKill = max(gapAfterKill, all[i].AsOf.Sub(all[i-1].AsOf))
		}
	}
	if n := w.Server.Restarts(); n > 0 {
		// Not what this test is about: every instance's runs fail while the server is down.
		t.Logf("the embedded server aborted after the killed client and was restarted %d time(s); the gap around the kill (%s) is not judged", n, gapAfterKill)
	} else if gapAfterKill > 2*time.Second {
		t.Errorf("a gap of %s between ticks around the kill (more than one tick lost): %v", gapAfterKill, all)
	}
	ranAfter := map[string]bool{}
	for _, r := range after[len(before):] {
		ranAfter[r.Instance] = true
	}
	if ranAfter[victim] || len(ranAfter) == 0 {
		t.Fatalf("after %s was killed, ticks were run by %v", victim, ranAfter)
	}
}
