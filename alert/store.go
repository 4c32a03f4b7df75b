package alert

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/trackwatch/trackwatch/detect"
	"github.com/trackwatch/trackwatch/sqlfile"
)

// Store records detector runs as alerts and reads them back. It works in the database
// DB, reading with Conn (a pooled connection); Record works on the run's own connection,
// where the run's findings are.
type Store struct {
	Conn driver.Conn
	DB   string
	// WriteChunk bounds how many alerts a recording builds in full (texts, evidence,
	// timelines) at once; more are written in chunks of about this many, so that the
	// first run after a deploy (every alert new) holds one chunk in memory, not all of
	// them. Zero: DefaultWriteChunk.
	WriteChunk int
}

// DefaultWriteChunk is Store.WriteChunk's default: at 100M events a first run writes
// about 2M alerts, which built at once held 10 GiB in ClickHouse; in chunks of 100,000
// its recording peaks at 1.7 GiB (200,000: 2.3 GiB), in about the same time.
const DefaultWriteChunk = 100_000

// NewStore returns the store of database db.
func NewStore(conn driver.Conn, db string) *Store { return &Store{Conn: conn, DB: db} }

// Result is what a recorded run did.
type Result struct {
	AsOf time.Time
	// Firing counts, per detector of the run, the alerts that fire as of AsOf (every
	// detector of the run has an entry).
	Firing map[string]int
	// Changes are the alert changes the run made, in the change log, the first
	// MaxChangesRead of them in the order of detector and order; their Evidence and
	// Reason are left out here (the log has them). Counts has how many of each kind.
	Changes []Change
	Counts  map[ChangeKind]int
	// Behind names the detectors whose alerts were already recorded as of a later
	// moment, with that moment: for them the run changed nothing.
	Behind map[string]time.Time
}

// MaxChangesRead bounds Result.Changes: a first run over a large history fires every
// alert at once (about 2 million at 100M events), and reading them all into the process
// would take gigabytes for no use; notifications read the change log themselves.
const MaxChangesRead = 10_000

// Count returns how many of the run's changes are of kind k.
func (r Result) Count(k ChangeKind) int { return r.Counts[k] }

// Changed reports whether the run made any change.
func (r Result) Changed() bool {
	return r.Counts[ChangeFired]+r.Counts[ChangeRefired]+r.Counts[ChangeResolved] > 0
}

// Temporary tables of a recording, on the run's session (sql/record.sql), in the order
// they are dropped.
var recordTables = []string{"trackwatch_run_full", "trackwatch_run_chunk", "trackwatch_run_write",
	"trackwatch_run_changes", "trackwatch_run_prior", "trackwatch_run_findings"}

// step is one statement of a recording (sql/record.sql) and the stage it counts in.
type step struct{ stage, name string }

// The statements of a recording, in order: recordSteps, then chunkSteps for each chunk
// of the alerts to write, then tailSteps.
var (
	recordSteps = []step{{"findings", "findings"}, {"prior state", "prior_state"}, {"changes", "changes"},
		{"full findings", "write"}, {"change log", "log_resolved"}}
	// chunkSteps write the alerts of one chunk of the write table: their findings in
	// full, their fired and refired changes to the change log, then the alerts. A run
	// that dies between chunks has logged and written the chunks before: the next run
	// takes their changes as done (prior state) and makes the others as changes of its
	// own.
	chunkSteps = []step{{"full findings", "full_findings"}, {"change log", "log_fired"}, {"alerts", "write_firing"}}
	// tailSteps follow the chunks: the resolved alerts (logged before the chunks), and
	// the run's counts, the mark that the run is complete.
	tailSteps = []step{{"alerts", "write_resolved"}, {"alerts", "runs"}}
)

// CurrentAlertsSQL is a subquery of every alert's latest row (alerts FINAL), for
// readers: a firing alert was last detected by its detector's latest run, later than the
// run that last rewrote it when nothing it says has changed since.
func CurrentAlertsSQL(db string) string { return statements.In(db, "current_alerts") }

