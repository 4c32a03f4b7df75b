package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/prometheus/client_golang/prometheus/testutil"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/trackwatch/trackwatch/alert/notify"
	"github.com/trackwatch/trackwatch/alert/notify/webhook"
	"github.com/trackwatch/trackwatch/detect/detecttest"
	"github.com/trackwatch/trackwatch/devstack"
	"github.com/trackwatch/trackwatch/devstack/devstacktest"
	"github.com/trackwatch/trackwatch/secret"
)

func TestMain(m *testing.M) {
	devstack.RunChildIfRequested()
	if spec := os.Getenv(childEnv); spec != "" {
		os.Exit(runChild(spec))
	}
	os.Exit(m.Run())
}

const (
	db = "nt"
	// Standard Webhooks secrets: whsec_ and the base64 of a random key.
	secretNow  = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	secretPrev = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
)

// logChanges writes n fired changes to the change log, as detector runs would, the
// i-th for order o<i>, detector stalled_eir (severity high) unless i is odd
// (never_scanned, medium, marketplace amazon).
func logChanges(t *testing.T, w *detecttest.World, n int) {
	t.Helper()
	err := w.Conn.Exec(t.Context(), `INSERT INTO nt.alert_changes (change_id, kind, alert_id, detector, order_id, tracking_number, seller_id,
    buyer_id, marketplace, severity, recommendation, reason, evidence, first_detected_at, last_detected_at, status, as_of)
SELECT concat('c', toString(number)), 'fired', concat('a', toString(number)), if(number % 2 = 0, 'stalled_eir', 'never_scanned'),
    concat('o', toString(number)), concat('RR', toString(number), 'CN'), 's1', 'b1', if(number % 2 = 0, 'aliexpress', 'amazon'),
    if(number % 2 = 0, 'high', 'medium'), 'open_dispute', 'The seller provided a number that never moved.',
    '{"timeline":[{"status":"info_received"}]}', now64(3), now64(3), 'firing', now64(3)
FROM numbers({n:UInt32})`, clickhouse.Named("n", uint32(n)))
	if err != nil {
		t.Fatal(err)
	}
}

// sink is an HTTP receiver that verifies each delivery with the official Standard
// Webhooks library and records it; fail decides the answer to each request.
type sink struct {
	t        *testing.T
	srv      *httptest.Server
	mu       sync.Mutex
	got      []delivery // verified deliveries, in order of their answers
	requests int
	fail     func(n int, r *http.Request) int
}

type delivery struct {
	ID, Timestamp string
	Raw           []byte
	Header        http.Header
	Body          map[string]any
	Status        int
}

func newSink(t *testing.T, fail func(n int, r *http.Request) int) *sink {
	s := &sink{t: t, fail: fail}
	wh, err := standardwebhooks.NewWebhook(secretNow)
	if err != nil {
		t.Fatal(err)
	}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := wh.Verify(body, r.Header); err != nil {
			t.Errorf("signature does not verify: %v", err)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Errorf("body is not JSON: %v", err)
		}
		s.mu.Lock()
		n := s.requests
		s.requests++
		s.mu.Unlock()
		status := http.StatusNoContent
		if s.fail != nil {
			status = s.fail(n, r) // may block: not under the lock
		}
		s.mu.Lock()
		s.got = append(s.got, delivery{ID: r.Header.Get("webhook-id"), Timestamp: r.Header.Get("webhook-timestamp"), Raw: body,
			Header: r.Header.Clone(), Body: m, Status: status})
		s.mu.Unlock()
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "120")
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *sink) deliveries() []delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.got)
}

// delivered counts the 2xx deliveries per webhook-id.
func (s *sink) delivered() map[string]int {
	out := map[string]int{}
	for _, d := range s.deliveries() {
		if d.Status < 300 {
			out[d.ID]++
		}
	}
	return out
}

func receiver(name, url string) notify.ReceiverConfig {
	return notify.ReceiverConfig{Name: name, Type: notify.TypeWebhook, URL: secret.String(url), Secret: secretNow,
		Backoff: []time.Duration{10 * time.Millisecond}, Timeout: 2 * time.Second}
}

// opts shape a test dispatcher: its instance name, a clock skew, a claim timeout.
type opts struct {
	instance    string
	skew, claim time.Duration
}

