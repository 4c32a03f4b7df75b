package alert

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/trackwatch/trackwatch/detect"
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

// Temporary tables of a recording, on the run's connection.
const (
	findingsTable = "trackwatch_run_findings" // every finding, drafted: no timelines
	priorTable    = "trackwatch_run_prior"
	changesTable  = "trackwatch_run_changes"
	writeTable    = "trackwatch_run_write" // the findings whose alerts are written
	chunkTable    = "trackwatch_run_chunk" // the part of them written in this chunk
	fullTable     = "trackwatch_run_full"  // those findings in full, with timelines
)

// recordTables are the temporary tables of a recording, in the order they are dropped.
var recordTables = []string{fullTable, chunkTable, writeTable, changesTable, priorTable, findingsTable}

// falsePositives are the alerts an analyst closed as false positives: they do not fire
// again for the same order and number.
const falsePositives = `SELECT alert_id FROM ($cases) WHERE case_state = 'closed' AND outcome = 'false_positive'`

// alertColumns are the columns alerts and alert_changes share, in table order.
const alertColumns = "alert_id, detector, order_id, tracking_number, seller_id, buyer_id, marketplace, severity, recommendation, " +
	"reason, reasons, evidence, protection_ends_at, amount, first_detected_at, last_detected_at, status, resolved_at, as_of"

// The statements of a recording, in order. $db is the database; values are parameters:
// as_of, record (the detectors recorded) and since (per detector, the moment of its
// latest recorded run in Unix milliseconds: changes after it may not have reached alerts
// yet).
// step is one statement of a recording and the stage it counts in.
type step struct{ stage, sql string }

