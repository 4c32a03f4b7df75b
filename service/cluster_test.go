package service

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/trackwatch/trackwatch/alert"
	"github.com/trackwatch/trackwatch/backtest"
	"github.com/trackwatch/trackwatch/config"
	"github.com/trackwatch/trackwatch/detect"
	"github.com/trackwatch/trackwatch/devstack/devstacktest"
	"github.com/trackwatch/trackwatch/ingest"
	"github.com/trackwatch/trackwatch/kafkaclient"
	"github.com/trackwatch/trackwatch/schemas"
	"github.com/trackwatch/trackwatch/simulate"
	"github.com/trackwatch/trackwatch/store"
)

// clusterWorld is an embedded stack (its own Kafka) on one server or on a cluster of
// embedded servers, migrated, with a pool as trackwatch run opens it.
type clusterWorld struct {
	t     *testing.T
	cfg   config.Config
	stack *Stack
	pool  *store.Pool
	group int
}

func startWorld(t *testing.T, shards int, sets ...string) *clusterWorld {
	t.Helper()
	dir := t.TempDir()
	ch := devstacktest.ClickHouseConfig(t, filepath.Join(dir, "clickhouse"))
	cfg, err := config.Load(config.Sources{File: filepath.Join("..", "trackwatch.yaml"), Sets: append([]string{
		"embedded.kafka.listen=127.0.0.1:0",
		"embedded.kafka.data_dir=" + filepath.Join(dir, "kafka"),
		"embedded.clickhouse.data_dir=" + ch.DataDir,
		"embedded.clickhouse.lib_path=" + ch.LibPath,
		"embedded.clickhouse.tcp_port=" + strconv.Itoa(ch.TCPPort),
		"embedded.clickhouse.http_port=" + strconv.Itoa(ch.HTTPPort),
		"embedded.clickhouse.shards=" + strconv.Itoa(shards),
	}, sets...)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	stack, err := StartStack(ctx, cfg, false, devstacktest.Logger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stack.Close() })
	if err := Migrate(ctx, cfg, stack, devstacktest.Logger(), time.Now); err != nil {
		t.Fatal(err)
	}
	cfg.ClickHouse.Distributed = stack.Clustered()
	pool, err := store.OpenPool(ctx, cfg.ClickHouse, stack.ClickHouseAddr...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pool.Close() })
	return &clusterWorld{t: t, cfg: cfg, stack: stack, pool: pool}
}

// ingest produces msgs to the world's Kafka and runs trackwatch's ingest until it has
// stored them.
func (w *clusterWorld) ingest(msgs []simulate.Message) {
	t := w.t
	t.Helper()
	ctx := context.Background()
	kw := &kafka.Writer{Addr: kafka.TCP(w.stack.Brokers...), Balancer: &kafka.Hash{}, BatchTimeout: 5 * time.Millisecond, BatchSize: 500}
	var km []kafka.Message
	for _, m := range msgs {
		km = append(km, kafka.Message{Topic: m.Topic, Key: []byte(m.Key), Value: m.Value})
	}
	if err := kw.WriteMessages(ctx, km...); err != nil {
		t.Fatal(err)
	}
	kw.Close()
	numbers, err := NumberChecker(w.cfg)
	if err != nil {
		t.Fatal(err)
	}
	kc := w.cfg.Kafka
	ictx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- ingest.Run(ictx, ingest.Options{Kafka: kc, Brokers: w.stack.Brokers, Conn: w.pool, Database: w.cfg.ClickHouse.Database,
			Logger: devstacktest.Logger(), Config: ingest.Config{FlushInterval: 200 * time.Millisecond, SessionTimeout: 6 * time.Second}, Numbers: numbers})
	}()
	for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		lag, err := kafkaclient.GroupLag(ctx, kc, w.stack.Brokers, kc.GroupID, kc.TrackingTopic, kc.OrderTopic)
		if err == nil && lag == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ingest did not catch up: lag %d, %v", lag, err)
		}
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// scheduled makes the schedule's run as of asOf, as trackwatch run's ticks make it.
func (w *clusterWorld) scheduled(asOf time.Time) {
	w.t.Helper()
	if err := w.scheduledRun(asOf); err != nil {
		w.t.Fatal(err)
	}
}

