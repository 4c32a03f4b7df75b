package bench

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"github.com/trackwatch/trackwatch/devstack"
	"github.com/trackwatch/trackwatch/feeds"
	"github.com/trackwatch/trackwatch/httpapi"
	"github.com/trackwatch/trackwatch/ingest"
	"github.com/trackwatch/trackwatch/kafkaclient"
	"github.com/trackwatch/trackwatch/secret"
	"github.com/trackwatch/trackwatch/store"
)

// WebhooksOptions configure the webhooks benchmark. The zero value is usable.
type WebhooksOptions struct {
	Requests    int // signed one-checkpoint AfterShip updates; default 50,000
	Concurrency int // requests in flight in the throughput phase; default 64
	Partitions  int // partitions per topic; default 4
	// LatencySeconds is how long the latency phase sends at half the measured rate;
	// default 20, negative skips it.
	LatencySeconds int
	// LatencyRate is the requests/s of the latency phase; default half the measured
	// end-to-end rate.
	LatencyRate int
	ClickHouse  devstack.ClickHouseConfig
	Logger      *slog.Logger
	Progress    func(string)
}

// RequestLatency is the distribution of webhook requests' answer times under a steady
// load (request sent -> 200, the broker having acknowledged).
type RequestLatency struct {
	Rate, Requests, Failed int
	P50, P99, Max          time.Duration
}

// WebhooksResult is the benchmark's outcome.
type WebhooksResult struct {
	Requests, Concurrency, Partitions int
	// Answered: requests/s answered 200 (verified, mapped, acknowledged by Kafka).
	Answered Measurement
	// Webhooks: requests/s end to end, the first request to the last event queryable in
	// ClickHouse (trackwatch's ingest running in the same process).
	Webhooks Measurement
	// Kafka: the same events produced straight to Kafka in batches (the plain ingest's
	// way in), the first produce to the last event queryable.
	Kafka   Measurement
	Latency *RequestLatency
}