var recordSteps = []step{
	// Every finding as a draft (no timelines) with the hash of what its alert says: the
	// draft's fields and what its timeline is built from.
	// Only the ids and the hash are kept: the texts are hashed as they stream by.
	{"findings", `CREATE TEMPORARY TABLE ` + findingsTable + ` ENGINE = Memory AS
SELECT lower(hex(sipHash128(detector, order_id, tracking_number))) AS alert_id, detector, order_id, tracking_number,
    sipHash64(seller_id, buyer_id, marketplace, severity, recommendation, reason, reasons, evidence, timeline_key,
        isNull(protection_ends_at), ifNull(protection_ends_at, toDateTime64(0, 3, 'UTC')), isNull(amount), ifNull(amount, 0)) AS content_hash
FROM ($draft)`},
	// Each alert's latest state: the alerts row, or a change logged after the detector's
	// latest complete run, whichever is later. A run that logged its changes and died
	// before writing alerts is so taken as done, and its changes are not made twice.
	{"prior state", `CREATE TEMPORARY TABLE ` + priorTable + ` ENGINE = Memory AS
SELECT alert_id, any(detector) AS detector, argMax(status, v) AS status, argMax(first_detected_at, v) AS first_detected_at, max(v) AS as_of,
    argMax(content_hash, v) AS content_hash
FROM (
    -- (a scoped run reads the alerts of its orders only, without FINAL, which ClickHouse
    -- 26.7 cannot combine with a temporary table's filter: the latest version is
    -- picked below anyway)
    SELECT alert_id, detector, status, first_detected_at, as_of AS v, content_hash FROM $db.alerts $final
    WHERE has({record:Array(String)}, detector)$scope
    UNION ALL
    -- a state only logged (its run died before writing alerts) has no hash: it is written
    SELECT alert_id, detector, status, first_detected_at, as_of AS v, toUInt64(0) AS content_hash FROM $db.alert_changes
    WHERE has({record:Array(String)}, detector) AND as_of > fromUnixTimestamp64Milli({since:Map(String, Int64)}[detector], 'UTC')
      AND as_of <= {as_of:DateTime64(3, 'UTC')}$scope
)
GROUP BY alert_id`},
	// The changes: found and not firing before (fired, or refired after a resolve);
	// firing before and not found now (resolved). A state written as of this moment or a
	// later one is never changed.
	{"changes", `CREATE TEMPORARY TABLE ` + changesTable + ` ENGINE = Memory AS
SELECT alert_id, detector, kind, lower(hex(sipHash128(alert_id, kind, {as_of:DateTime64(3, 'UTC')}))) AS change_id
FROM (
    SELECT f.alert_id AS alert_id, f.detector AS detector, if(p.status = '', 'fired', 'refired') AS kind
    FROM ` + findingsTable + ` AS f LEFT JOIN ` + priorTable + ` AS p ON p.alert_id = f.alert_id
    WHERE has({record:Array(String)}, f.detector)
      AND (p.status = '' OR (p.status = 'resolved' AND p.as_of < {as_of:DateTime64(3, 'UTC')}))
      AND f.alert_id NOT IN (` + falsePositives + `)
    UNION ALL
    SELECT alert_id, detector, 'resolved' AS kind FROM ` + priorTable + `
    WHERE status = 'firing' AND as_of < {as_of:DateTime64(3, 'UTC')}
      AND alert_id NOT IN (SELECT alert_id FROM ` + findingsTable + `)
)`},
	// The alerts to write: every finding that fires (new, or again after a resolve) or
	// that was firing and says something else now. A state written as of a later moment
	// is never changed; an alert closed as a false positive does not fire again.
	{"full findings", `CREATE TEMPORARY TABLE ` + writeTable + ` ENGINE = Memory AS
SELECT f.alert_id AS alert_id, f.detector AS detector, f.order_id AS order_id, f.tracking_number AS tracking_number,
    f.content_hash AS content_hash, if(p.status = 'firing', p.first_detected_at, {as_of:DateTime64(3, 'UTC')}) AS first_detected_at
FROM ` + findingsTable + ` AS f LEFT JOIN ` + priorTable + ` AS p ON p.alert_id = f.alert_id
WHERE has({record:Array(String)}, f.detector) AND (p.status = '' OR p.as_of <= {as_of:DateTime64(3, 'UTC')})
  AND (p.status != 'firing' OR p.content_hash != f.content_hash)
  AND f.alert_id NOT IN (` + falsePositives + `)`},
	// A resolved alert is logged as it last fired, with the moment it resolved. It was
	// last detected by its detector's previous run (a row is rewritten only when it
	// changes, so the stored last detection may be older).
	{"change log", `INSERT INTO $db.alert_changes (change_id, kind, ` + alertColumns + `)
SELECT c.change_id, 'resolved', a.alert_id, a.detector, a.order_id, a.tracking_number, a.seller_id, a.buyer_id, a.marketplace,
    a.severity, a.recommendation, a.reason, a.reasons, a.evidence, a.protection_ends_at, a.amount,
    a.first_detected_at, greatest(a.last_detected_at, fromUnixTimestamp64Milli({since:Map(String, Int64)}[a.detector], 'UTC')),
    'resolved', {as_of:DateTime64(3, 'UTC')}, {as_of:DateTime64(3, 'UTC')}
FROM (
    -- no FINAL where a temporary table filters: ClickHouse 26.7 can lose the session's
    -- temporary tables in FINAL's reading of many parts ("Unknown table expression
    -- identifier", seen at 10M events); the latest version is picked below anyway
    SELECT * FROM (
        SELECT ` + alertColumns + ` FROM $db.alerts
        WHERE alert_id IN (SELECT alert_id FROM ` + changesTable + ` WHERE kind = 'resolved')
        UNION ALL
        SELECT ` + alertColumns + ` FROM $db.alert_changes
        WHERE alert_id IN (SELECT alert_id FROM ` + changesTable + ` WHERE kind = 'resolved') AND as_of < {as_of:DateTime64(3, 'UTC')}
    )
    ORDER BY as_of DESC LIMIT 1 BY alert_id
) AS a INNER JOIN ` + changesTable + ` AS c ON c.alert_id = a.alert_id AND c.kind = 'resolved'`},
}

