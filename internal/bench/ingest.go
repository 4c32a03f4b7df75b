package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/segmentio/kafka-go"

	"github.com/trackwatch/trackwatch/devstack"
	"github.com/trackwatch/trackwatch/ingest"
	"github.com/trackwatch/trackwatch/kafkaclient"
	"github.com/trackwatch/trackwatch/schemas"
	"github.com/trackwatch/trackwatch/sqlfile"
	"github.com/trackwatch/trackwatch/store"
)

// IngestOptions configure the ingest benchmark. The zero value is usable.
type IngestOptions struct {
	Events     int    // events to load; default 2,000,000
	Partitions int    // partitions per topic; default 4
	BlockRows  int    // rows per insert block, for trackwatch and the ceiling; default 10000 (ingest.max_batch_rows)
	Seed       uint64 // generator seed; default 1
	// Trackwatch is the trackwatch binary to run as the ingest process (required).
	Trackwatch string
	// Numbers is the orders' tracking numbers: SyntheticNumbers (default) or
	// RealisticNumbers (see Generate).
	Numbers string
	// SkipKafkaEngine leaves out the ClickHouse Kafka engine reference.
	SkipKafkaEngine bool
	// LatencySeconds is how long the latency phase produces at half of the measured
	// rate; default 20, negative skips it.
	LatencySeconds int
	// ClickHouse is the embedded server's config (lib path); data goes to a temp dir.
	ClickHouse devstack.ClickHouseConfig
	Logger     *slog.Logger
	// Progress receives one line per step.
	Progress func(string)
}

// Measurement is one contender's result.
type Measurement struct {
	Name         string
	Events       int
	Seconds      float64
	EventsPerSec float64
	PeakRSSMiB   float64 // 0 where not measured
	Note         string
}

// IngestResult is the benchmark's outcome.
type IngestResult struct {
	Events, Partitions int
	AvgEventBytes      float64
	ProduceSeconds     float64
	Ceiling            Measurement
	Trackwatch         Measurement
	// ServerSide is ClickHouse copying trackwatch's stored rows into fresh tables of
	// the same schema (INSERT ... SELECT, blocks of BlockRows): what the server accepts
	// into these tables with no client at all.
	ServerSide  Measurement
	KafkaEngine *Measurement
	// Latency is produce -> queryable under steady load at half trackwatch's rate.
	Latency *Latency
}

// Latency is how long events took from being produced to being stored (queryable),
// under a steady load.
type Latency struct {
	Rate, Events  int // events/s offered, events measured
	P50, P99, Max time.Duration
}