// dispatcher builds a dispatcher of webhook receivers over the world's change log.
func dispatcher(t *testing.T, w *detecttest.World, o opts, rs ...notify.ReceiverConfig) (*notify.Dispatcher, *notify.Metrics) {
	t.Helper()
	cfg := notify.Config{Receivers: rs, PollInterval: 50 * time.Millisecond, ClaimTimeout: o.claim}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	var receivers []notify.Receiver
	for _, r := range cfg.Receivers {
		client, err := r.HTTPClient()
		if err != nil {
			t.Fatal(err)
		}
		n, err := webhook.New(r, client)
		if err != nil {
			t.Fatal(err)
		}
		receivers = append(receivers, notify.Receiver{Config: r, Notifier: n})
	}
	m := notify.NewMetrics(nil)
	now := func() time.Time { return time.Now().Add(o.skew) }
	return notify.NewDispatcher(notify.DispatcherOptions{Conn: w.Conn, DB: db, Config: cfg, Receivers: receivers, Instance: o.instance,
		Logger: devstacktest.Logger(), Metrics: m, Now: now}), m
}

// drainUntil drains the receiver until cond holds, for at most a minute.
func drainUntil(t *testing.T, d *notify.Dispatcher, name string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within a minute")
		}
		if err := d.Drain(t.Context(), name); err != nil {
			t.Fatal(err)
		}
	}
}