// Record writes a run's findings as alerts and reports the changes it made. Every
// finding fires (keeping the start of an alert's firing episode); every alert of the
// run's detectors that fired before and is not found now resolves as of the run's
// moment; a scoped scheduled run (detect.Findings.Scoped) changes the alerts of the
// orders it evaluated only. Each change goes to the change log before the alerts table,
// with an id that the same change computed again keeps.
//
// Rows are versioned by the run's moment: for a detector whose alerts were recorded as
// of a later moment already, the run changes nothing (Result.Behind names it). Several
// instances evaluating the same moment write the same rows and the same changes.
//
// Record is a detect.Consumer's work: Consumer makes one that keeps the result.
func (s *Store) Record(ctx context.Context, f *detect.Findings) (Result, error) {
	asOf := f.AsOf().UTC()
	db := f.Database() // on a cluster, the node's local database: each node records its own
	res := Result{AsOf: asOf, Firing: map[string]int{}, Behind: map[string]time.Time{}, Counts: map[ChangeKind]int{}}
	detectors := f.Detectors()
	for _, d := range detectors {
		res.Firing[d] = 0
	}
	var latest []struct {
		Detector string    `ch:"detector"`
		AsOf     time.Time `ch:"as_of"`
		Firing   uint64    `ch:"firing"`
	}
	if err := f.Select(ctx, "", &latest, statements.In(db, "latest_runs"), clickhouse.Named("detectors", detectors)); err != nil {
		return res, fmt.Errorf("record alerts: latest runs: %w", err)
	}
	since := map[string]int64{} // Unix milliseconds
	firing := map[string]uint64{}
	for _, l := range latest {
		since[l.Detector] = l.AsOf.UnixMilli()
		firing[l.Detector] = l.Firing
		if l.AsOf.After(asOf) {
			res.Behind[l.Detector] = l.AsOf.UTC()
		}
	}
	record := []string{}
	for _, d := range detectors {
		if _, behind := res.Behind[d]; !behind {
			record = append(record, d)
		}
	}
	args := []any{clickhouse.Named("record", record), clickhouse.Named("since", since)}
	data := f.Data(db)
	defer s.cleanup(f)
	for _, t := range recordTables {
		if err := f.Exec(ctx, "", statements.Text("drop_temporary", sqlfile.Data{"Table": t})); err != nil {
			return res, fmt.Errorf("record alerts: %w", err)
		}
	}
	exec := func(st step, args ...any) error {
		q, err := statements.Render(st.name, data)
		if err != nil {
			return err
		}
		if err := f.Exec(ctx, st.stage, q, args...); err != nil {
			return fmt.Errorf("record alerts: %s: %w", st.stage, err)
		}
		return nil
	}
	execAll := func(steps []step, args []any) error {
		for _, st := range steps {
			if err := exec(st, args...); err != nil {
				return err
			}
		}
		return nil
	}
	if len(record) == 0 {
		if err := exec(recordSteps[0], args...); err != nil { // only the findings, to count them
			return res, err
		}
		if !f.Scoped() {
			if err := s.countFiring(ctx, f, firing, args); err != nil {
				return res, err
			}
		}
	} else {
		if err := execAll(recordSteps, args); err != nil {
			return res, err
		}
		if err := s.writeChunks(ctx, f, func(st step, more ...any) error { return exec(st, append(slices.Clone(args), more...)...) }); err != nil {
			return res, err
		}
		if err := s.countFiring(ctx, f, firing, args); err != nil {
			return res, err
		}
		if err := execAll(tailSteps, append(args, clickhouse.Named("firing", firing))); err != nil {
			return res, err
		}
	}
	for d, n := range firing {
		if slices.Contains(detectors, d) {
			res.Firing[d] = int(n)
		}
	}
	if len(record) == 0 {
		return res, nil
	}
	var kinds []struct {
		Kind ChangeKind `ch:"kind"`
		N    uint64     `ch:"n"`
	}
	if err := f.Select(ctx, "", &kinds, statements.Text("count_changes", data)); err != nil {
		return res, fmt.Errorf("record alerts: count changes: %w", err)
	}
	for _, k := range kinds {
		res.Counts[k.Kind] = int(k.N)
	}
	if err := f.Select(ctx, "", &res.Changes, statements.In(db, "read_changes"), clickhouse.Named("max", uint32(MaxChangesRead))); err != nil {
		return res, fmt.Errorf("record alerts: read changes: %w", err)
	}
	return res, nil
}

// Consumer is a detect.Consumer that records the findings (Record) and keeps the result
// in *res.
func (s *Store) Consumer(res *Result) detect.Consumer {
	return func(ctx context.Context, f *detect.Findings) (err error) {
		*res, err = s.Record(ctx, f)
		return err
	}
}