// latency starts a trackwatch ingest process, produces tracking events at rate per
// second for LatencySeconds, each stamped with the moment it is produced as its
// occurred_at, waits until all are stored, and reads the distribution of ingested_at
// (set by the server when the block is inserted) minus occurred_at: produce -> queryable.
func latency(ctx context.Context, conn driver.Conn, chAddr, broker, dir string, rate int, o IngestOptions) (*Latency, error) {
	const db, group, topic = "bench_latency", "bench-latency", "bench-latency-tracking"
	if err := migrate(ctx, conn, db); err != nil {
		return nil, err
	}
	if err := createTopic(ctx, broker, topic, o.Partitions); err != nil {
		return nil, err
	}
	cfgFile := filepath.Join(dir, "bench-latency.yaml")
	if err := os.WriteFile(cfgFile, nil, 0o644); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, o.Trackwatch, "ingest", "--no-http", "--config", cfgFile,
		"--set", "kafka.brokers="+broker, "--set", "clickhouse.addr="+chAddr, "--set", "clickhouse.database="+db,
		"--set", "kafka.group_id="+group, "--set", "kafka.tracking_topic="+topic, "--set", "kafka.order_topic="+topic+"-orders",
		"--set", "log.level=warn", "--set", "ingest.max_batch_rows="+strconv.Itoa(o.BlockRows))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := createTopic(ctx, broker, topic+"-orders", o.Partitions); err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	time.Sleep(3 * time.Second) // let it join its group before the clock starts
	w := &kafka.Writer{Addr: kafka.TCP(broker), Topic: topic, Balancer: &kafka.Hash{}, BatchSize: 1000,
		BatchTimeout: 5 * time.Millisecond, RequiredAcks: kafka.RequireOne}
	defer w.Close()
	const tick = 20 * time.Millisecond
	per := max(1, rate*int(tick)/int(time.Second))
	total := 0
	t := time.NewTicker(tick)
	defer t.Stop()
	for end := time.Now().Add(time.Duration(o.LatencySeconds) * time.Second); time.Now().Before(end); {
		<-t.C
		msgs := make([]kafka.Message, per)
		now := time.Now().UTC().Format("2006-01-02T15:04:05.000Z07:00")
		for i := range msgs {
			tn := fmt.Sprintf("LT%09dCN", (total+i)%100000)
			msgs[i] = kafka.Message{Key: []byte(tn), Value: fmt.Appendf(nil,
				`{"event_id":"lat-%d","tracking_number":"%s","raw_status":"In transit","occurred_at":"%s"}`, total+i, tn, now)}
		}
		if err := w.WriteMessages(ctx, msgs...); err != nil {
			return nil, summarise(err)
		}
		total += per
	}
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		var n uint64
		if err := conn.QueryRow(ctx, statements.In(db, "count_tracking_events")).Scan(&n); err != nil {
			return nil, err
		}
		if int(n) >= total {
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%d of %d events stored after two minutes: %s", n, total, stderr.String())
		}
	}
	var q []float64
	var mx float64
	if err := conn.QueryRow(ctx, statements.In(db, "latency_quantiles")).Scan(&q, &mx); err != nil {
		return nil, err
	}
	ms := func(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }
	return &Latency{Rate: rate, Events: total, P50: ms(q[0]), P99: ms(q[1]), Max: ms(mx)}, nil
}

// createTopic creates a topic on the embedded broker.
func createTopic(ctx context.Context, broker, topic string, partitions int) error {
	c := &kafka.Client{Addr: kafka.TCP(broker)}
	resp, err := c.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{Topic: topic, NumPartitions: partitions, ReplicationFactor: 1}}})
	if err != nil {
		return err
	}
	for _, e := range resp.Errors {
		if e != nil {
			return e
		}
	}
	return nil
}

