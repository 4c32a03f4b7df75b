package notify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/trackwatch/trackwatch/alert"
	"github.com/trackwatch/trackwatch/alert/notify"
	"github.com/trackwatch/trackwatch/alert/notify/webhook"
	"github.com/trackwatch/trackwatch/detect"
	"github.com/trackwatch/trackwatch/detect/detecttest"
	"github.com/trackwatch/trackwatch/devstack/devstacktest"
	"github.com/trackwatch/trackwatch/secret"
	"github.com/trackwatch/trackwatch/store"
)

// childEnv makes the test binary a trackwatch-like process (record a detector run,
// then deliver its changes) configured by a JSON childSpec, so a test can SIGKILL it.
const childEnv = "NOTIFY_TEST_CHILD"

type childSpec struct {
	CHAddr, URL, Instance string
	AsOf                  time.Time
	// KillAfterRecord makes the child SIGKILL itself once the run's changes are logged,
	// before delivering any.
	KillAfterRecord bool
}

func runChild(spec string) int {
	var cs childSpec
	if err := json.Unmarshal([]byte(spec), &cs); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	fail := func(err error) int { fmt.Fprintln(os.Stderr, err); return 1 }
	var conn driver.Conn
	var err error
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
		conn, err = store.OpenSession(ctx, detecttest.StoreConfig, cs.CHAddr)
		if err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		return fail(err)
	}
	set, _ := detect.NewSet(db, "stalled_eir")
	// As the schedule does, a run that failed (a lost session: ErrSessionLost) is run
	// again, on a new session.
	var res alert.Result
	for attempt := 1; ; attempt++ {
		if res, err = alert.NewStore(conn, db).RecordAt(ctx, conn, set, detect.Config{}, cs.AsOf); err == nil {
			break
		}
		fmt.Fprintf(os.Stderr, "run %d failed: %v\n", attempt, err)
		if attempt == 5 {
			return fail(err)
		}
		conn.Close()
		time.Sleep(500 * time.Millisecond)
		if conn, err = store.OpenSession(ctx, detecttest.StoreConfig, cs.CHAddr); err != nil {
			return fail(err)
		}
	}
	fmt.Fprintf(os.Stderr, "recorded %d changes\n", len(res.Changes))
	if cs.KillAfterRecord {
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
	r := notify.ReceiverConfig{Name: "hook", Type: notify.TypeWebhook, URL: secret.String(cs.URL), Secret: secretNow,
		Backoff: []time.Duration{10 * time.Millisecond}, Timeout: time.Second}
	cfg := notify.Config{Receivers: []notify.ReceiverConfig{r}, PollInterval: 50 * time.Millisecond, ClaimTimeout: 2 * time.Second}
	if err := cfg.Validate(); err != nil {
		return fail(err)
	}
	client, _ := cfg.Receivers[0].HTTPClient()
	n, err := webhook.New(cfg.Receivers[0], client)
	if err != nil {
		return fail(err)
	}
	d := notify.NewDispatcher(notify.DispatcherOptions{Conn: conn, DB: db, Config: cfg,
		Receivers: []notify.Receiver{{Config: cfg.Receivers[0], Notifier: n}}, Instance: cs.Instance,
		Logger: devstacktest.Logger(), Metrics: notify.NewMetrics(nil), Now: time.Now})
	_ = d.Run(ctx)
	return 0
}

// startChild runs the test binary as a child process with spec.
func startChild(t *testing.T, spec childSpec) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	b, _ := json.Marshal(spec)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Env = append(os.Environ(), childEnv+"="+string(b))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd, &stderr
}

// stalledOrders gives the world n orders whose numbers only ever had a label.
func stalledOrders(w *detecttest.World, n int) {
	for i := range n {
		tn := fmt.Sprintf("LP%08dCN", i)
		w.Shipped(fmt.Sprintf("o%d", i), tn, "cainiao", 5)
		w.Scan(tn, "Electronic information received", 5)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(90 * time.Second); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func TestKilledBetweenTheChangeLogAndDeliveryLosesNothing(t *testing.T) {
	w := detecttest.NewWorldForKilledClients(t, db)
	stalledOrders(w, 5)
	s := newSink(t, nil)
	var err error
	spec := childSpec{CHAddr: w.Addr, URL: s.srv.URL, AsOf: detecttest.AsOf(20), KillAfterRecord: true}
	cmd, stderr := startChild(t, spec)
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child did not die by SIGKILL: %v\n%s", err, stderr)
	}
	if len(s.deliveries()) != 0 {
		t.Fatal("the killed child delivered something")
	}
	// Restarted (a later run, as a scheduler would), it delivers the logged changes.
	spec.KillAfterRecord, spec.AsOf = false, detecttest.AsOf(20).Add(5*time.Minute)
	startChild(t, spec)
	waitFor(t, "5 deliveries", func() bool { return len(s.delivered()) == 5 })
	// The embedded server may be restarting after the child's death (libchdb aborts when
	// a client dies mid-query): ask until it answers.
	var logged uint64
	waitFor(t, "the change log count", func() bool {
		err = w.Conn.QueryRow(t.Context(), "SELECT count() FROM nt.alert_changes FINAL").Scan(&logged)
		return err == nil
	})
	if logged != 5 {
		t.Fatalf("%d changes logged, want 5: the restart must not make them again", logged)
	}
}

func TestKilledDuringARetryDeliversWithTheSameWebhookID(t *testing.T) {
	w := detecttest.NewWorldForKilledClients(t, db)
	stalledOrders(w, 3)
	inFlight := make(chan struct{}, 10)
	s := newSink(t, func(n int, r *http.Request) int {
		switch {
		case n < 3:
			return 500 // every change fails once
		case n == 3:
			inFlight <- struct{}{}
			<-r.Context().Done() // the first retry hangs until its process dies
			return 500
		}
		return 200
	})
	cmd, stderr := startChild(t, childSpec{CHAddr: w.Addr, URL: s.srv.URL, Instance: "first", AsOf: detecttest.AsOf(20)})
	select {
	case <-inFlight:
	case <-time.After(90 * time.Second):
		t.Fatalf("no retry reached the receiver; the child said:\n%s", stderr)
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	startChild(t, childSpec{CHAddr: w.Addr, URL: s.srv.URL, Instance: "second", AsOf: detecttest.AsOf(20)})
	waitFor(t, "3 deliveries", func() bool { return len(s.delivered()) == 3 })
	ids := map[string]bool{}
	for _, d := range s.deliveries() {
		ids[d.ID] = true
	}
	if len(ids) != 3 {
		t.Fatalf("%d distinct webhook-ids over %d requests, want 3: every attempt of a change carries its id", len(ids), len(s.deliveries()))
	}
}