func (o *WebhooksOptions) defaults() {
	if o.Requests == 0 {
		o.Requests = 50_000
	}
	if o.Concurrency == 0 {
		o.Concurrency = 64
	}
	if o.Partitions == 0 {
		o.Partitions = 4
	}
	if o.LatencySeconds == 0 {
		o.LatencySeconds = 20
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Progress == nil {
		o.Progress = func(string) {}
	}
}

const benchHookSecret = "bench-aftership-webhook-secret"

// afterShipUpdate is one signed AfterShip tracking_update with one checkpoint, for the
// number of i, in the shape of AfterShip's documented webhook.
func afterShipUpdate(i int) (body []byte, sig string) {
	body = fmt.Appendf(nil, `{"event":"tracking_update","event_id":"bench-%d","is_tracking_first_tag":false,"msg":{"id":"bench%d","tracking_number":"WH%010dCN","slug":"china-post","tag":"InTransit","subtag":"InTransit_007","destination_country_iso3":"USA","checkpoints":[{"slug":"china-post","city":"Shenzhen","location":"Shenzhen International Mail Processing Center","country_name":"China","message":"Departure from outward office of exchange","country_iso3":"CHN","tag":"InTransit","subtag":"InTransit_007","checkpoint_time":"2026-10-03T09:31:00+08:00"}]},"ts":1791003611}`, i, i, i)
	m := hmac.New(sha256.New, []byte(benchHookSecret))
	m.Write(body)
	return body, base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// Webhooks measures, in one run on one embedded Kafka and ClickHouse: signed AfterShip
// webhooks posted to trackwatch's listener (the httpapi server with the feeds handler)
// with trackwatch's ingest consuming what they produce, end to end into ClickHouse; the
// request latency at half that rate; and the same events produced straight to Kafka and
// ingested the same way (the plain Kafka ingest).
func Webhooks(ctx context.Context, o WebhooksOptions) (*WebhooksResult, error) {
	o.defaults()
	dir, err := os.MkdirTemp("", "trackwatch-bench-webhooks-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	ch, err := startClickHouse(ctx, o.ClickHouse, dir, o.Logger)
	if err != nil {
		return nil, err
	}
	defer ch.Close()
	topics := []string{"wh-tracking", "wh-orders", "plain-tracking", "plain-orders"}
	k, err := devstack.StartKafka(devstack.KafkaConfig{Listen: "127.0.0.1:0", Partitions: o.Partitions, Memory: true}, topics, o.Logger)
	if err != nil {
		return nil, err
	}
	defer k.Close()
	conn, err := store.Open(ctx, store.Config{Username: "default", DialTimeout: 10 * time.Second, MaxOpenConns: 16}, ch.Addr())
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	res := &WebhooksResult{Requests: o.Requests, Concurrency: o.Concurrency, Partitions: o.Partitions}

	// the webhook path: listener -> feeds -> Kafka -> ingest -> ClickHouse
	const whDB = "bench_webhooks"
	stopIngest, err := runIngest(ctx, conn, k.Addr(), whDB, "wh", o)
	if err != nil {
		return nil, err
	}
	defer stopIngest()
	cfg := feeds.Config{{Provider: feeds.AfterShip, Secret: secret.String(benchHookSecret), RatePerSecond: 1e9, Burst: 1 << 30}}
	producer := feeds.NewProducer([]string{k.Addr()}, nil)
	defer producer.Close()
	h, err := feeds.NewHandler(feeds.HandlerOptions{Config: cfg, Producer: producer, TrackingTopic: "wh-tracking", OrderTopic: "wh-orders",
		DeadLetters: func(context.Context, feeds.DeadLetter) error {
			return errors.New("no dead letters expected in the benchmark")
		},
		Logger: o.Logger})
	if err != nil {
		return nil, err
	}
	api, err := httpapi.New(httpapi.Config{Listen: "127.0.0.1:0"}, nil, prometheus.NewRegistry(), o.Logger)
	if err != nil {
		return nil, err
	}
	api.MountWebhooks(h)
	if err := api.Listen(); err != nil {
		return nil, err
	}
	sctx, stopServer := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- api.Serve(sctx) }()
	defer func() { stopServer(); <-served }()
	url := "http://" + api.Addr() + "/ingest/v1/aftership"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: o.Concurrency, MaxConnsPerHost: o.Concurrency}, Timeout: 30 * time.Second}

	o.Progress(fmt.Sprintf("signing %d one-checkpoint AfterShip updates (not timed)", o.Requests))
	bodies, sigs := make([][]byte, o.Requests), make([]string, o.Requests)
	for i := range bodies {
		bodies[i], sigs[i] = afterShipUpdate(i)
	}
	o.Progress(fmt.Sprintf("webhooks: %d requests, %d in flight, into the listener and through Kafka to ClickHouse", o.Requests, o.Concurrency))
	start := time.Now()
	var next atomic.Int64
	var failed atomic.Int64
	var wg sync.WaitGroup
	for range o.Concurrency {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= o.Requests {
					return
				}
				if _, err := send(ctx, client, url, bodies[i], sigs[i]); err != nil {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	answered := time.Since(start)
	if n := failed.Load(); n > 0 {
		return nil, fmt.Errorf("%d of %d webhook requests failed", n, o.Requests)
	}
	if err := waitStored(ctx, conn, whDB, uint64(o.Requests)); err != nil {
		return nil, err
	}
	stored := time.Since(start)
	res.Answered = Measurement{Name: "webhooks answered 200 (verified, mapped, acknowledged by Kafka)", Events: o.Requests,
		Seconds: answered.Seconds(), EventsPerSec: float64(o.Requests) / answered.Seconds()}
	res.Webhooks = Measurement{Name: "webhooks end to end (request -> queryable in ClickHouse)", Events: o.Requests,
		Seconds: stored.Seconds(), EventsPerSec: float64(o.Requests) / stored.Seconds()}

	if o.LatencySeconds >= 0 {
		rate := max(1, int(res.Webhooks.EventsPerSec/2))
		if o.LatencyRate > 0 {
			rate = o.LatencyRate
		}
		o.Progress(fmt.Sprintf("latency: %d requests/s for %ds", rate, o.LatencySeconds))
		// at most 256 connections, as a provider's sender pool would: requests beyond
		// them wait for one, and the wait counts in their latency
		lc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}, Timeout: 30 * time.Second}
		if res.Latency, err = requestLatency(ctx, lc, url, rate, o); err != nil {
			return nil, err
		}
	}

	// the plain path: the same events, mapped outside the clock, produced in batches
	const plainDB = "bench_plain"
	stopPlain, err := runIngest(ctx, conn, k.Addr(), plainDB, "plain", o)
	if err != nil {
		return nil, err
	}
	defer stopPlain()
	msgs := make([]kafka.Message, 0, o.Requests)
	for i := range bodies {
		ev, err := feeds.Map(feeds.AfterShip, bodies[i], feeds.Source{})
		if err != nil {
			return nil, err
		}
		m, err := feeds.Messages(ev, "plain-tracking", "plain-orders")
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, m...)
	}
	o.Progress(fmt.Sprintf("plain Kafka: the same %d events produced in batches and ingested", len(msgs)))
	start = time.Now()
	if err := produceTo(ctx, k.Addr(), msgs); err != nil {
		return nil, err
	}
	if err := waitStored(ctx, conn, plainDB, uint64(len(msgs))); err != nil {
		return nil, err
	}
	took := time.Since(start)
	res.Kafka = Measurement{Name: "plain Kafka ingest of the same events (produce -> queryable)", Events: len(msgs),
		Seconds: took.Seconds(), EventsPerSec: float64(len(msgs)) / took.Seconds()}
	return res, nil
}