func outcomes(t *testing.T, w *detecttest.World, receiver string) []string {
	t.Helper()
	ns, err := notify.List(t.Context(), w.Conn, db, notify.ListFilter{Receiver: receiver, Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, n := range ns {
		out = append(out, fmt.Sprintf("%s:%s#%d", n.ChangeID, n.Outcome, n.Attempts))
	}
	slices.Sort(out)
	return out
}

func TestDeliveriesAreSignedWithBothSecretsAndCarryTheChange(t *testing.T) {
	w := detecttest.NewWorld(t, db)
	logChanges(t, w, 2)
	s := newSink(t, nil)
	r := receiver("hook", s.srv.URL)
	r.PreviousSecret = secretPrev
	d, m := dispatcher(t, w, opts{}, r)
	drainUntil(t, d, "hook", func() bool { return len(s.delivered()) == 2 })

	prev, _ := standardwebhooks.NewWebhook(secretPrev)
	for _, got := range s.deliveries() {
		// The secret being rotated out verifies too: the header carries both signatures.
		if err := prev.Verify(got.Raw, got.Header); err != nil {
			t.Errorf("previous secret: %v", err)
		}
		if sigs := strings.Fields(got.Header.Get("webhook-signature")); len(sigs) != 2 {
			t.Errorf("webhook-signature %q, want two", sigs)
		}
		if got.Body["type"] != "alert.firing" {
			t.Errorf("type %v", got.Body["type"])
		}
		data, _ := got.Body["data"].(map[string]any)
		ev, _ := data["evidence"].(map[string]any)
		if data["change_id"] != got.ID || data["kind"] != "fired" || ev["timeline"] == nil || data["reason"] == "" {
			t.Errorf("data %v", data)
		}
	}
	if got := testutil.ToFloat64(m.Deliveries.WithLabelValues("hook", "delivered")); got != 2 {
		t.Errorf("delivered metric %v", got)
	}
	if got := outcomes(t, w, "hook"); !slices.Equal(got, []string{"c0:delivered#1", "c1:delivered#1"}) {
		t.Errorf("delivery log %v", got)
	}
	// Nothing is sent twice.
	if err := d.Drain(t.Context(), "hook"); err != nil {
		t.Fatal(err)
	}
	if n := len(s.deliveries()); n != 2 {
		t.Errorf("%d requests after a second drain, want 2", n)
	}
}

func TestAFailingReceiverIsRetriedWithTheSameWebhookID(t *testing.T) {
	w := detecttest.NewWorld(t, db)
	logChanges(t, w, 1)
	s := newSink(t, func(n int, _ *http.Request) int {
		if n < 3 {
			return []int{500, 302, 404}[n] // a redirect is not followed: it is a failure
		}
		return 200
	})
	d, m := dispatcher(t, w, opts{}, receiver("hook", s.srv.URL))
	drainUntil(t, d, "hook", func() bool { return len(s.delivered()) == 1 })
	got := s.deliveries()
	if len(got) != 4 {
		t.Fatalf("%d requests, want 4", len(got))
	}
	for _, g := range got {
		if g.ID != "c0" {
			t.Errorf("webhook-id %q, want c0 on every attempt", g.ID)
		}
	}
	if r := testutil.ToFloat64(m.Deliveries.WithLabelValues("hook", "retry")); r != 3 {
		t.Errorf("retry metric %v, want 3", r)
	}
	if o := outcomes(t, w, "hook"); !slices.Equal(o, []string{"c0:delivered#4"}) {
		t.Errorf("delivery log %v", o)
	}
}

func TestARequestThatHangsPastTheTimeoutIsRetried(t *testing.T) {
	w := detecttest.NewWorld(t, db)
	logChanges(t, w, 1)
	release := make(chan struct{})
	defer close(release)
	s := newSink(t, func(n int, r *http.Request) int {
		if n == 0 {
			select { // hang past the client's timeout
			case <-r.Context().Done():
			case <-release:
			}
		}
		return 200
	})
	r := receiver("hook", s.srv.URL)
	r.Timeout = 300 * time.Millisecond
	d, _ := dispatcher(t, w, opts{}, r)
	drainUntil(t, d, "hook", func() bool { return len(s.deliveries()) >= 2 })
	ns, _ := notify.List(t.Context(), w.Conn, db, notify.ListFilter{Receiver: "hook"})
	if len(ns) != 1 || ns[0].Outcome != "delivered" || ns[0].Attempts != 2 {
		t.Fatalf("log %+v, want delivered on the 2nd attempt", ns)
	}
}

func TestGoneDisablesTheReceiverUntilEnabled(t *testing.T) {
	w := detecttest.NewWorld(t, db)
	logChanges(t, w, 3)
	gone := true
	var mu sync.Mutex
	s := newSink(t, func(int, *http.Request) int {
		mu.Lock()
		defer mu.Unlock()
		if gone {
			return http.StatusGone
		}
		return 200
	})
	r := receiver("hook", s.srv.URL)
	r.Concurrency = 1
	d, m := dispatcher(t, w, opts{}, r)
	if err := d.Drain(t.Context(), "hook"); err != nil {
		t.Fatal(err)
	}
	if n := len(s.deliveries()); n != 1 {
		t.Fatalf("%d requests, want 1: a receiver that is gone gets nothing more", n)
	}
	st, err := notify.Statuses(t.Context(), w.Conn, db, []string{"hook"})
	if err != nil || !st[0].Disabled || !strings.Contains(st[0].Reason, "410") {
		t.Fatalf("status %+v, %v", st, err)
	}
	if testutil.ToFloat64(m.Disabled.WithLabelValues("hook")) != 1 {
		t.Error("disabled gauge not set")
	}
	if err := d.Drain(t.Context(), "hook"); err != nil || len(s.deliveries()) != 1 {
		t.Fatalf("a disabled receiver was sent to (%v)", err)
	}
	mu.Lock()
	gone = false
	mu.Unlock()
	if err := notify.SetDisabled(t.Context(), w.Conn, db, "hook", false, "enabled by hand"); err != nil {
		t.Fatal(err)
	}
	drainUntil(t, d, "hook", func() bool { return len(s.delivered()) == 3 })
}

func TestRetryAfterIsHonoured(t *testing.T) {
	w := detecttest.NewWorld(t, db)
	logChanges(t, w, 1)
	s := newSink(t, func(int, *http.Request) int { return http.StatusTooManyRequests })
	d, _ := dispatcher(t, w, opts{}, receiver("hook", s.srv.URL)) // backoff 10 ms
	start := time.Now()
	if err := d.Drain(t.Context(), "hook"); err != nil {
		t.Fatal(err)
	}
	ns, _ := notify.List(t.Context(), w.Conn, db, notify.ListFilter{Receiver: "hook"})
	if len(ns) != 1 || ns[0].Outcome != "retry" || ns[0].StatusCode != 429 || ns[0].NextAttemptAt == nil ||
		ns[0].NextAttemptAt.Sub(start) < 119*time.Second {
		t.Fatalf("log %+v: the next attempt should wait the receiver's Retry-After of 120 s", ns)
	}
	if err := d.Drain(t.Context(), "hook"); err != nil || len(s.deliveries()) != 1 {
		t.Fatalf("a change was sent again before its Retry-After (%d requests, %v)", len(s.deliveries()), err)
	}
}

func TestAChangeNotDeliveredWithinMaxAgeFailsForGood(t *testing.T) {
	w := detecttest.NewWorld(t, db)
	logChanges(t, w, 1)
	s := newSink(t, func(int, *http.Request) int { return 500 })
	r := receiver("hook", s.srv.URL)
	r.MaxAge = time.Minute
	r.Backoff = []time.Duration{40 * time.Second}
	d, _ := dispatcher(t, w, opts{}, r)
	if err := d.Drain(t.Context(), "hook"); err != nil { // fails, next try in ~40 s: within a minute
		t.Fatal(err)
	}
	if o := outcomes(t, w, "hook"); !slices.Equal(o, []string{"c0:retry#1"}) {
		t.Fatalf("log %v", o)
	}
	// A clock 50 s on (past the retry due at 32-48 s, with jitter): the second failure's next
	// try would be past max_age.
	d2, m2 := dispatcher(t, w, opts{instance: d.Instance(), skew: 50 * time.Second}, r)
	if err := d2.Drain(t.Context(), "hook"); err != nil {
		t.Fatal(err)
	}
	if o := outcomes(t, w, "hook"); !slices.Equal(o, []string{"c0:failed#2"}) {
		t.Fatalf("log %v, want failed for good", o)
	}
	if testutil.ToFloat64(m2.FinalFailures.WithLabelValues("hook")) != 1 {
		t.Error("final failure not counted")
	}
	failed, _ := notify.List(t.Context(), w.Conn, db, notify.ListFilter{Failed: true})
	if len(failed) != 1 {
		t.Errorf("--failed lists %d", len(failed))
	}
	// Replay makes it due again, with the same webhook-id, and max_age counts anew.
	n, err := notify.Replay(t.Context(), w.Conn, db, "hook", time.Now().Add(-time.Hour), time.Now().Add(time.Hour), time.Now(), false)
	if err != nil || n != 1 {
		t.Fatalf("replay: %d, %v", n, err)
	}
	if err := d.Drain(t.Context(), "hook"); err != nil {
		t.Fatal(err)
	}
	if got := s.deliveries(); len(got) != 3 || got[2].ID != "c0" {
		t.Fatalf("after the replay: %+v", got)
	}
}

func TestFiltersChooseWhatAReceiverGets(t *testing.T) {
	w := detecttest.NewWorld(t, db)
	logChanges(t, w, 6) // c0, c2, c4: stalled_eir high aliexpress; c1, c3, c5: never_scanned medium amazon
	all, high, amazon := newSink(t, nil), newSink(t, nil), newSink(t, nil)
	rh := receiver("high", high.srv.URL)
	rh.MinSeverity = "high"
	ra := receiver("amazon", amazon.srv.URL)
	ra.Marketplaces = []string{"amazon"}
	ra.Detectors = []string{"never_scanned"}
	d, _ := dispatcher(t, w, opts{}, receiver("all", all.srv.URL), rh, ra)
	for _, name := range []string{"all", "high", "amazon"} {
		if err := d.Drain(t.Context(), name); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(s *sink) []string {
		var out []string
		for id := range s.delivered() {
			out = append(out, id)
		}
		slices.Sort(out)
		return out
	}
	if got := ids(all); len(got) != 6 {
		t.Errorf("all: %v", got)
	}
	if got := ids(high); !slices.Equal(got, []string{"c0", "c2", "c4"}) {
		t.Errorf("min_severity high: %v", got)
	}
	if got := ids(amazon); !slices.Equal(got, []string{"c1", "c3", "c5"}) {
		t.Errorf("amazon never_scanned: %v", got)
	}
}

func TestBatchesCarryUpToMaxAlerts(t *testing.T) {
	w := detecttest.NewWorld(t, db)
	logChanges(t, w, 25)
	s := newSink(t, nil)
	r := receiver("hook", s.srv.URL)
	r.MaxAlerts = 10
	d, _ := dispatcher(t, w, opts{}, r)
	drainUntil(t, d, "hook", func() bool { return len(s.deliveries()) == 3 })
	total := 0
	for _, g := range s.deliveries() {
		data, _ := g.Body["data"].(map[string]any)
		changes, _ := data["changes"].([]any)
		if g.Body["type"] != "alert.batch" || len(changes) > 10 || !strings.HasPrefix(g.ID, "batch_") {
			t.Errorf("batch %s: type %v, %d changes", g.ID, g.Body["type"], len(changes))
		}
		total += len(changes)
	}
	if total != 25 {
		t.Errorf("%d changes in batches, want 25", total)
	}
}

func TestTwoInstancesDeliverEachChangeOnce(t *testing.T) {
	w := detecttest.NewWorld(t, db)
	logChanges(t, w, 300)
	s := newSink(t, nil)
	r := receiver("hook", s.srv.URL)
	a, _ := dispatcher(t, w, opts{instance: "instance-a"}, r)
	b, _ := dispatcher(t, w, opts{instance: "instance-b"}, r)
	a.BatchSize, b.BatchSize = 50, 50 // many rounds, so the two contend
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var wg sync.WaitGroup
	for _, d := range []*notify.Dispatcher{a, b} {
		wg.Go(func() { _ = d.Run(ctx) })
	}
	for deadline := time.Now().Add(time.Minute); len(s.delivered()) < 300; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of 300 delivered within a minute", len(s.delivered()))
		}
	}
	cancel()
	wg.Wait()
	twice := 0
	for _, n := range s.delivered() {
		if n > 1 {
			twice++
		}
	}
	var byInstance []struct {
		Instance string `ch:"instance"`
		N        uint64 `ch:"n"`
	}
	if err := w.Conn.Select(t.Context(), &byInstance, "SELECT instance, count() AS n FROM nt.notify_attempts GROUP BY instance ORDER BY instance"); err != nil {
		t.Fatal(err)
	}
	t.Logf("deliveries by instance: %+v", byInstance)
	if twice > 0 || len(s.deliveries()) != 300 {
		t.Fatalf("%d changes delivered twice, %d requests for 300 changes", twice, len(s.deliveries()))
	}
}

func TestASlowReceiverDelaysNoOther(t *testing.T) {
	w := detecttest.NewWorld(t, db)
	logChanges(t, w, 20)
	release := make(chan struct{})
	slow := newSink(t, func(_ int, r *http.Request) int {
		select {
		case <-release:
		case <-r.Context().Done():
		}
		return 200
	})
	fast := newSink(t, nil)
	rs := receiver("slow", slow.srv.URL)
	rs.Timeout = time.Minute
	d, _ := dispatcher(t, w, opts{claim: 3 * time.Minute}, rs, receiver("fast", fast.srv.URL))
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() { _ = d.Run(ctx) })
	for deadline := time.Now().Add(time.Minute); len(fast.delivered()) < 20; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the fast receiver got %d of 20 while the slow one hung", len(fast.delivered()))
		}
	}
	if n := len(slow.delivered()); n != 0 {
		t.Fatalf("the slow receiver answered %d: the test did not hold it", n)
	}
	close(release)
	cancel()
	wg.Wait()
}

