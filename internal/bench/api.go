package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/trackwatch/trackwatch/alert"
	"github.com/trackwatch/trackwatch/detect"
	"github.com/trackwatch/trackwatch/devstack"
	"github.com/trackwatch/trackwatch/httpapi"
	"github.com/trackwatch/trackwatch/lookup"
	"github.com/trackwatch/trackwatch/store"
)

// APIWarmUp is how many untimed store calls each endpoint gets before it is timed.
const APIWarmUp = 5

// APIOptions configure the workspace benchmark. The zero value is usable.
type APIOptions struct {
	Events   int // tracking events (a tenth as many orders); default 10,000,000
	Requests int // requests per endpoint; default 200
	// Acted is the share of the recorded alerts analysts acted on (closed, acknowledged,
	// assigned or commented on, a quarter each) before the timing; default 0.
	Acted    float64
	Logger   *slog.Logger
	Progress func(string)
	// ClickHouse is the embedded server's config (its data goes to a temp dir).
	ClickHouse devstack.ClickHouseConfig
}

// APITiming is one endpoint's latency.
type APITiming struct {
	Name               string
	StoreP50, StoreP99 time.Duration // the store's call alone, in process: the baseline
	HTTPP50, HTTPP99   time.Duration // the same through HTTP, as a browser or client sees it
	Requests           int
}

// APIResult is what the benchmark measured.
type APIResult struct {
	Events, Orders, Firing int
	// Acted counts the alerts with an analyst's action.
	Acted   int
	Timings []APITiming
}