func (w *clusterWorld) scheduledRun(asOf time.Time) error {
	w.t.Helper()
	ctx := context.Background()
	alerts := alert.NewStore(w.pool, w.cfg.ClickHouse.Database)
	so := detect.SchedulerOptions{Open: w.pool.OpenSession, Database: w.cfg.ClickHouse.Database, Config: w.cfg.Detect,
		Record: func(ctx context.Context, f *detect.Findings) (map[string]int, error) {
			res, err := alerts.Record(ctx, f)
			return res.Firing, err
		}}
	if err := w.stack.onNodes(ctx, w.pool, w.cfg.ClickHouse, &so); err != nil {
		w.t.Fatal(err)
	}
	sched, err := detect.NewScheduler(so)
	if err != nil {
		w.t.Fatal(err)
	}
	return sched.RunAt(ctx, asOf)
}

// once is trackwatch detect --once --as-of: the findings, recorded.
func (w *clusterWorld) once(asOf time.Time) ([]detect.Finding, alert.Result) {
	w.t.Helper()
	ctx := context.Background()
	clients, err := Connect(ctx, w.cfg)
	if err != nil {
		w.t.Fatal(err)
	}
	defer clients.Close()
	set, err := detect.NewSet(w.cfg.ClickHouse.Database)
	if err != nil {
		w.t.Fatal(err)
	}
	fs, res, err := clients.Detect(ctx, set, w.cfg.Detect, asOf, true)
	if err != nil {
		w.t.Fatal(err)
	}
	return fs, res
}

// alertRow is an alert as the API reads it, less the server's clock.
type alertRow struct {
	AlertID        string     `ch:"alert_id"`
	Detector       string     `ch:"detector"`
	OrderID        string     `ch:"order_id"`
	TrackingNumber string     `ch:"tracking_number"`
	Severity       string     `ch:"severity"`
	Recommendation string     `ch:"recommendation"`
	Reason         string     `ch:"reason"`
	Evidence       string     `ch:"evidence"`
	First          time.Time  `ch:"first_detected_at"`
	Last           time.Time  `ch:"last_detected_at"`
	Status         string     `ch:"status"`
	ResolvedAt     *time.Time `ch:"resolved_at"`
}

// alerts reads every alert and every change id through the configured database.
func (w *clusterWorld) alerts() ([]alertRow, []string) {
	w.t.Helper()
	return w.alertsOn(w.pool, w.cfg.ClickHouse.Database)
}

// alertsOn reads every alert and every change id of database db through conn.
func (w *clusterWorld) alertsOn(conn interface {
	Select(ctx context.Context, dest any, query string, args ...any) error
}, db string) ([]alertRow, []string) {
	w.t.Helper()
	ctx := context.Background()
	db = "`" + db + "`"
	var rows []alertRow
	if err := conn.Select(ctx, &rows, "SELECT alert_id, detector, order_id, tracking_number, severity, recommendation, reason, evidence, first_detected_at, last_detected_at, status, resolved_at FROM "+db+".alerts FINAL ORDER BY alert_id"); err != nil {
		w.t.Fatal(err)
	}
	var ids []struct {
		ID string `ch:"change_id"`
	}
	if err := conn.Select(ctx, &ids, "SELECT DISTINCT change_id FROM "+db+".alert_changes ORDER BY change_id"); err != nil {
		w.t.Fatal(err)
	}
	var changes []string
	for _, c := range ids {
		changes = append(changes, c.ID)
	}
	return rows, changes
}