func TestAnAcknowledgedAlertIsNotNotifiedAgainButItsResolutionIs(t *testing.T) {
	w := detecttest.NewWorld(t, db)
	logChanges(t, w, 2) // a0, a1 fired
	if err := w.Conn.Exec(t.Context(), `INSERT INTO nt.alert_actions (action_id, alert_id, action, actor, at)
		VALUES ('x1', 'a0', 'acknowledge', 'ana', now64(3))`); err != nil {
		t.Fatal(err)
	}
	if err := w.Conn.Exec(t.Context(), `INSERT INTO nt.alert_changes (change_id, kind, alert_id, detector, severity, status, as_of)
		VALUES ('r0', 'resolved', 'a0', 'stalled_eir', 'high', 'resolved', now64(3))`); err != nil {
		t.Fatal(err)
	}
	s := newSink(t, nil)
	d, _ := dispatcher(t, w, opts{}, receiver("hook", s.srv.URL))
	if err := d.Drain(t.Context(), "hook"); err != nil {
		t.Fatal(err)
	}
	got := s.delivered()
	if len(got) != 2 || got["c1"] != 1 || got["r0"] != 1 {
		t.Fatalf("delivered %v, want c1 (not acknowledged) and r0 (a resolution), not c0", got)
	}
}

func TestAReloadSignsWithTheRotatedSecretAndRefusesANewSetOfReceivers(t *testing.T) {
	w := detecttest.NewWorld(t, db)
	logChanges(t, w, 1)
	s := newSink(t, nil) // verifies with secretNow only
	old := receiver("hook", s.srv.URL)
	old.Secret = secretPrev
	d, _ := dispatcher(t, w, opts{}, old)
	// The secret is rotated to the one the receiver verifies (as a new secret_file,
	// read again on SIGHUP); the receivers are built as trackwatch run builds them.
	cfg := notify.Config{Receivers: []notify.ReceiverConfig{receiver("hook", s.srv.URL), receiver("other", s.srv.URL)}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	var rs []notify.Receiver
	for _, r := range cfg.Receivers {
		client, _ := r.HTTPClient()
		n, err := webhook.New(r, client)
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, notify.Receiver{Config: r, Notifier: n})
	}
	if err := d.Reload(rs); err == nil {
		t.Fatal("a reload that adds a receiver was taken")
	}
	if err := d.Reload(rs[:1]); err != nil {
		t.Fatal(err)
	}
	drainUntil(t, d, "hook", func() bool { return len(s.delivered()) == 1 })
	got := s.deliveries()[0]
	prev, _ := standardwebhooks.NewWebhook(secretPrev)
	if err := prev.Verify(got.Raw, got.Header); err == nil {
		t.Error("the secret rotated out still signs")
	}
}
