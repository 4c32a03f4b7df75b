package bench

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/trackwatch/trackwatch/alert"
	"github.com/trackwatch/trackwatch/detect"
	"github.com/trackwatch/trackwatch/devstack"
	"github.com/trackwatch/trackwatch/rebuild"
	"github.com/trackwatch/trackwatch/sqlfile"
	"github.com/trackwatch/trackwatch/store"
	"github.com/trackwatch/trackwatch/trackingnumber"
)

// DetectOptions configure the detector benchmark. The zero value is usable.
type DetectOptions struct {
	Scales     []int // tracking events per scale; default 1,000,000 and 10,000,000
	Repeat     int   // runs per detector, the median reported; default 3
	SkipSingle bool  // leave out the runs of one detector each (at 100M they take long)
	Journeys   bool  // give some orders a buyer's journey (payments, cancellation requests, disputes, refunds)
	ClickHouse devstack.ClickHouseConfig
	Logger     *slog.Logger
	Progress   func(string)
}

// DetectorTiming is one detector's run at one scale.
type DetectorTiming struct {
	Name    string
	Seconds float64 // median of the runs of this detector alone: evaluate and record alerts, in ClickHouse
	Firing  int
	Peak    PeakRSS // during those runs
}

// PeakRSS is the peak resident memory of both sides during a measurement: the kernel's
// high-water mark (VmHWM), reset before it, after ClickHouse returned the memory its
// allocator kept (SYSTEM JEMALLOC PURGE). ClickHouse's includes its caches.
type PeakRSS struct {
	ServerMiB float64 // the ClickHouse server process
	BenchMiB  float64 // this process (trackwatch's side)
}

// StageTiming is one stage of a run (detect.Set.OnStage), the median over the runs.
type StageTiming struct {
	Stage   string
	Seconds float64
}

// DetectScale is the result at one data size.
type DetectScale struct {
	Events, Orders int
	LoadSeconds    float64
	// NumberCheckSeconds is judging every stored number and carrier pair once
	// (rebuild.Numbers, what a service does at its first start over existing data;
	// ingest judges each order event's number as it stores it): NumberPairs of them.
	NumberCheckSeconds float64
	NumberPairs        int
	Detectors          []DetectorTiming
	AllSeconds         float64        // all detectors in one run, as one cron tick runs them: median of the runs after the first
	AllFirstSeconds    float64        // the first of those runs, with no alert recorded before (every alert new)
	AllFirstPeak       PeakRSS        // during it (AllPeak: during the later ones)
	AllFiring          map[string]int // per detector, from that run
	AllStages          []StageTiming  // where that run's time went (medians)
	AllPeak            PeakRSS        // during the runs of all detectors
	// The same run summarising every event instead of reading the summaries kept at insert
	// (detect.from_events, the path before them): the baseline, measured in the same run.
	EventsSeconds float64
	EventsStages  []StageTiming
	EventsPeak    PeakRSS
	// Scheduled runs as the schedule makes them (detect.Set.Evaluate, Scheduled): one over
	// every order (the first, and one a day), then runs 5 minutes apart with the data's
	// own traffic stored meanwhile (its held events occurring in those minutes; median),
	// then one after a minute of ingest at IngestRate events a second on top of it; each
	// scoped to what can have changed since the previous one.
	Scheduled ScheduledRuns
}

// ScheduledRuns are the scheduled runs of a scale.
type ScheduledRuns struct {
	FullSeconds   float64
	FullPeak      PeakRSS
	IdleSeconds   float64       // median
	IdleEvents    int           // carrier events stored before the last of them: the data's own, occurring in its 5 minutes
	IdleOrders    int           // orders evaluated by the last of them
	IdleStages    []StageTiming // the median of each stage over them
	FullStages    []StageTiming
	IdlePeak      PeakRSS
	IngestRate    int // tracking events a second; a tenth as many order events
	IngestEvents  int // tracking and order events stored in the minute (the data's own included)
	IngestSeconds float64
	IngestOrders  int
	IngestStages  []StageTiming
	IngestPeak    PeakRSS
}

// asOfBench is the moment the generated data is evaluated at.
var asOfBench = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