// chunkSteps write the alerts of one chunk of the write table (chunkTable): their
// findings in full, their fired and refired changes to the change log, then the alerts.
// A run that dies between chunks has logged and written the chunks before: the next run
// takes their changes as done (prior state) and makes the others as changes of its own.
var chunkSteps = []step{
	// Those findings in full, timelines and all (a run where little changed builds few).
	{"full findings", `CREATE TEMPORARY TABLE ` + fullTable + ` ENGINE = Memory AS
SELECT lower(hex(sipHash128(detector, order_id, tracking_number))) AS alert_id, * FROM ($written)`},
	// The change log first: a run that dies after it is completed by the next one (see
	// prior state); one that dies before it has changed nothing.
	{"change log", `INSERT INTO $db.alert_changes (change_id, kind, ` + alertColumns + `)
SELECT c.change_id, c.kind, f.alert_id, f.detector, f.order_id, f.tracking_number, f.seller_id, f.buyer_id, f.marketplace,
    f.severity, f.recommendation, f.reason, f.reasons, f.evidence, f.protection_ends_at, f.amount,
    {as_of:DateTime64(3, 'UTC')}, {as_of:DateTime64(3, 'UTC')}, 'firing', NULL, {as_of:DateTime64(3, 'UTC')}
FROM ` + changesTable + ` AS c INNER JOIN ` + fullTable + ` AS f ON f.alert_id = c.alert_id
WHERE c.kind != 'resolved'`},
	// Every finding fires, as of this moment, keeping the start of a firing episode. A
	// finding that was firing already and says the same (its content hash) is not
	// rewritten: readers take a firing alert's last detection from its detector's latest
	// run (CurrentAlertsSQL).
	{"alerts", `INSERT INTO $db.alerts (` + alertColumns + `, content_hash)
SELECT f.alert_id, f.detector, f.order_id, f.tracking_number, f.seller_id, f.buyer_id, f.marketplace, f.severity, f.recommendation,
    f.reason, f.reasons, f.evidence, f.protection_ends_at, f.amount,
    w.first_detected_at, {as_of:DateTime64(3, 'UTC')}, 'firing', NULL, {as_of:DateTime64(3, 'UTC')}, w.content_hash
FROM ` + chunkTable + ` AS w INNER JOIN ` + fullTable + ` AS f ON f.alert_id = w.alert_id`},
}

// tailSteps follow the chunks: the resolved alerts (logged before the chunks), and the
// run's counts, the mark that the run is complete.
var tailSteps = []step{
	{"alerts", `INSERT INTO $db.alerts (` + alertColumns + `)
SELECT ` + alertColumns + ` FROM $db.alert_changes
WHERE change_id IN (SELECT change_id FROM ` + changesTable + ` WHERE kind = 'resolved')`},
	{"alerts", `INSERT INTO $db.alert_runs (detector, as_of, firing, fired, refired, resolved)
SELECT r.d, {as_of:DateTime64(3, 'UTC')}, {firing:Map(String, UInt64)}[r.d], c.fired, c.refired, c.resolved
FROM (SELECT arrayJoin({record:Array(String)}) AS d) AS r
LEFT JOIN (
    SELECT detector, countIf(kind = 'fired') AS fired, countIf(kind = 'refired') AS refired, countIf(kind = 'resolved') AS resolved
    FROM ` + changesTable + ` GROUP BY detector
) AS c ON c.detector = r.d`},
}

// changeHeader are the columns of Result.Changes: a change without reason and evidence.
const changeHeader = "change_id, kind, alert_id, detector, order_id, tracking_number, seller_id, buyer_id, marketplace, severity, " +
	"recommendation, protection_ends_at, amount, first_detected_at, last_detected_at, status, resolved_at, as_of, created_at"

func (s *Store) table(name string) string { return "`" + s.DB + "`." + name }

// CurrentAlertsSQL is a subquery of every alert's latest row (alerts FINAL), for
// readers: a firing alert was last detected by its detector's latest run, later than the
// run that last rewrote it when nothing it says has changed since.
func CurrentAlertsSQL(db string) string { return statements.In(db, "current_alerts") }

func (s *Store) sql(q string, run *detect.Run) string {
	q = strings.NewReplacer("$cases", CaseSQL(s.DB), "$db", "`"+s.DB+"`").Replace(q)
	if run != nil {
		final, scope := "FINAL", ""
		if c := run.ScopeCondition("order_id"); c != "" {
			final, scope = "", " AND "+c
		}
		q = strings.NewReplacer("$draft", run.FindingsDraftSQL(), "$written", run.FindingsOfSQL(chunkTable),
			"$final", final, "$scope", scope).Replace(q)
	}
	return q
}