// API loads the detector benchmark's data, records every detector's alerts, and times
// the workspace's endpoints: the store's call in process (the baseline) and the same
// request over HTTP.
func API(ctx context.Context, o APIOptions) (*APIResult, error) {
	if o.Events == 0 {
		o.Events = 10_000_000
	}
	if o.Requests == 0 {
		o.Requests = 200
	}
	if o.Progress == nil {
		o.Progress = func(string) {}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	const db = "bench_api"
	ch, conn, closeAll, err := freshDatabase(ctx, o.ClickHouse, o.Logger, "trackwatch-bench-api-", db, 16)
	if err != nil {
		return nil, err
	}
	defer closeAll()
	parcels := o.Events / 10
	o.Progress(fmt.Sprintf("loading %d tracking events for %d orders", o.Events, parcels))
	if err := loadDetectData(ctx, conn, db, parcels, false); err != nil {
		return nil, err
	}
	if _, err := judgeNumbers(ctx, conn, db); err != nil {
		return nil, err
	}
	o.Progress("recording every detector's alerts")
	session, err := store.OpenSession(ctx, store.Config{Username: "default", DialTimeout: 10 * time.Second}, ch.Addr())
	if err != nil {
		return nil, err
	}
	defer session.Close()
	set, err := detect.NewSet(db)
	if err != nil {
		return nil, err
	}
	alerts := alert.NewStore(conn, db)
	reader := lookup.NewReader(conn, db)
	rec, err := alerts.RecordAt(ctx, session, set, detect.Config{}, asOfBench)
	if err != nil {
		return nil, err
	}
	res := &APIResult{Events: o.Events, Orders: parcels}
	for _, n := range rec.Firing {
		res.Firing += n
	}
	if o.Acted > 0 {
		o.Progress(fmt.Sprintf("acting on %.0f%% of the alerts", o.Acted*100))
		if err := conn.Exec(ctx, statements.In(db, "analysts_act"), clickhouse.Named("share", o.Acted),
			clickhouse.Named("at", asOfBench.Add(time.Hour))); err != nil {
			return nil, fmt.Errorf("act on alerts: %w", err)
		}
		var acted uint64
		if err := conn.QueryRow(ctx, statements.In(db, "count_acted")).Scan(&acted); err != nil {
			return nil, err
		}
		res.Acted = int(acted)
	}
	now := func() time.Time { return asOfBench }
	srv, err := httpapi.New(httpapi.Config{Listen: "127.0.0.1:0"}, nil, prometheus.NewRegistry(), o.Logger)
	if err != nil {
		return nil, err
	}
	srv.MountAPI(alerts, reader, now)
	srv.MountUI(alerts, reader, nil, now)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	hs := &http.Server{Handler: srv.Handler()}
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()
	base := "http://" + ln.Addr().String()

	// Ids to ask for: alerts and sellers from the data.
	page, err := alerts.Query(ctx, alert.Query{Limit: 1000, Sort: "recency"})
	if err != nil {
		return nil, err
	}
	if len(page.Alerts) == 0 {
		return nil, fmt.Errorf("no alerts recorded")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func() alert.Listed { return page.Alerts[rng.IntN(len(page.Alerts))] }
	win := lookup.SellerWindow{From: asOfBench.AddDate(0, 0, -90), To: asOfBench}
	cases := []struct {
		name  string
		store func() error
		path  func() string
	}{
		{"alert queue, first page (firing, not closed, urgency)", func() error {
			_, err := alerts.Query(ctx, alert.Query{Status: alert.StatusFiring, NotClosed: true})
			return err
		}, func() string { return "/alerts" }},
		{"alert queue filtered by detector", func() error {
			_, err := alerts.Query(ctx, alert.Query{Status: alert.StatusFiring, NotClosed: true, Detector: "tracking_reuse"})
			return err
		}, func() string { return "/alerts?detector=tracking_reuse" }},
		{"queue of cases, first page (firing, not closed, urgency)", func() error {
			_, err := alerts.Cases(ctx, alert.CaseQuery{Query: alert.Query{Status: alert.StatusFiring, NotClosed: true}})
			return err
		}, func() string { return "/queue" }},
		{"queue of cases filtered by detector", func() error {
			_, err := alerts.Cases(ctx, alert.CaseQuery{Query: alert.Query{Status: alert.StatusFiring, NotClosed: true, Detector: "tracking_reuse"}})
			return err
		}, func() string { return "/queue?detector=tracking_reuse" }},
		{"case page", func() error {
			a := pick()
			_, err := reader.Case(ctx, alert.CaseID(a.Marketplace, a.OrderID, a.SellerID))
			return err
		}, func() string { a := pick(); return "/cases/" + alert.CaseID(a.Marketplace, a.OrderID, a.SellerID) }},
		{"API alerts by seller (JSON)", func() error {
			_, err := alerts.Query(ctx, alert.Query{SellerID: pick().SellerID})
			return err
		}, func() string { return "/api/v1/alerts?seller_id=" + pick().SellerID }},
		{"alert page", func() error {
			_, err := reader.Detail(ctx, pick().AlertID)
			return err
		}, func() string { return "/alerts/" + pick().AlertID }},
		{"seller page", func() error {
			_, err := reader.Sellers(ctx, pick().SellerID, win, "vtr", 1)
			return err
		}, func() string { return "/sellers/" + pick().SellerID }},
	}
	client := &http.Client{Timeout: time.Minute}
	for _, c := range cases {
		o.Progress(c.name)
		t := APITiming{Name: c.name, Requests: o.Requests}
		var st, ht []time.Duration
		// Warm-up, not timed: ClickHouse compiles an expression, an aggregation or a
		// sort the third time it sees it (min_count_to_compile_*), once for the
		// server's life; a workspace in use has.
		for range APIWarmUp {
			if err := c.store(); err != nil {
				return nil, fmt.Errorf("%s: %w", c.name, err)
			}
		}
		for range o.Requests {
			start := time.Now()
			if err := c.store(); err != nil {
				return nil, fmt.Errorf("%s: %w", c.name, err)
			}
			st = append(st, time.Since(start))
			start = time.Now()
			resp, err := client.Get(base + c.path())
			if err != nil {
				return nil, fmt.Errorf("%s: %w", c.name, err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				return nil, fmt.Errorf("%s: HTTP %d", c.name, resp.StatusCode)
			}
			ht = append(ht, time.Since(start))
		}
		t.StoreP50, t.StoreP99, _ = percentiles(st)
		t.HTTPP50, t.HTTPP99, _ = percentiles(ht)
		res.Timings = append(res.Timings, t)
	}
	return res, nil
}