// A 2-shard and a 3-shard embedded cluster give exactly one server's findings and
// alerts on the simulator's labelled traffic: scheduled runs (the first over every
// order, the next over what changed, with traffic ingested between them) and a run over
// every order.
func TestClusterFindsWhatOneServerFinds(t *testing.T) {
	if testing.Short() {
		t.Skip("starts six embedded ClickHouse servers")
	}
	traffic := simulate.Run(simulate.Options{Seed: 11, Orders: 600})
	// first every carrier event and most order events; later the last third of the order
	// events alone (so that a scoped run sees orders that changed without their numbers)
	var first, later []simulate.Message
	orders := 0
	for _, m := range traffic.Messages {
		if m.Topic == schemas.OrderTopic {
			orders++
		}
	}
	seen := 0
	for _, m := range traffic.Messages {
		if m.Topic == schemas.OrderTopic {
			if seen++; seen > orders*2/3 {
				later = append(later, m)
				continue
			}
		}
		first = append(first, m)
	}
	// an hour apart: the runs after the first are scoped to what changed (a run a day
	// after the last full one would be full again: detect.full_run_every)
	steps := []time.Time{traffic.AsOf.Add(-2 * time.Hour), traffic.AsOf.Add(-time.Hour), traffic.AsOf}

	type outcome struct {
		alerts   [][]alertRow
		changes  [][]string
		findings []detect.Finding
		firing   map[string]int
	}
	run := func(w *clusterWorld) outcome {
		var o outcome
		w.ingest(first)
		w.scheduled(steps[0])
		a, c := w.alerts()
		o.alerts, o.changes = append(o.alerts, a), append(o.changes, c)
		w.ingest(later)
		for _, at := range steps[1:] {
			w.scheduled(at)
			a, c := w.alerts()
			o.alerts, o.changes = append(o.alerts, a), append(o.changes, c)
		}
		var res alert.Result
		o.findings, res = w.once(traffic.AsOf.Add(time.Hour))
		o.firing = res.Firing
		return o
	}
	one := run(startWorld(t, 1))
	if len(one.findings) < 100 || len(one.alerts[2]) < 100 {
		t.Fatalf("one server: %d findings, %d alerts: too few to compare", len(one.findings), len(one.alerts[2]))
	}
	// the simulation's labelled sellers: a seller's rate spans the shards' numbers
	sellers := 0
	for _, a := range one.alerts[2] {
		if a.Detector == detect.SellerValidTrackingRate {
			sellers++
		}
	}
	if sellers == 0 {
		t.Fatalf("one server: no %s alert to compare", detect.SellerValidTrackingRate)
	}
	for _, shards := range []int{2, 3} {
		t.Run(fmt.Sprintf("%d shards", shards), func(t *testing.T) {
			w := startWorld(t, shards)
			got := run(w)
			for i := range steps {
				if !reflect.DeepEqual(got.alerts[i], one.alerts[i]) {
					t.Errorf("alerts after the scheduled run as of %s: %d on the cluster, %d on one server; first difference: %s",
						steps[i].Format(time.RFC3339), len(got.alerts[i]), len(one.alerts[i]), firstDiff(got.alerts[i], one.alerts[i]))
				}
				if !reflect.DeepEqual(got.changes[i], one.changes[i]) {
					t.Errorf("alert changes after the run as of %s: %d on the cluster, %d on one server", steps[i].Format(time.RFC3339), len(got.changes[i]), len(one.changes[i]))
				}
			}
			if !reflect.DeepEqual(got.findings, one.findings) {
				t.Errorf("findings over every order: %d on the cluster, %d on one server", len(got.findings), len(one.findings))
			}
			if !reflect.DeepEqual(got.firing, one.firing) {
				t.Errorf("firing: %v on the cluster, %v on one server", got.firing, one.firing)
			}
			// each shard evaluated a part: the orders are not all on one node's alerts
			var local []uint64
			for _, n := range w.stack.Nodes {
				var k uint64
				conn, err := store.Open(context.Background(), store.Config{Username: "default", DialTimeout: 5 * time.Second, MaxOpenConns: 1}, n.Addr)
				if err != nil {
					t.Fatal(err)
				}
				if err := conn.QueryRow(context.Background(), "SELECT count() FROM `"+schemas.LocalDatabase(w.cfg.ClickHouse.Database)+"`.alerts FINAL").Scan(&k); err != nil {
					t.Fatal(err)
				}
				conn.Close()
				local = append(local, k)
			}
			for i, k := range local {
				if k == 0 || k >= uint64(len(one.alerts[2])) {
					t.Errorf("node %d holds %d of the %d alerts: the work did not split", i+1, k, len(one.alerts[2]))
				}
			}
			t.Logf("%d shards: %d findings, %d alerts, per node %v", shards, len(got.findings), len(got.alerts[2]), local)
		})
	}
}

func firstDiff(a, b []alertRow) string {
	for i := range min(len(a), len(b)) {
		if !reflect.DeepEqual(a[i], b[i]) {
			return fmt.Sprintf("cluster %+v\none server %+v", a[i], b[i])
		}
	}
	return "one is a prefix of the other"
}

// nodeAlerts reads every alert and change id of one node's local database.
func (w *clusterWorld) nodeAlerts(addr string) ([]alertRow, []string) {
	w.t.Helper()
	conn, err := store.Open(context.Background(), store.Config{Username: "default", DialTimeout: 5 * time.Second, MaxOpenConns: 1}, addr)
	if err != nil {
		w.t.Fatal(err)
	}
	defer conn.Close()
	return w.alertsOn(conn, schemas.LocalDatabase(w.cfg.ClickHouse.Database))
}