// send posts one signed update and returns how long the answer took.
func send(ctx context.Context, c *http.Client, url string, body []byte, sig string) (time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("aftership-hmac-sha256", sig)
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("answered %d", resp.StatusCode)
	}
	return time.Since(start), nil
}

// requestLatency sends requests at rate per second for LatencySeconds, on a schedule
// (each request at its time, whether or not earlier ones were answered), and returns
// the distribution of their answer times.
func requestLatency(ctx context.Context, c *http.Client, url string, rate int, o WebhooksOptions) (*RequestLatency, error) {
	total := rate * o.LatencySeconds
	lat := make([]time.Duration, total)
	var failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	interval := time.Second / time.Duration(rate)
	for i := range total {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		body, sig := afterShipUpdate(o.Requests + i) // numbers after the throughput phase's
		wg.Go(func() {
			d, err := send(ctx, c, url, body, sig)
			if err != nil {
				failed.Add(1)
				d = -1
			}
			lat[i] = d
		})
	}
	wg.Wait()
	ok := slices.DeleteFunc(lat, func(d time.Duration) bool { return d < 0 })
	if len(ok) == 0 {
		return nil, errors.New("latency: every request failed")
	}
	slices.Sort(ok)
	q := func(p float64) time.Duration { return ok[min(len(ok)-1, int(p*float64(len(ok))))] }
	return &RequestLatency{Rate: rate, Requests: total, Failed: int(failed.Load()), P50: q(0.5), P99: q(0.99), Max: ok[len(ok)-1]}, nil
}

// runIngest migrates db and runs trackwatch's ingest on the topics named by prefix, in
// this process, until the returned stop.
func runIngest(ctx context.Context, conn driver.Conn, broker, db, prefix string, o WebhooksOptions) (func(), error) {
	if err := migrate(ctx, conn, db); err != nil {
		return nil, err
	}
	kc := kafkaclient.Config{Brokers: []string{broker}, TrackingTopic: prefix + "-tracking", OrderTopic: prefix + "-orders", GroupID: "bench-" + prefix}
	if err := kc.Validate(); err != nil {
		return nil, err
	}
	var cfg ingest.Config
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ictx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- ingest.Run(ictx, ingest.Options{Kafka: kc, Brokers: []string{broker}, Config: cfg, Conn: conn, Database: db, Logger: o.Logger})
	}()
	var once sync.Once
	return func() { once.Do(func() { cancel(); <-done }) }, nil
}

func produceTo(ctx context.Context, broker string, msgs []kafka.Message) error {
	w := &kafka.Writer{Addr: kafka.TCP(broker), Balancer: &kafka.Hash{}, BatchSize: 3000,
		BatchBytes: 1 << 20, BatchTimeout: 10 * time.Millisecond, RequiredAcks: kafka.RequireAll}
	defer w.Close()
	for i := 0; i < len(msgs); i += 50_000 {
		if err := w.WriteMessages(ctx, msgs[i:min(i+50_000, len(msgs))]...); err != nil {
			return fmt.Errorf("produce: %w", summarise(err))
		}
	}
	return nil
}

// waitStored waits until db holds n tracking events (two minutes at most).
func waitStored(ctx context.Context, conn driver.Conn, db string, n uint64) error {
	var got uint64
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if err := conn.QueryRow(ctx, statements.In(db, "count_tracking_events")).Scan(&got); err != nil {
			return err
		}
		if got >= n {
			return nil
		}
	}
	return fmt.Errorf("%d of %d events stored in %s after two minutes", got, n, db)
}