func (o *IngestOptions) defaults() {
	if o.LatencySeconds == 0 {
		o.LatencySeconds = 20
	}
	if o.Events == 0 {
		o.Events = 2_000_000
	}
	if o.Partitions == 0 {
		o.Partitions = 4
	}
	if o.BlockRows == 0 {
		o.BlockRows = 10_000
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Progress == nil {
		o.Progress = func(string) {}
	}
}

// Ingest loads the events into an embedded Kafka, then measures, in one run on one
// ClickHouse: the ceiling (clickhouse-go inserting the already-decoded rows), trackwatch's
// ingest as its own process (Kafka to ClickHouse, end to end, with its peak RSS), and
// ClickHouse's own Kafka engine consuming the same topics into the same tables.
func Ingest(ctx context.Context, o IngestOptions) (*IngestResult, error) {
	o.defaults()
	if o.Trackwatch == "" {
		return nil, errors.New("no trackwatch binary to run as the ingest process (IngestOptions.Trackwatch)")
	}
	dir, err := os.MkdirTemp("", "trackwatch-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)

	o.Progress(fmt.Sprintf("generating %d events", o.Events))
	load, err := generateFor(o)
	if err != nil {
		return nil, err
	}
	res := &IngestResult{Events: o.Events, Partitions: o.Partitions, AvgEventBytes: float64(load.Bytes) / float64(o.Events)}

	ch, err := startClickHouse(ctx, o.ClickHouse, dir, o.Logger)
	if err != nil {
		return nil, err
	}
	defer ch.Close()
	k, err := devstack.StartKafka(devstack.KafkaConfig{Listen: "127.0.0.1:0", Partitions: o.Partitions, Memory: true},
		[]string{schemas.TrackingTopic, schemas.OrderTopic}, o.Logger)
	if err != nil {
		return nil, err
	}
	defer k.Close()
	conn, err := store.Open(ctx, store.Config{Username: "default", DialTimeout: 10 * time.Second, MaxOpenConns: 16}, ch.Addr())
	if err != nil {
		return nil, err
	}
	defer conn.Close()

	o.Progress("producing to the embedded Kafka")
	start := time.Now()
	if err := produce(ctx, k.Addr(), schemas.TrackingTopic, load.Tracking); err != nil {
		return nil, err
	}
	if err := produce(ctx, k.Addr(), schemas.OrderTopic, load.Orders); err != nil {
		return nil, err
	}
	res.ProduceSeconds = time.Since(start).Seconds()

	o.Progress("ceiling: clickhouse-go inserting the decoded rows")
	if res.Ceiling, err = ceiling(ctx, conn, load, o); err != nil {
		return nil, fmt.Errorf("ceiling: %w", err)
	}
	o.Progress("trackwatch: ingest process, Kafka to ClickHouse")
	if res.Trackwatch, err = trackwatchRun(ctx, conn, load, ch.Addr(), k.Addr(), dir, o); err != nil {
		return nil, fmt.Errorf("trackwatch: %w", err)
	}
	o.Progress("server side: INSERT ... SELECT of the stored rows into the same tables")
	if res.ServerSide, err = serverSide(ctx, conn, o); err != nil {
		return nil, fmt.Errorf("server side: %w", err)
	}
	if o.LatencySeconds >= 0 {
		rate := int(res.Trackwatch.EventsPerSec / 2)
		o.Progress(fmt.Sprintf("latency: %d events/s for %ds (half the measured rate) into a running trackwatch ingest", rate, o.LatencySeconds))
		if res.Latency, err = latency(ctx, conn, ch.Addr(), k.Addr(), dir, rate, o); err != nil {
			return nil, fmt.Errorf("latency: %w", err)
		}
	}
	if !o.SkipKafkaEngine {
		o.Progress("reference: ClickHouse Kafka engine + materialized view")
		m, err := kafkaEngine(ctx, conn, load, k.Addr(), o)
		if err != nil {
			return nil, fmt.Errorf("kafka engine: %w", err)
		}
		res.KafkaEngine = &m
	}
	return res, nil
}

func produce(ctx context.Context, broker, topic string, msgs []kafka.Message) error {
	w := &kafka.Writer{Addr: kafka.TCP(broker), Topic: topic, Balancer: &kafka.Hash{}, BatchSize: 3000,
		BatchBytes: 1 << 20, BatchTimeout: 10 * time.Millisecond, RequiredAcks: kafka.RequireOne}
	defer w.Close()
	for i := 0; i < len(msgs); i += 50_000 {
		if err := w.WriteMessages(ctx, msgs[i:min(i+50_000, len(msgs))]...); err != nil {
			return fmt.Errorf("produce to %s: %w", topic, summarise(err))
		}
	}
	return nil
}

// startClickHouse starts an embedded server with data under dir, on free ports.
func startClickHouse(ctx context.Context, cfg devstack.ClickHouseConfig, dir string, logger *slog.Logger) (*devstack.ClickHouse, error) {
	cfg.DataDir = filepath.Join(dir, "clickhouse")
	cfg.TCPPort, cfg.HTTPPort = 0, 0
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var err error
	if cfg.TCPPort, err = devstack.FreePort("127.0.0.1"); err != nil {
		return nil, err
	}
	cfg.HTTPPort = 0
	for cfg.HTTPPort == 0 || cfg.HTTPPort == cfg.TCPPort { // the same free port may come twice
		if cfg.HTTPPort, err = devstack.FreePort("127.0.0.1"); err != nil {
			return nil, err
		}
	}
	return devstack.StartClickHouse(ctx, cfg, logger)
}

// summarise turns kafka-go's one-error-per-message WriteErrors into a count and the
// first cause, which is what a person can read.
func summarise(err error) error {
	var we kafka.WriteErrors
	if !errors.As(err, &we) {
		return err
	}
	for _, e := range we {
		if e != nil {
			return fmt.Errorf("%d of %d messages failed, first: %w", we.Count(), len(we), e)
		}
	}
	return err
}

// freshDatabase starts an embedded ClickHouse with its data in a new temp dir named
// after prefix, connects with up to maxConns connections and migrates db into it.
// closeAll closes the connection, stops the server and removes the dir.
func freshDatabase(ctx context.Context, cfg devstack.ClickHouseConfig, logger *slog.Logger, prefix, db string, maxConns int) (*devstack.ClickHouse, driver.Conn, func(), error) {
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return nil, nil, nil, err
	}
	ch, err := startClickHouse(ctx, cfg, dir, logger)
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, nil, err
	}
	closeServer := func() { ch.Close(); os.RemoveAll(dir) }
	conn, err := store.Open(ctx, store.Config{Username: "default", DialTimeout: 10 * time.Second, MaxOpenConns: maxConns}, ch.Addr())
	if err != nil {
		closeServer()
		return nil, nil, nil, err
	}
	if err := migrate(ctx, conn, db); err != nil {
		conn.Close()
		closeServer()
		return nil, nil, nil, err
	}
	return ch, conn, func() { conn.Close(); closeServer() }, nil
}