// Detect loads each scale into a fresh embedded ClickHouse with SQL (no Kafka: ingest is
// measured by Ingest) and times every detector in a run of its own (the baseline: what
// one schedule per detector costs), then all detectors in one run (what one schedule costs).
func Detect(ctx context.Context, o DetectOptions) ([]DetectScale, error) {
	if len(o.Scales) == 0 {
		o.Scales = []int{1_000_000, 10_000_000}
	}
	if o.Repeat == 0 {
		o.Repeat = 3
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Progress == nil {
		o.Progress = func(string) {}
	}
	var out []DetectScale
	for _, events := range o.Scales {
		s, err := detectScale(ctx, o, events)
		if err != nil {
			return out, fmt.Errorf("%d events: %w", events, err)
		}
		out = append(out, *s)
	}
	return out, nil
}

func detectScale(ctx context.Context, o DetectOptions, events int) (*DetectScale, error) {
	const db = "bench_detect"
	ch, conn, closeAll, err := freshDatabase(ctx, o.ClickHouse, o.Logger, "trackwatch-bench-detect-", db, 16)
	if err != nil {
		return nil, err
	}
	defer closeAll()
	parcels := events / 10
	o.Progress(fmt.Sprintf("loading %d tracking events for %d orders", events, parcels))
	start := time.Now()
	if err := loadDetectData(ctx, conn, db, parcels, true); err != nil {
		return nil, err
	}
	if o.Journeys {
		if err := conn.Exec(ctx, statements.In(db, "generate_journeys"), clickhouse.Named("as_of", asOfBench),
			clickhouse.Named("from", uint64(0)), clickhouse.Named("count", uint64(parcels))); err != nil {
			return nil, fmt.Errorf("generate journeys: %w", err)
		}
	}
	res := &DetectScale{Events: events, Orders: parcels, LoadSeconds: time.Since(start).Seconds()}
	start = time.Now()
	if res.NumberPairs, err = judgeNumbers(ctx, conn, db); err != nil {
		return nil, err
	}
	res.NumberCheckSeconds = time.Since(start).Seconds()
	if err := waitMerges(ctx, conn, db); err != nil {
		return nil, err
	}
	var loaded uint64
	if err := conn.QueryRow(ctx, statements.In(db, "count_tracking_events")).Scan(&loaded); err != nil {
		return nil, err
	}
	res.Events = int(loaded)

	session, err := store.OpenSession(ctx, store.Config{Username: "default", DialTimeout: 10 * time.Second}, ch.Addr())
	if err != nil {
		return nil, err
	}
	defer session.Close()
	var dcfg detect.Config
	alerts := alert.NewStore(conn, db)
	var first float64     // the first of the latest timed runs
	var firstPeak PeakRSS // during it
	timed := func(set *detect.Set, dcfg detect.Config) (float64, map[string]int, PeakRSS, error) {
		startPeak(ctx, conn, ch, o.Logger)
		var runs []float64
		var firing map[string]int
		for range o.Repeat {
			t := time.Now()
			r, err := alerts.RecordAt(ctx, session, set, dcfg, asOfBench)
			if err != nil {
				return 0, nil, PeakRSS{}, err
			}
			runs = append(runs, time.Since(t).Seconds())
			firing = r.Firing
			if len(runs) == 1 && o.Repeat > 1 { // the later runs' peak apart from the first's
				firstPeak = readPeak(ch)
				startPeak(ctx, conn, ch, o.Logger)
			}
		}
		first = runs[0]
		if len(runs) > 1 { // the first run records every alert; the later ones find nothing changed
			runs = runs[1:]
		}
		return median(runs), firing, readPeak(ch), nil
	}
	for _, name := range detect.Names {
		if o.SkipSingle {
			break
		}
		o.Progress(fmt.Sprintf("%d events: %s alone", events, name))
		set, err := detect.NewSet(db, name)
		if err != nil {
			return nil, err
		}
		secs, firing, peak, err := timed(set, dcfg)
		if err != nil {
			return nil, err
		}
		res.Detectors = append(res.Detectors, DetectorTiming{Name: name, Seconds: secs, Firing: firing[name], Peak: peak})
	}
	o.Progress(fmt.Sprintf("%d events: all detectors in one run", events))
	all, err := detect.NewSet(db)
	if err != nil {
		return nil, err
	}
	// Start from no alerts, so the first run records every alert as new.
	for _, t := range []sqlfile.Ident{"alerts", "alert_changes", "alert_runs"} {
		if err := conn.Exec(ctx, statements.Text("truncate_table", sqlfile.DB(db).With("Table", t))); err != nil {
			return nil, err
		}
	}
	withStages := func(into *[]StageTiming, run func() error) error {
		stages := map[string][]float64{}
		var order []string
		n := 0
		all.OnStage = func(stage string, d time.Duration) {
			if !slices.Contains(order, stage) {
				order = append(order, stage)
			}
			if stage == "order state" {
				n++
			}
			if n > 1 || o.Repeat == 1 { // the runs after the first
				stages[stage] = append(stages[stage], d.Seconds())
			}
		}
		defer func() { all.OnStage = nil }()
		if err := run(); err != nil {
			return err
		}
		for _, st := range order {
			if len(stages[st]) > 0 {
				*into = append(*into, StageTiming{st, median(stages[st])})
			}
		}
		return nil
	}
	if err := withStages(&res.AllStages, func() (err error) {
		res.AllSeconds, res.AllFiring, res.AllPeak, err = timed(all, dcfg)
		res.AllFirstSeconds, res.AllFirstPeak = first, firstPeak
		return err
	}); err != nil {
		return nil, err
	}
	o.Progress(fmt.Sprintf("%d events: all detectors in one run, summarising every event (the baseline)", events))
	var eventsFiring map[string]int
	if err := withStages(&res.EventsStages, func() (err error) {
		res.EventsSeconds, eventsFiring, res.EventsPeak, err = timed(all, detect.Config{FromEvents: true})
		return err
	}); err != nil {
		return nil, err
	}
	o.Progress(fmt.Sprintf("%d events: scheduled runs (over every order, then over what changed)", events))
	if res.Scheduled, err = scheduledRuns(ctx, o, ch, conn, session, db, parcels); err != nil {
		return nil, err
	}
	for d, n := range res.AllFiring {
		if eventsFiring[d] != n {
			return nil, fmt.Errorf("%s: %d firing over the summaries, %d over the events", d, n, eventsFiring[d])
		}
	}
	for _, d := range res.Detectors { // one run must find what the detectors find alone
		if res.AllFiring[d.Name] != d.Firing {
			return nil, fmt.Errorf("%s: %d firing alone, %d in the run of all detectors", d.Name, d.Firing, res.AllFiring[d.Name])
		}
	}
	return res, nil
}

// scheduledRuns measures the schedule's runs on a scale's data, whose alerts are
// recorded as of asOfBench already: one over every order as of it, runs 5 minutes apart
// after it with the data's own events of those minutes stored meanwhile, and one after a
// minute of ingest. It fails when the last finds other counts of alerts firing than a
// run over every order as of the same moment.
func scheduledRuns(ctx context.Context, o DetectOptions, ch *devstack.ClickHouse, conn, session driver.Conn, db string, parcels int) (ScheduledRuns, error) {
	var res ScheduledRuns
	all, err := detect.NewSet(db)
	if err != nil {
		return res, err
	}
	alerts := alert.NewStore(conn, db)
	// The data is inserted by statements that have returned before a run starts: no
	// margin is needed for inserts still in flight (detect.Config.ChangeMargin).
	cfg := detect.Config{ChangeMargin: -1}
	stages := map[string]float64{}
	var order []string
	all.OnStage = func(stage string, d time.Duration) {
		if _, ok := stages[stage]; !ok {
			order = append(order, stage)
		}
		stages[stage] += d.Seconds()
	}
	defer func() { all.OnStage = nil }()
	staged := func() []StageTiming { // the stages since the last call
		var out []StageTiming
		for _, st := range order {
			out = append(out, StageTiming{st, stages[st]})
		}
		clear(stages)
		order = order[:0]
		return out
	}
	run := func(cfg detect.Config, at time.Time) (float64, int, map[string]int, error) {
		t := time.Now()
		var rec alert.Result
		ev, err := all.Evaluate(ctx, session, cfg, at, detect.Scheduled, alerts.Consumer(&rec))
		if err != nil {
			return 0, 0, nil, err
		}
		n := ev.Orders
		if !ev.Scoped {
			n = -1
		}
		return time.Since(t).Seconds(), n, rec.Firing, nil
	}
	peak := func() PeakRSS { return readPeak(ch) }
	reset := func() { startPeak(ctx, conn, ch, o.Logger) }
	reset()
	if res.FullSeconds, _, _, err = run(cfg, asOfBench); err != nil {
		return res, err
	}
	res.FullPeak, res.FullStages = peak(), staged()
	reset()
	at := asOfBench
	var idle []float64
	idleStages := map[string][]float64{}
	var idleOrder []string
	for range max(o.Repeat, 1) {
		// The data's own traffic in those 5 minutes: its carrier events occurring in them.
		n, err := DeliverHeld(ctx, conn, db, at, at.Add(5*time.Minute))
		if err != nil {
			return res, err
		}
		res.IdleEvents = n
		at = at.Add(5 * time.Minute)
		secs, n, _, err := run(cfg, at)
		if err != nil {
			return res, err
		}
		if n < 0 {
			return res, fmt.Errorf("a scheduled run 5 minutes after the previous one evaluated every order")
		}
		idle = append(idle, secs)
		res.IdleOrders = n
		for _, st := range staged() {
			if _, ok := idleStages[st.Stage]; !ok {
				idleOrder = append(idleOrder, st.Stage)
			}
			idleStages[st.Stage] = append(idleStages[st.Stage], st.Seconds)
		}
	}
	for _, st := range idleOrder {
		res.IdleStages = append(res.IdleStages, StageTiming{st, median(idleStages[st])})
	}
	res.IdleSeconds, res.IdlePeak = median(idle), peak()

	// A minute of ingest: new scans for parcels spread over the data, and a tenth as many
	// order events (buyers confirming receipt), occurring in the minute after the last run.
	res.IngestRate = 1000
	scans, confirms := 60*res.IngestRate, 6*res.IngestRate
	args := []any{clickhouse.Named("from", at), clickhouse.Named("parcels", uint64(parcels)),
		clickhouse.Named("scans", uint64(scans)), clickhouse.Named("confirms", uint64(confirms))}
	for _, name := range []string{"ingest_minute_scans", "ingest_minute_confirms"} {
		if err := conn.Exec(ctx, statements.In(db, name), args...); err != nil {
			return res, fmt.Errorf("a minute of ingest: %w", err)
		}
	}
	own, err := DeliverHeld(ctx, conn, db, at, at.Add(time.Minute)) // and the data's own traffic of the minute
	if err != nil {
		return res, err
	}
	res.IngestEvents = scans + confirms + own
	at = at.Add(time.Minute)
	reset()
	staged()
	secs, n, firing, err := run(cfg, at)
	if err != nil {
		return res, err
	}
	if n < 0 {
		return res, fmt.Errorf("the scheduled run after a minute of ingest evaluated every order")
	}
	res.IngestSeconds, res.IngestOrders, res.IngestPeak, res.IngestStages = secs, n, peak(), staged()
	_, _, want, err := run(detect.Config{AlwaysFull: true}, at)
	if err != nil {
		return res, err
	}
	for _, d := range detect.Names {
		if firing[d] != want[d] {
			return res, fmt.Errorf("%s: %d alerts firing after the scoped run, %d after a run over every order as of the same moment", d, firing[d], want[d])
		}
	}
	return res, nil
}

// waitMerges lets the server finish merging what a load wrote to db, so that no
// measurement shares the machine with them (a running system has merged most of its
// history); it gives up waiting after 10 minutes.
func waitMerges(ctx context.Context, conn driver.Conn, db string) error {
	for deadline := time.Now().Add(10 * time.Minute); time.Now().Before(deadline); time.Sleep(time.Second) {
		var merging uint64
		if err := conn.QueryRow(ctx, statements.In(db, "merges_running"), clickhouse.Named("db", db)).Scan(&merging); err != nil {
			return err
		}
		if merging == 0 {
			break
		}
	}
	return nil
}

// startPeak starts a measurement of peak memory: ClickHouse returns the memory its
// allocator kept from earlier work to the system, and both processes' high-water marks
// are reset, so that readPeak then reads this measurement's.
func startPeak(ctx context.Context, conn driver.Conn, ch *devstack.ClickHouse, log *slog.Logger) {
	if err := conn.Exec(ctx, statements.Text("jemalloc_purge", nil)); err != nil {
		log.Warn("jemalloc purge failed: the peak includes memory kept from earlier runs", "err", err)
	}
	resetPeakRSS(ch.Pid())
	resetPeakRSS(os.Getpid())
}

// readPeak reads both processes' peak memory since startPeak.
func readPeak(ch *devstack.ClickHouse) PeakRSS {
	return PeakRSS{peakRSSMiB(ch.Pid()), peakRSSMiB(os.Getpid())}
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}

// heldEvents is the table of the generated carrier events that occur after asOfBench
// (parcels shipped in the last six days have some), when loadDetectData holds them back:
// a running system has not stored events of the future. DeliverHeld stores them as
// their moments come.
const heldEvents = sqlfile.Ident("bench_held_events")

// loadDetectData generates orders and their carrier events inside ClickHouse. Parcel p
// has about ten events; known fractions carry each detector's condition: every 20th
// stalls at "information received", every 25th has no events, every 40th was scanned a
// month before its order, every 30th goes to the wrong country, one in 300 has a bad
// check digit, and orders o and o+1 share a number when o % 50 = 1. With hold, the
// carrier events occurring after asOfBench go to heldEvents instead of tracking_events.
func loadDetectData(ctx context.Context, conn driver.Conn, db string, parcels int, hold bool) error {
	type load struct {
		q    string
		rows uint64 // of numbers()
	}
	tracking := func(table sqlfile.Ident, part string) string {
		return statements.Text("generate_tracking", sqlfile.DB(db).With("Table", table).With("Part", part))
	}
	loads := []load{{statements.In(db, "generate_orders"), uint64(2 * parcels)}, {tracking("tracking_events", ""), uint64(10 * parcels)}}
	if hold {
		if err := conn.Exec(ctx, statements.Text("create_held_events", sqlfile.DB(db).With("Held", heldEvents))); err != nil {
			return fmt.Errorf("generate: %w", err)
		}
		loads[1].q = tracking("tracking_events", "stored")
		loads = append(loads, load{tracking(heldEvents, "held"), uint64(10 * parcels)})
	}
	// In statements of at most 10M rows each: one statement of 100M rows (and the
	// summaries' views) ran past the driver's 5-minute read timeout.
	const chunk = 10_000_000
	for _, g := range loads {
		for from := uint64(0); from < g.rows; from += chunk {
			args := []any{clickhouse.Named("as_of", asOfBench), clickhouse.Named("from", from), clickhouse.Named("count", min(uint64(chunk), g.rows-from))}
			if err := conn.Exec(ctx, g.q, args...); err != nil {
				return fmt.Errorf("generate: %w\n%s", err, strings.SplitN(g.q, "\n", 2)[0])
			}
		}
	}
	return nil
}

// judgeNumbers stores the verdicts on the generated orders' tracking numbers
// (number_checks), as ingest would have stored them with the orders: the data is
// generated in SQL, not ingested.
func judgeNumbers(ctx context.Context, conn driver.Conn, db string) (int, error) {
	c, err := trackingnumber.Load(trackingnumber.Config{})
	if err != nil {
		return 0, err
	}
	return rebuild.Numbers(ctx, conn, db, c)
}

// GenerateDetectData loads the detector benchmark's data (parcels orders, about ten
// carrier events each) into db, for profiling detectors by hand against a running server.
// With hold, the carrier events occurring after BenchAsOf are held back for DeliverHeld.
func GenerateDetectData(ctx context.Context, conn driver.Conn, db string, parcels int, hold bool) error {
	if err := migrate(ctx, conn, db); err != nil {
		return err
	}
	if err := loadDetectData(ctx, conn, db, parcels, hold); err != nil {
		return err
	}
	_, err := judgeNumbers(ctx, conn, db)
	return err
}

// DeliverHeld stores the held carrier events (heldEvents) occurring in (from, to] in
// tracking_events, as the ingest would have when they occurred, and returns how many.
func DeliverHeld(ctx context.Context, conn driver.Conn, db string, from, to time.Time) (int, error) {
	args := []any{clickhouse.Named("from", from), clickhouse.Named("to", to)}
	held := sqlfile.DB(db).With("Held", heldEvents)
	var n uint64
	if err := conn.QueryRow(ctx, statements.Text("count_held", held), args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("held events: %w", err)
	}
	if n > 0 {
		if err := conn.Exec(ctx, statements.Text("deliver_held", held), args...); err != nil {
			return 0, fmt.Errorf("deliver held events: %w", err)
		}
	}
	return int(n), nil
}

// BenchAsOf is the moment GenerateDetectData's data is meant to be evaluated at.
func BenchAsOf() time.Time { return asOfBench }

// resetPeakRSS resets a process's VmHWM to its current RSS (Linux: clear_refs 5), so
// that the next reading is the peak since now. Where that is not allowed the reading
// stays the peak since the process started, which only overstates.
func resetPeakRSS(pid int) {
	_ = os.WriteFile("/proc/"+strconv.Itoa(pid)+"/clear_refs", []byte("5"), 0)
}