// The replicas of a shard keep one history: a replica that was down while the schedule
// ran catches up from the one that went on, with the same alerts and the same change ids
// as one server has after the same runs.
func TestReplicasOfAShardKeepOneHistory(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three embedded ClickHouse servers")
	}
	traffic := simulate.Run(simulate.Options{Seed: 5, Orders: 300})
	steps := []time.Time{traffic.AsOf.Add(-2 * time.Hour), traffic.AsOf.Add(-time.Hour), traffic.AsOf}
	one := startWorld(t, 1)
	one.ingest(traffic.Messages)
	for _, at := range steps {
		one.scheduled(at)
	}
	want, wantChanges := one.alerts()
	if len(want) < 50 {
		t.Fatalf("one server: %d alerts: too few to compare", len(want))
	}

	w := startWorld(t, 1, "embedded.clickhouse.replicas=2")
	w.ingest(traffic.Messages)
	w.scheduled(steps[0])
	// replica 1 is down for the next run: replica 2 evaluates alone
	down := w.stack.Nodes[0].Addr
	if err := w.stack.cluster.Stop(0, 0); err != nil {
		t.Fatal(err)
	}
	if err := w.scheduledRun(steps[1]); err == nil || !strings.Contains(err.Error(), "node "+down+":") || strings.Count(err.Error(), "node ") != 1 {
		t.Fatalf("the run with replica 1 down: %v; want an error naming that node alone", err)
	}
	if err := w.stack.cluster.Start(context.Background(), 0, 0); err != nil {
		t.Fatal(err)
	}
	// replica 2 has the latest run: it evaluates, and replica 1 gets its records
	w.scheduled(steps[2])
	for _, n := range w.stack.Nodes {
		got, changes := w.nodeAlerts(n.Addr)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("replica %d: %d alerts, one server %d; first difference: %s", n.Replica, len(got), len(want), firstDiff(got, want))
		}
		if !reflect.DeepEqual(changes, wantChanges) {
			t.Errorf("replica %d: %d alert changes, one server %d", n.Replica, len(changes), len(wantChanges))
		}
	}
}

// A backtest on a 2-shard cluster reports what one server reports on the same traffic:
// each step evaluated shard by shard, the findings kept on their shard, the report read
// across the shards.
func TestBacktestOnAClusterReportsWhatOneServerReports(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three embedded ClickHouse servers")
	}
	traffic := simulate.Run(simulate.Options{Seed: 5, Orders: 300})
	o := backtest.Options{From: traffic.AsOf.Add(-6 * 24 * time.Hour), To: traffic.AsOf, Step: 24 * time.Hour}
	type outcome struct {
		report backtest.Report
		first  []backtest.FirstAlert
		res    backtest.Result
	}
	run := func(w *clusterWorld) outcome {
		w.ingest(traffic.Messages)
		ctx := context.Background()
		clients, err := Connect(ctx, w.cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer clients.Close()
		r, err := clients.Backtests(ctx, w.cfg.Detect, devstacktest.Logger())
		if err != nil {
			t.Fatal(err)
		}
		var out outcome
		for range 2 { // a second run with the same options replaces the first's history
			if out.res, err = r.Run(ctx, o); err != nil {
				t.Fatal(err)
			}
		}
		out.res.Took, out.res.StepSeconds = 0, nil
		if out.report, err = r.Report(ctx, out.res.ID); err != nil {
			t.Fatal(err)
		}
		if out.first, err = r.FirstAlerts(ctx, out.res.ID); err != nil {
			t.Fatal(err)
		}
		return out
	}
	one := run(startWorld(t, 1))
	if one.res.Findings < 50 || len(one.first) < 20 {
		t.Fatalf("one server: %d findings, %d first alerts: too few to compare", one.res.Findings, len(one.first))
	}
	w := startWorld(t, 2)
	got := run(w)
	if !reflect.DeepEqual(got.res, one.res) {
		t.Errorf("result: %+v on the cluster, %+v on one server", got.res, one.res)
	}
	if !reflect.DeepEqual(got.report, one.report) {
		t.Errorf("report:\n%+v on the cluster\n%+v on one server", got.report, one.report)
	}
	if !reflect.DeepEqual(got.first, one.first) {
		t.Errorf("first alerts: %d on the cluster, %d on one server", len(got.first), len(one.first))
	}
	// the steps' findings split between the shards' nodes
	for i, n := range w.stack.Nodes {
		conn, err := store.Open(context.Background(), store.Config{Username: "default", DialTimeout: 5 * time.Second, MaxOpenConns: 1}, n.Addr)
		if err != nil {
			t.Fatal(err)
		}
		var k uint64
		err = conn.QueryRow(context.Background(), "SELECT count() FROM `"+schemas.LocalDatabase(w.cfg.ClickHouse.Database)+"`.alert_history FINAL").Scan(&k)
		conn.Close()
		if err != nil {
			t.Fatal(err)
		}
		if k == 0 || k >= one.res.Findings {
			t.Errorf("node %d holds %d of the %d findings: the steps did not split", i+1, k, one.res.Findings)
		}
	}
	t.Logf("%d steps, %d findings, %d orders first flagged", got.res.Steps, got.res.Findings, len(got.first))
}