func migrate(ctx context.Context, conn driver.Conn, db string) error {
	_, err := schemas.Migrate(ctx, conn, schemas.DDLOptions{Database: db}, time.Now)
	return err
}

// ceiling decodes every event outside the clock, then times clickhouse-go inserting the
// rows in blocks of BlockRows from Partitions goroutines: no Kafka, no JSON.
func ceiling(ctx context.Context, conn driver.Conn, load *Load, o IngestOptions) (Measurement, error) {
	if err := migrate(ctx, conn, "bench_ceiling"); err != nil {
		return Measurement{}, err
	}
	tracking := make([]ingest.TrackingRow, 0, len(load.Tracking))
	for _, m := range load.Tracking {
		r, rej := ingest.DecodeTracking(m.Value)
		if rej != nil {
			return Measurement{}, rej
		}
		tracking = append(tracking, r)
	}
	orders := make([]ingest.OrderRow, 0, len(load.Orders))
	for _, m := range load.Orders {
		r, rej := ingest.DecodeOrder(m.Value)
		if rej != nil {
			return Measurement{}, rej
		}
		orders = append(orders, r)
	}
	type job struct {
		first  int
		orders bool
	}
	jobs := make(chan job)
	errs := make(chan error, o.Partitions)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range o.Partitions {
		wg.Go(func() {
			for j := range jobs {
				var err error
				token := fmt.Sprintf("ceiling:%d:%v:%d", w, j.orders, j.first)
				if j.orders {
					err = ingest.InsertOrders(ctx, conn, "bench_ceiling", orders[j.first:min(j.first+o.BlockRows, len(orders))], "orders", 0, int64(j.first), token)
				} else {
					err = ingest.InsertTracking(ctx, conn, "bench_ceiling", tracking[j.first:min(j.first+o.BlockRows, len(tracking))], "tracking", 0, int64(j.first), token)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for i := 0; i < len(tracking); i += o.BlockRows {
		jobs <- job{first: i}
	}
	for i := 0; i < len(orders); i += o.BlockRows {
		jobs <- job{first: i, orders: true}
	}
	close(jobs)
	wg.Wait()
	secs := time.Since(start).Seconds()
	select {
	case err := <-errs:
		return Measurement{}, err
	default:
	}
	if err := expectRows(ctx, conn, "bench_ceiling", len(tracking), len(orders)); err != nil {
		return Measurement{}, err
	}
	return Measurement{Name: "ceiling: clickhouse-go, decoded rows", Events: o.Events, Seconds: secs,
		EventsPerSec: float64(o.Events) / secs, Note: fmt.Sprintf("%d goroutines, %d-row blocks, no Kafka, no JSON", o.Partitions, o.BlockRows)}, nil
}

// trackwatchRun starts `trackwatch ingest` as its own process and times it from start to
// the moment its consumer group has committed every message (it commits only after
// inserting), sampling its peak RSS (VmHWM) at the end.
func trackwatchRun(ctx context.Context, conn driver.Conn, load *Load, chAddr, broker, dir string, o IngestOptions) (Measurement, error) {
	const db, group = "bench_trackwatch", "bench-trackwatch"
	if err := migrate(ctx, conn, db); err != nil {
		return Measurement{}, err
	}
	cfgFile := filepath.Join(dir, "bench-trackwatch.yaml")
	if err := os.WriteFile(cfgFile, nil, 0o644); err != nil {
		return Measurement{}, err
	}
	cmd := exec.CommandContext(ctx, o.Trackwatch, "ingest", "--no-http", "--config", cfgFile,
		"--set", "kafka.brokers="+broker, "--set", "clickhouse.addr="+chAddr, "--set", "clickhouse.database="+db,
		"--set", "kafka.group_id="+group, "--set", "log.level=warn",
		"--set", "ingest.max_batch_rows="+strconv.Itoa(o.BlockRows))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return Measurement{}, err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	var kc kafkaclient.Config
	_ = kc.Validate()
	var peak float64
	for {
		if rss := peakRSSMiB(cmd.Process.Pid); rss > peak {
			peak = rss
		}
		lag, err := kafkaclient.GroupLag(ctx, kc, []string{broker}, group, schemas.TrackingTopic, schemas.OrderTopic)
		if err == nil && lag == 0 {
			break
		}
		if cmd.ProcessState != nil || processGone(cmd.Process.Pid) {
			return Measurement{}, fmt.Errorf("trackwatch ingest exited early: %s", stderr.String())
		}
		if time.Since(start) > 30*time.Minute {
			return Measurement{}, fmt.Errorf("trackwatch ingest did not finish in 30 minutes (lag %d): %s", lag, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	secs := time.Since(start).Seconds()
	if rss := peakRSSMiB(cmd.Process.Pid); rss > peak {
		peak = rss
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	_ = cmd.Wait()
	if err := expectRows(ctx, conn, db, len(load.Tracking), len(load.Orders)); err != nil {
		return Measurement{}, err
	}
	return Measurement{Name: "trackwatch ingest (process)", Events: o.Events, Seconds: secs, EventsPerSec: float64(o.Events) / secs,
		PeakRSSMiB: peak, Note: fmt.Sprintf("consumer group, %d partitions x 2 topics, exactly-once effect, from process start", o.Partitions)}, nil
}

// serverSide copies the rows trackwatch stored into a fresh database of the same schema
// inside ClickHouse, in blocks of BlockRows, and times it.
func serverSide(ctx context.Context, conn driver.Conn, o IngestOptions) (Measurement, error) {
	const db = "bench_server"
	if err := migrate(ctx, conn, db); err != nil {
		return Measurement{}, err
	}
	sctx := clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{
		"max_block_size": o.BlockRows, "max_insert_block_size": o.BlockRows, "min_insert_block_size_rows": o.BlockRows,
		"min_insert_block_size_bytes": 0, "max_insert_threads": 2,
	}))
	start := time.Now()
	var rows uint64
	for _, t := range []sqlfile.Ident{"tracking_events", "order_events"} {
		data := sqlfile.DB(db).With("Table", t)
		if err := conn.Exec(sctx, statements.Text("copy_table", data.With("From", sqlfile.Ident("bench_trackwatch")))); err != nil {
			return Measurement{}, err
		}
		var n uint64
		if err := conn.QueryRow(ctx, statements.Text("count_rows", data)).Scan(&n); err != nil {
			return Measurement{}, err
		}
		rows += n
	}
	secs := time.Since(start).Seconds()
	return Measurement{Name: "ClickHouse INSERT ... SELECT (server side)", Events: int(rows), Seconds: secs, EventsPerSec: float64(rows) / secs,
		Note: fmt.Sprintf("trackwatch's stored rows copied into fresh tables of the same schema, blocks of %d rows: what the server accepts with no client", o.BlockRows)}, nil
}

// kafkaEngine creates Kafka engine tables and materialized views into the same table
// shapes and times them until every event is stored.
func kafkaEngine(ctx context.Context, conn driver.Conn, load *Load, broker string, o IngestOptions) (Measurement, error) {
	const db = "bench_kafka_engine"
	if err := migrate(ctx, conn, db); err != nil {
		return Measurement{}, err
	}
	consumers := min(o.Partitions, runtime.NumCPU())
	args := []any{clickhouse.Named("brokers", broker), clickhouse.Named("consumers", uint32(consumers)),
		clickhouse.Named("tracking_topic", schemas.TrackingTopic), clickhouse.Named("tracking_group", "bench-kafka-engine-tracking"),
		clickhouse.Named("order_topic", schemas.OrderTopic), clickhouse.Named("order_group", "bench-kafka-engine-orders")}
	kafkaTables := []string{"kafka_tracking", "kafka_orders", "kafka_tracking_mv", "kafka_orders_mv"}
	start := time.Now()
	for _, name := range kafkaTables {
		stmt := statements.In(db, name)
		if err := conn.Exec(ctx, stmt, args...); err != nil {
			return Measurement{}, fmt.Errorf("%w\n%s", err, stmt)
		}
	}
	for {
		var rows uint64
		if err := conn.QueryRow(ctx, statements.In(db, "count_all_events")).Scan(&rows); err != nil {
			return Measurement{}, err
		}
		if rows >= uint64(o.Events) {
			break
		}
		if time.Since(start) > 30*time.Minute {
			return Measurement{}, fmt.Errorf("kafka engine stored %d of %d rows in 30 minutes", rows, o.Events)
		}
		time.Sleep(50 * time.Millisecond)
	}
	secs := time.Since(start).Seconds()
	if err := expectRows(ctx, conn, db, len(load.Tracking), len(load.Orders)); err != nil {
		return Measurement{}, err
	}
	for _, t := range []sqlfile.Ident{"kafka_tracking_mv", "kafka_orders_mv", "kafka_tracking", "kafka_orders"} {
		_ = conn.Exec(ctx, statements.Text("drop_table", sqlfile.DB(db).With("Table", t)))
	}
	return Measurement{Name: "ClickHouse Kafka engine + MV", Events: o.Events, Seconds: secs, EventsPerSec: float64(o.Events) / secs,
		Note: fmt.Sprintf("JSONAsString, %d consumers per topic, parsing in SQL, from CREATE", consumers)}, nil
}

func expectRows(ctx context.Context, conn driver.Conn, db string, tracking, orders int) error {
	var t, o uint64
	if err := conn.QueryRow(ctx, statements.In(db, "count_events")).Scan(&t, &o); err != nil {
		return err
	}
	if int(t) != tracking || int(o) != orders {
		return fmt.Errorf("%s holds %d tracking and %d order rows, want %d and %d", db, t, o, tracking, orders)
	}
	return nil
}

// peakRSSMiB reads a process's peak resident set size (VmHWM) from /proc.
func peakRSSMiB(pid int) float64 {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb / 1024
		}
	}
	return 0
}

func processGone(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && len(s) > i+2 && s[i+2] == 'Z'
}
