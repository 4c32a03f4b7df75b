package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/trackwatch/trackwatch/alert"
	"github.com/trackwatch/trackwatch/alert/notify"
	"github.com/trackwatch/trackwatch/alert/notify/webhook"
	"github.com/trackwatch/trackwatch/devstack"
	"github.com/trackwatch/trackwatch/secret"
)

// NotifyOptions configure the notification benchmark. The zero value is usable.
type NotifyOptions struct {
	Changes     int // alert changes for the throughput measurement; default 10,000
	Runs        int // detector-run-sized bursts for the latency measurement; default 50
	PerRun      int // changes per burst; default 10
	Concurrency int // requests in flight to the receiver; default 4 (the receivers' default)
	ClickHouse  devstack.ClickHouseConfig
	Logger      *slog.Logger
	Progress    func(string)
}

// NotifyResult is what the benchmark measured.
type NotifyResult struct {
	Changes, Concurrency, EvidenceBytes int
	// BaselineSeconds: the same changes signed and posted to the same receiver by a
	// plain loop with the same concurrency, read from ClickHouse beforehand: no claims,
	// no delivery log. The ceiling of the HTTP side.
	BaselineSeconds float64
	// DispatcherSeconds: the dispatcher delivering them from the change log, from Wake
	// to the last one received.
	DispatcherSeconds float64
	// Latency from a burst's changes being logged (the end of a detector run's recording)
	// and the dispatcher woken, to each change's first attempt arriving at the receiver.
	LatencyP50, LatencyP99, LatencyMax time.Duration
	LatencySamples                     int
	// BaselineLatencyP50/P99: one signed POST, alone.
	BaselineLatencyP50, BaselineLatencyP99 time.Duration
}

const benchSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// Notify measures delivery throughput and latency on an embedded ClickHouse and a local
// receiver that answers 204.
func Notify(ctx context.Context, o NotifyOptions) (*NotifyResult, error) {
	if o.Changes == 0 {
		o.Changes = 10_000
	}
	if o.Runs == 0 {
		o.Runs = 50
	}
	if o.PerRun == 0 {
		o.PerRun = 10
	}
	if o.Concurrency == 0 {
		o.Concurrency = 4
	}
	if o.Progress == nil {
		o.Progress = func(string) {}
	}
	const db = "bench"
	_, conn, closeAll, err := freshDatabase(ctx, o.ClickHouse, o.Logger, "trackwatch-bench-notify-", db, 8)
	if err != nil {
		return nil, err
	}
	defer closeAll()

	// The receiver: counts requests and remembers when each webhook-id first arrived.
	var received atomic.Int64
	var mu sync.Mutex
	firstSeen := map[string]time.Time{}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		id := r.Header.Get("webhook-id")
		mu.Lock()
		if _, ok := firstSeen[id]; !ok {
			firstSeen[id] = time.Now()
		}
		mu.Unlock()
		received.Add(1)
		w.WriteHeader(http.StatusNoContent)
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	url := "http://" + ln.Addr().String() + "/hook"

	res := &NotifyResult{Changes: o.Changes, Concurrency: o.Concurrency}
	o.Progress(fmt.Sprintf("logging %d alert changes", o.Changes))
	if err := logBenchChanges(ctx, conn, db, "t", o.Changes); err != nil {
		return nil, err
	}
	var evLen float64
	if err := conn.QueryRow(ctx, statements.In(db, "evidence_length")).Scan(&evLen); err != nil {
		return nil, err
	}
	res.EvidenceBytes = int(evLen)

	rcfg := notify.ReceiverConfig{Name: "bench", Type: notify.TypeWebhook, URL: secret.String(url), Secret: benchSecret, Concurrency: o.Concurrency}
	ncfg := notify.Config{Receivers: []notify.ReceiverConfig{rcfg}, PollInterval: time.Hour} // only Wake delivers
	if err := ncfg.Validate(); err != nil {
		return nil, err
	}
	rcfg = ncfg.Receivers[0]
	client, err := rcfg.HTTPClient()
	if err != nil {
		return nil, err
	}
	hook, err := webhook.New(rcfg, client)
	if err != nil {
		return nil, err
	}

	// Baseline: sign and post the same changes, no bookkeeping.
	o.Progress("baseline: sign and post in a plain loop")
	var changes []alert.Change
	if err := conn.Select(ctx, &changes, statements.In(db, "changes")); err != nil {
		return nil, err
	}
	start := time.Now()
	if err := postAll(ctx, hook, changes, o.Concurrency); err != nil {
		return nil, err
	}
	res.BaselineSeconds = time.Since(start).Seconds()
	var lat []time.Duration
	for _, c := range changes[:min(len(changes), 500)] {
		t := time.Now()
		if err := hook.Notify(ctx, notify.Delivery{ID: c.ChangeID + "-single", Changes: []alert.Change{c}, Attempt: 1, Now: t}); err != nil {
			return nil, err
		}
		lat = append(lat, time.Since(t))
	}
	res.BaselineLatencyP50, res.BaselineLatencyP99, _ = percentiles(lat)

	// The dispatcher, from the change log.
	o.Progress("dispatcher: deliver the change log")
	m := notify.NewMetrics(nil)
	d := notify.NewDispatcher(notify.DispatcherOptions{Conn: conn, DB: db, Config: ncfg,
		Receivers: []notify.Receiver{{Config: rcfg, Notifier: hook}}, Instance: "bench", Logger: o.Logger, Metrics: m, Now: time.Now})
	dctx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan struct{})
	go func() { _ = d.Run(dctx); close(done) }()
	defer func() { stop(); <-done }()
	before := received.Load()
	start = time.Now()
	d.Wake()
	if err := waitCount(ctx, &received, before+int64(o.Changes), 5*time.Minute); err != nil {
		return nil, fmt.Errorf("dispatcher: %w", err)
	}
	res.DispatcherSeconds = time.Since(start).Seconds()

	// Latency: bursts the size of a detector run's changes, each logged then woken.
	o.Progress(fmt.Sprintf("latency: %d bursts of %d changes", o.Runs, o.PerRun))
	lat = lat[:0]
	for run := range o.Runs {
		prefix := fmt.Sprintf("r%d-", run)
		if err := logBenchChanges(ctx, conn, db, prefix, o.PerRun); err != nil {
			return nil, err
		}
		logged := time.Now()
		before := received.Load()
		d.Wake()
		if err := waitCount(ctx, &received, before+int64(o.PerRun), time.Minute); err != nil {
			return nil, fmt.Errorf("latency run %d: %w", run, err)
		}
		mu.Lock()
		for i := range o.PerRun {
			lat = append(lat, firstSeen[fmt.Sprintf("%s%d", prefix, i)].Sub(logged))
		}
		mu.Unlock()
	}
	res.LatencyP50, res.LatencyP99, res.LatencyMax = percentiles(lat)
	res.LatencySamples = len(lat)
	var failed uint64
	if err := conn.QueryRow(ctx, statements.In(db, "failed_attempts")).Scan(&failed); err != nil {
		return nil, err
	}
	if failed > 0 {
		return nil, fmt.Errorf("%d attempts did not deliver", failed)
	}
	return res, nil
}

// logBenchChanges writes n fired changes with ids <prefix><i>, each with a carrier
// timeline of 12 events as evidence (about the size real alerts carry).
func logBenchChanges(ctx context.Context, conn driver.Conn, db, prefix string, n int) error {
	return conn.Exec(ctx, statements.In(db, "log_changes"), clickhouse.Named("p", prefix), clickhouse.Named("n", uint32(n)))
}

// postAll sends each change as its own delivery, concurrency at a time.
func postAll(ctx context.Context, n notify.Notifier, changes []alert.Change, concurrency int) error {
	work := make(chan alert.Change)
	errs := make(chan error, concurrency)
	var wg sync.WaitGroup
	for range concurrency {
		wg.Go(func() {
			for c := range work {
				if err := n.Notify(ctx, notify.Delivery{ID: c.ChangeID + "-base", Changes: []alert.Change{c}, Attempt: 1, Now: time.Now()}); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		})
	}
	for _, c := range changes {
		work <- c
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

func waitCount(ctx context.Context, n *atomic.Int64, want int64, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for n.Load() < want {
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d requests received within %s", n.Load(), want, limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
	return nil
}

func percentiles(d []time.Duration) (p50, p99, maxD time.Duration) {
	if len(d) == 0 {
		return 0, 0, 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2], s[min(len(s)-1, len(s)*99/100)], s[len(s)-1]
}