// countFiring sets firing to the number of alerts of each detector that fire once the
// run is recorded: its findings, for a run over every order; for a scoped run, the
// previous run's count (as firing holds it) plus the alerts fired and less those
// resolved since that run, this one's changes (logged by now) and any a run that died
// before it completed logged.
func (s *Store) countFiring(ctx context.Context, f *detect.Findings, firing map[string]uint64, args []any) error {
	var counts []struct {
		Detector string `ch:"detector"`
		Up       uint64 `ch:"up"`
		Down     uint64 `ch:"down"`
	}
	q := statements.In(f.Database(), "count_firing")
	if f.Scoped() {
		q = statements.In(f.Database(), "count_firing_scoped")
	}
	if err := f.Select(ctx, "", &counts, q, args...); err != nil {
		return fmt.Errorf("record alerts: count the alerts firing: %w", err)
	}
	if !f.Scoped() {
		clear(firing)
	}
	for _, c := range counts {
		firing[c.Detector] = max(firing[c.Detector]+c.Up, c.Down) - c.Down
	}
	return nil
}

// writeChunks runs chunkSteps over the write table in chunks of about WriteChunk alerts
// (by a hash of the alert id), each built in full, logged and written before the next.
func (s *Store) writeChunks(ctx context.Context, f *detect.Findings, exec func(step, ...any) error) error {
	var n []struct {
		N uint64 `ch:"n"`
	}
	if err := f.Select(ctx, "", &n, statements.Text("count_write", nil)); err != nil || len(n) != 1 {
		return fmt.Errorf("record alerts: count the alerts to write: %w", err)
	}
	if n[0].N == 0 {
		return nil
	}
	size := s.WriteChunk
	if size <= 0 {
		size = DefaultWriteChunk
	}
	chunks := (n[0].N + uint64(size) - 1) / uint64(size)
	for k := range chunks {
		for _, t := range []string{"trackwatch_run_full", "trackwatch_run_chunk"} {
			if err := f.Exec(ctx, "", statements.Text("drop_temporary", sqlfile.Data{"Table": t})); err != nil {
				return fmt.Errorf("record alerts: %w", err)
			}
		}
		if err := f.Exec(ctx, "", statements.Text("chunk", nil), clickhouse.Named("chunks", chunks), clickhouse.Named("chunk", k)); err != nil {
			return fmt.Errorf("record alerts: chunk %d of %d: %w", k+1, chunks, err)
		}
		for _, st := range chunkSteps {
			if err := exec(st); err != nil {
				return fmt.Errorf("chunk %d of %d: %w", k+1, chunks, err)
			}
		}
	}
	return nil
}

// RecordAt evaluates set as of asOf in session (a connection of its own, as
// store.OpenSession makes) and records the run: detect.Set.Evaluate with Consumer.
func (s *Store) RecordAt(ctx context.Context, session driver.Conn, set *detect.Set, cfg detect.Config, asOf time.Time) (Result, error) {
	var res Result
	_, err := set.Evaluate(ctx, session, cfg, asOf, detect.Plain, s.Consumer(&res))
	return res, err
}

func (s *Store) cleanup(f *detect.Findings) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, t := range recordTables {
		_ = f.Exec(ctx, "", statements.Text("drop_temporary", sqlfile.Data{"Table": t}))
	}
}

// ErrNotFound is returned by Get for an unknown alert id.
var ErrNotFound = errors.New("no such alert")

// Get returns one alert.
func (s *Store) Get(ctx context.Context, alertID string) (Alert, error) {
	var out []Alert
	if err := s.Conn.Select(ctx, &out, statements.In(s.DB, "get_alert"),
		clickhouse.Named("id", alertID)); err != nil {
		return Alert{}, fmt.Errorf("get alert: %w", err)
	}
	if len(out) == 0 {
		return Alert{}, ErrNotFound
	}
	return out[0], nil
}

// Filter selects alerts; zero fields select everything.
type Filter struct {
	Detector string
	Status   Status // firing or resolved
	Limit    int    // default 100
}

// List returns alerts matching f, most recently detected first.
func (s *Store) List(ctx context.Context, f Filter) ([]Alert, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	q := statements.In(s.DB, "list_alerts")
	var out []Alert
	if err := s.Conn.Select(ctx, &out, q, clickhouse.Named("detector", f.Detector), clickhouse.Named("status", string(f.Status)),
		clickhouse.Named("limit", uint32(f.Limit))); err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	return out, nil
}