// Record writes a run's findings as alerts and reports the changes it made. Every
// finding fires (keeping the start of an alert's firing episode); every alert of the
// run's detectors that fired before and is not found now resolves as of the run's
// moment; a scoped scheduled run (detect.Run.ScopeCondition) changes the alerts of the
// orders it evaluated only. Each change goes to the change log before the alerts table,
// with an id that the same change computed again keeps.
//
// Rows are versioned by the run's moment: for a detector whose alerts were recorded as
// of a later moment already, the run changes nothing (Result.Behind names it). Several
// instances evaluating the same moment write the same rows and the same changes.
func (s *Store) Record(ctx context.Context, run *detect.Run) (Result, error) {
	asOf := run.AsOf().UTC()
	res := Result{AsOf: asOf, Firing: map[string]int{}, Behind: map[string]time.Time{}, Counts: map[ChangeKind]int{}}
	conn := run.Conn()
	detectors := run.Detectors()
	for _, d := range detectors {
		res.Firing[d] = 0
	}
	var latest []struct {
		Detector string    `ch:"detector"`
		AsOf     time.Time `ch:"as_of"`
		Firing   uint64    `ch:"firing"`
	}
	if err := s.Conn.Select(ctx, &latest, "SELECT detector, max(a) AS as_of, toUInt64(argMax(firing, a)) AS firing FROM (SELECT detector, as_of AS a, firing FROM "+
		s.table("alert_runs")+" WHERE has({detectors:Array(String)}, detector)) GROUP BY detector", clickhouse.Named("detectors", detectors)); err != nil {
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
	args := append(run.Args(), clickhouse.Named("record", record), clickhouse.Named("since", since))
	qctx := run.QueryContext(ctx)
	defer s.cleanup(conn)
	for _, t := range recordTables {
		if err := conn.Exec(ctx, "DROP TEMPORARY TABLE IF EXISTS "+t); err != nil {
			return res, fmt.Errorf("record alerts: %w", err)
		}
	}
	stages := map[string]time.Duration{} // a stage's statements, summed over the chunks
	var order []string
	exec := func(st step) error {
		t := time.Now()
		if err := conn.Exec(qctx, s.sql(st.sql, run), args...); err != nil {
			return fmt.Errorf("record alerts: %s: %w", st.stage, detect.SessionLost(err))
		}
		if _, ok := stages[st.stage]; !ok {
			order = append(order, st.stage)
		}
		stages[st.stage] += time.Since(t)
		return nil
	}
	defer func() {
		for _, name := range order {
			run.Stage(name, time.Now().Add(-stages[name]))
		}
	}()
	execAll := func(steps []step) error {
		for _, st := range steps {
			if err := exec(st); err != nil {
				return err
			}
		}
		return nil
	}
	if len(record) == 0 {
		if err := exec(recordSteps[0]); err != nil { // only the findings, to count them
			return res, err
		}
		if _, scoped := run.Scoped(); !scoped {
			if err := s.countFiring(ctx, conn, run, firing, args); err != nil {
				return res, err
			}
		}
	} else {
		if err := execAll(recordSteps); err != nil {
			return res, err
		}
		if err := s.writeChunks(ctx, conn, exec); err != nil {
			return res, err
		}
		if err := s.countFiring(ctx, conn, run, firing, args); err != nil {
			return res, err
		}
		args = append(args, clickhouse.Named("firing", firing))
		if err := execAll(tailSteps); err != nil {
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
	if err := conn.Select(ctx, &kinds, "SELECT kind, count() AS n FROM "+changesTable+" GROUP BY kind"); err != nil {
		return res, fmt.Errorf("record alerts: count changes: %w", detect.SessionLost(err))
	}
	for _, k := range kinds {
		res.Counts[k.Kind] = int(k.N)
	}
	// Not FINAL (see the resolved change log step): a change logged twice is one row here.
	q := "SELECT " + changeHeader + " FROM " + s.table("alert_changes") + " WHERE change_id IN (SELECT change_id FROM " +
		changesTable + ") ORDER BY detector, order_id, kind, change_id, created_at LIMIT 1 BY change_id LIMIT {max:UInt32}"
	if err := conn.Select(ctx, &res.Changes, q, clickhouse.Named("max", uint32(MaxChangesRead))); err != nil {
		return res, fmt.Errorf("record alerts: read changes: %w", detect.SessionLost(err))
	}
	return res, nil
}

// countFiring sets firing to the number of alerts of each detector that fire once the
// run is recorded: its findings, for a run over every order; for a scoped run, the
// previous run's count (as firing holds it) plus the alerts fired and less those
// resolved since that run, this one's changes (logged by now) and any a run that died
// before it completed logged.
func (s *Store) countFiring(ctx context.Context, conn driver.Conn, run *detect.Run, firing map[string]uint64, args []any) error {
	var counts []struct {
		Detector string `ch:"detector"`
		Up       uint64 `ch:"up"`
		Down     uint64 `ch:"down"`
	}
	q := "SELECT detector, count() AS up, toUInt64(0) AS down FROM " + findingsTable + " GROUP BY detector"
	_, scoped := run.Scoped()
	if scoped {
		q = "SELECT detector, uniqExactIf(change_id, kind != 'resolved') AS up, uniqExactIf(change_id, kind = 'resolved') AS down\n" +
			"FROM " + s.table("alert_changes") + " WHERE has({record:Array(String)}, detector)\n" +
			"  AND as_of > fromUnixTimestamp64Milli({since:Map(String, Int64)}[detector], 'UTC') AND as_of <= {as_of:DateTime64(3, 'UTC')}\n" +
			"GROUP BY detector"
	}
	if err := conn.Select(ctx, &counts, q, args...); err != nil {
		return fmt.Errorf("record alerts: count the alerts firing: %w", detect.SessionLost(err))
	}
	if !scoped {
		clear(firing)
	}
	for _, c := range counts {
		firing[c.Detector] = max(firing[c.Detector]+c.Up, c.Down) - c.Down
	}
	return nil
}

// writeChunks runs chunkSteps over the write table in chunks of about WriteChunk alerts
// (by a hash of the alert id), each built in full, logged and written before the next.
func (s *Store) writeChunks(ctx context.Context, conn driver.Conn, exec func(step) error) error {
	var n uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM "+writeTable).Scan(&n); err != nil {
		return fmt.Errorf("record alerts: count the alerts to write: %w", detect.SessionLost(err))
	}
	if n == 0 {
		return nil
	}
	size := s.WriteChunk
	if size <= 0 {
		size = DefaultWriteChunk
	}
	chunks := (n + uint64(size) - 1) / uint64(size)
	for k := range chunks {
		for _, t := range []string{fullTable, chunkTable} {
			if err := conn.Exec(ctx, "DROP TEMPORARY TABLE IF EXISTS "+t); err != nil {
				return fmt.Errorf("record alerts: %w", err)
			}
		}
		if err := conn.Exec(ctx, "CREATE TEMPORARY TABLE "+chunkTable+" ENGINE = Memory AS SELECT * FROM "+writeTable+
			" WHERE cityHash64(alert_id) % {chunks:UInt64} = {chunk:UInt64}",
			clickhouse.Named("chunks", chunks), clickhouse.Named("chunk", k)); err != nil {
			return fmt.Errorf("record alerts: chunk %d of %d: %w", k+1, chunks, detect.SessionLost(err))
		}
		for _, st := range chunkSteps {
			if err := exec(st); err != nil {
				return fmt.Errorf("chunk %d of %d: %w", k+1, chunks, err)
			}
		}
	}
	return nil
}

// RecordAt evaluates set as of asOf on conn (a connection of its own, as
// store.OpenSession makes) and records the run: Prepare, Record, Close.
func (s *Store) RecordAt(ctx context.Context, conn driver.Conn, set *detect.Set, cfg detect.Config, asOf time.Time) (Result, error) {
	run, err := set.Prepare(ctx, conn, cfg, asOf)
	if err != nil {
		return Result{}, err
	}
	defer run.Close()
	return s.Record(ctx, run)
}

func (s *Store) cleanup(conn driver.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, t := range recordTables {
		_ = conn.Exec(ctx, "DROP TEMPORARY TABLE IF EXISTS "+t)
	}
}

// ErrNotFound is returned by Get for an unknown alert id.
var ErrNotFound = errors.New("no such alert")

// Get returns one alert.
func (s *Store) Get(ctx context.Context, alertID string) (Alert, error) {
	var out []Alert
	if err := s.Conn.Select(ctx, &out, "SELECT "+alertColumns+" FROM "+CurrentAlertsSQL(s.DB)+" WHERE alert_id = {id:String}",
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
	q := "SELECT " + alertColumns + " FROM " + CurrentAlertsSQL(s.DB) + " " +
		"WHERE ({detector:String} = '' OR detector = {detector:String}) AND ({status:String} = '' OR status = {status:String}) " +
		"ORDER BY last_detected_at DESC, alert_id LIMIT {limit:UInt32}"
	var out []Alert
	if err := s.Conn.Select(ctx, &out, q, clickhouse.Named("detector", f.Detector), clickhouse.Named("status", string(f.Status)),
		clickhouse.Named("limit", uint32(f.Limit))); err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	return out, nil
}
