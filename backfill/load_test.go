package backfill_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/klauspost/compress/zstd"
	"github.com/parquet-go/parquet-go"
	"github.com/segmentio/kafka-go"

	"github.com/trackwatch/trackwatch/backfill"
	"github.com/trackwatch/trackwatch/backfill/eventfile"
	"github.com/trackwatch/trackwatch/deadletter"
	"github.com/trackwatch/trackwatch/devstack"
	"github.com/trackwatch/trackwatch/devstack/devstacktest"
	"github.com/trackwatch/trackwatch/ingest"
	"github.com/trackwatch/trackwatch/schemas"
	"github.com/trackwatch/trackwatch/simulate"
	"github.com/trackwatch/trackwatch/store"
)

func TestMain(m *testing.M) {
	devstack.RunChildIfRequested()
	if spec := os.Getenv(childEnv); spec != "" {
		os.Exit(runChild(spec))
	}
	os.Exit(m.Run())
}

// server is a ClickHouse server for one test, with a database per name.
type server struct {
	t    testing.TB
	addr string
	conn driver.Conn
}

func newServer(t testing.TB, forKilledClients bool) *server {
	t.Helper()
	var ch *devstack.ClickHouse
	if forKilledClients {
		ch = devstacktest.StartClickHouseForKilledClients(t, t.TempDir())
	} else {
		ch = devstacktest.StartClickHouse(t, t.TempDir())
	}
	conn, err := store.Open(context.Background(), store.Config{Username: "default", DialTimeout: 5 * time.Second, MaxOpenConns: 4}, ch.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &server{t: t, addr: ch.Addr(), conn: conn}
}

// database makes db with trackwatch's migrations, its event and dead-letter tables kept
// from merging (noMerges): the tests count rows as stored.
func (s *server) database(db string) {
	s.t.Helper()
	if _, err := schemas.Migrate(context.Background(), s.conn, schemas.DDLOptions{Database: db}, time.Now); err != nil {
		s.t.Fatal(err)
	}
	s.noMerges(db)
}

// noMerges keeps the event and dead-letter tables of db from merging their parts, so that
// their rows can be counted as stored: they replace rows by their sorting key, and the
// simulator's producer duplicates (the same event on two lines) collapse whenever a merge
// comes, which made the counts of two databases differ by when each merged (seen once in
// CI, in the SIGKILL test: 1,341 rows against the reference's merged 1,294). A table
// setting, so that it holds after the embedded server restarts (it may, when a child
// process dies mid-query).
func (s *server) noMerges(db string) {
	s.t.Helper()
	for _, table := range []string{"tracking_events", "order_events", "dead_letters"} {
		if err := s.conn.Exec(context.Background(), "ALTER TABLE `"+db+"`."+table+
			" MODIFY SETTING max_bytes_to_merge_at_max_space_in_pool = 1, max_bytes_to_merge_at_min_space_in_pool = 1"); err != nil {
			s.t.Fatal(err)
		}
	}
}

func (s *server) loader(db string) *backfill.Loader {
	var cfg ingest.Config
	if err := cfg.Validate(); err != nil {
		s.t.Fatal(err)
	}
	return &backfill.Loader{Conn: s.conn, Database: db, Writer: ingest.NewWriter(s.conn, db, cfg, nil, nil, devstacktest.Logger()),
		TrackingTopic: schemas.TrackingTopic, OrderTopic: schemas.OrderTopic, Logger: devstacktest.Logger(), BatchRows: 300}
}

// waitServer waits until the server answers again, steadily, for a second (up to a
// minute): libchdb may abort a moment after a client died mid-query, and the embedded
// server's supervisor then restarts it.
func (s *server) waitServer() {
	s.t.Helper()
	var err error
	steady := 0
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if err = s.conn.Exec(context.Background(), "SELECT 1"); err != nil {
			steady = 0
			continue
		}
		if steady++; steady == 5 {
			return
		}
	}
	s.t.Fatalf("the server did not answer within a minute: %v", err)
}

// count reads a count, asking again while the server restarts (reads are idempotent).
func (s *server) count(q string, args ...any) uint64 {
	s.t.Helper()
	var n uint64
	var err error
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if err = s.conn.QueryRow(context.Background(), q, args...).Scan(&n); err == nil {
			return n
		}
	}
	s.t.Fatalf("%s: %v", q, err)
	return 0
}

// traffic is the simulator's events as NDJSON lines per topic.
func traffic(t *testing.T, orders int) map[string][][]byte {
	t.Helper()
	res := simulate.Run(simulate.Options{Orders: orders, Seed: 7, AsOf: time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)})
	out := map[string][][]byte{}
	for _, m := range res.Messages {
		out[m.Topic] = append(out[m.Topic], m.Value)
	}
	return out
}

func writeFile(t testing.TB, path string, data []byte) string {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func ndjson(lines [][]byte) []byte { return append(bytes.Join(lines, []byte("\n")), '\n') }

func gz(t *testing.T, b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func zst(t *testing.T, b []byte) []byte {
	w, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	return w.EncodeAll(b, nil)
}

// csvOf flattens JSON objects into CSV with dotted header names.
func csvOf(t *testing.T, lines [][]byte) []byte {
	t.Helper()
	var rows []map[string]string
	cols := map[string]bool{}
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatal(err)
		}
		row := map[string]string{}
		var flat func(prefix string, v any)
		flat = func(prefix string, v any) {
			switch x := v.(type) {
			case map[string]any:
				for k, vv := range x {
					flat(prefix+k+".", vv)
				}
			case nil:
			default:
				name := strings.TrimSuffix(prefix, ".")
				cols[name] = true
				switch y := x.(type) {
				case string:
					row[name] = y
				default:
					b, _ := json.Marshal(y)
					row[name] = string(b)
				}
			}
		}
		flat("", m)
		rows = append(rows, row)
	}
	var header []string
	for c := range cols {
		header = append(header, c)
	}
	slices.Sort(header)
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(header)
	for _, r := range rows {
		rec := make([]string, len(header))
		for i, c := range header {
			rec[i] = r[c]
		}
		w.Write(rec)
	}
	w.Flush()
	return buf.Bytes()
}

type pqPlace struct {
	Country    string `parquet:"country,optional"`
	City       string `parquet:"city,optional"`
	PostalCode string `parquet:"postal_code,optional"`
}

type pqTracking struct {
	EventID        string    `parquet:"event_id"`
	TrackingNumber string    `parquet:"tracking_number"`
	Carrier        string    `parquet:"carrier,optional"`
	Status         string    `parquet:"status,optional"`
	RawStatus      string    `parquet:"raw_status,optional"`
	OccurredAt     time.Time `parquet:"occurred_at,timestamp(millisecond)"`
	Location       *pqPlace  `parquet:"location,optional"`
	Destination    *pqPlace  `parquet:"destination,optional"`
}

// parquetOf writes tracking events as Parquet with nested location groups.
func parquetOf(t *testing.T, lines [][]byte) []byte {
	t.Helper()
	var rows []pqTracking
	for _, l := range lines {
		var e schemas.TrackingEvent
		if err := json.Unmarshal(l, &e); err != nil {
			t.Fatal(err)
		}
		var raw struct {
			OccurredAt string `json:"occurred_at"`
		}
		json.Unmarshal(l, &raw)
		at, err := time.Parse(time.RFC3339, raw.OccurredAt)
		if err != nil {
			t.Fatal(err)
		}
		r := pqTracking{EventID: e.EventID, TrackingNumber: e.TrackingNumber, Carrier: e.Carrier, Status: e.Status, RawStatus: e.RawStatus, OccurredAt: at.UTC()}
		place := func(p *schemas.Place) *pqPlace {
			if p == nil {
				return nil
			}
			return &pqPlace{Country: p.Country, City: p.City, PostalCode: p.PostalCode}
		}
		r.Location, r.Destination = place(e.Location), place(e.Destination)
		rows = append(rows, r)
	}
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[pqTracking](&buf)
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const trackingCols = "event_id, tracking_number, tracking_number_raw, carrier, status, sub_status, raw_status, occurred_at, " +
	"location_country, location_city_norm, location_postal_norm, dest_country, dest_city_norm, dest_postal_norm"

const orderCols = "event_id, order_id, marketplace, seller_id, buyer_id, status, occurred_at, tracking_number, carrier, " +
	"ship_to_country, ship_to_city_norm, ship_to_postal_norm, protection_days, protection_extended_days, amount, currency"

// dump returns a table's rows (without provenance) as text, ordered.
func (s *server) dump(db, table, cols string) string {
	s.t.Helper()
	rows, err := s.conn.Query(context.Background(), "SELECT toString(tuple("+cols+")) FROM `"+db+"`."+table+" ORDER BY event_id, occurred_at")
	if err != nil {
		s.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			s.t.Fatal(err)
		}
		out = append(out, r)
	}
	return strings.Join(out, "\n")
}

func TestEachFormatStoresTheSameRowsAsNDJSON(t *testing.T) {
	s := newServer(t, false)
	ev := traffic(t, 150)
	dir := t.TempDir()
	tracking, orders := ev[schemas.TrackingTopic], ev[schemas.OrderTopic]
	s.database("ref")
	ref := s.loader("ref")
	if _, err := ref.Load(context.Background(), []string{
		writeFile(t, filepath.Join(dir, "t.ndjson"), ndjson(tracking)),
		writeFile(t, filepath.Join(dir, "o.ndjson"), ndjson(orders)),
	}); err != nil {
		t.Fatal(err)
	}
	wantT, wantO := s.dump("ref", "tracking_events", trackingCols), s.dump("ref", "order_events", orderCols)
	if n := strings.Count(wantT, "\n") + 1; n < 300 {
		t.Fatalf("only %d tracking rows in the reference", n)
	}
	cases := []struct {
		name   string
		files  map[string][]byte
		orders bool // the case has order events too
	}{
		{"gzip-compressed NDJSON", map[string][]byte{"t.ndjson.gz": gz(t, ndjson(tracking)), "o.jsonl.gz": gz(t, ndjson(orders))}, true},
		{"zstd-compressed NDJSON", map[string][]byte{"t.ndjson.zst": zst(t, ndjson(tracking)), "o.ndjson.zst": zst(t, ndjson(orders))}, true},
		{"CSV with dotted nested columns", map[string][]byte{"t.csv": csvOf(t, tracking), "o.csv": csvOf(t, orders)}, true},
		{"gzip-compressed CSV", map[string][]byte{"t.csv.gz": gz(t, csvOf(t, tracking)), "o.csv.gz": gz(t, csvOf(t, orders))}, true},
		{"Parquet with nested groups", map[string][]byte{"t.parquet": parquetOf(t, tracking)}, false},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db := fmt.Sprintf("f%d", i)
			s.database(db)
			sub := filepath.Join(dir, db)
			os.Mkdir(sub, 0o755)
			for name, data := range c.files {
				writeFile(t, filepath.Join(sub, name), data)
			}
			paths, err := eventfile.Expand([]string{sub})
			if err != nil {
				t.Fatal(err)
			}
			l := s.loader(db)
			if err := l.Check(paths); err != nil {
				t.Fatal(err)
			}
			res, err := l.Load(context.Background(), paths)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range res {
				if r.DeadLettered != 0 {
					t.Errorf("%s: %d dead-lettered", r.Path, r.DeadLettered)
				}
			}
			if got := s.dump(db, "tracking_events", trackingCols); got != wantT {
				t.Errorf("tracking rows differ from the NDJSON load:\n%s", firstDiff(got, wantT))
			}
			if c.orders {
				if got := s.dump(db, "order_events", orderCols); got != wantO {
					t.Errorf("order rows differ from the NDJSON load:\n%s", firstDiff(got, wantO))
				}
			}
			if n := s.count("SELECT count() FROM `" + db + "`.tracking_events WHERE source_kind != 'file' OR source_partition != -1 OR source_line < 1 OR source_file = ''"); n != 0 {
				t.Errorf("%d rows without a file and line", n)
			}
		})
	}
}

func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range max(len(g), len(w)) {
		var a, b string
		if i < len(g) {
			a = g[i]
		}
		if i < len(w) {
			b = w[i]
		}
		if a != b {
			return fmt.Sprintf("row %d (of %d, want %d):\n got %s\nwant %s", i, len(g), len(w), a, b)
		}
	}
	return ""
}

type producer struct{ msgs []kafka.Message }

func (p *producer) WriteMessages(_ context.Context, m ...kafka.Message) error {
	p.msgs = append(p.msgs, m...)
	return nil
}

func TestBadRecordsGoToTheDeadLettersWithTheirFileAndLine(t *testing.T) {
	s := newServer(t, false)
	s.database("bad")
	dir := t.TempDir()
	good := `{"event_id":"e1","tracking_number":"LX123456785CN","raw_status":"Electronic information received","occurred_at":"2026-10-02T08:15:00+08:00"}`
	nd := writeFile(t, filepath.Join(dir, "t.ndjson"), []byte(good+"\n{not json\n\n"+
		`{"event_id":"e2","raw_status":"Accepted","occurred_at":"2026-10-02T08:15:00Z"}`+"\n"+
		`{"event_id":"e3","tracking_number":"LX123456785CN","raw_status":"Accepted","occurred_at":"yesterday"}`+"\n"))
	cs := writeFile(t, filepath.Join(dir, "o.csv"), []byte("event_id,order_id,seller_id,buyer_id,status,occurred_at,ship_to.country,protection_days\n"+
		"o1,A1,s1,b1,placed,2026-10-01T00:00:00Z,JP,60\n"+
		"o2,A2,s1,b1,placed\n"+
		"o3,A3,s1,b1,placed,2026-10-01T00:00:00Z,JP,sixty\n"))
	res, err := s.loader("bad").Load(context.Background(), []string{nd, cs})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Rows != 1 || res[0].DeadLettered != 3 || res[1].Rows != 1 || res[1].DeadLettered != 2 {
		t.Fatalf("results = %+v", res)
	}
	dls, err := deadletter.List(context.Background(), s.conn, "bad", deadletter.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range dls {
		got = append(got, fmt.Sprintf("%s %s %s", d.Origin(), d.Topic, d.Reason))
	}
	slices.Sort(got)
	want := []string{
		cs + ":3 order-events bad_record",
		cs + ":4 order-events invalid_value",
		nd + ":2 tracking-events not_json",
		nd + ":4 tracking-events missing_field",
		nd + ":5 tracking-events bad_timestamp",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("dead letters:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// dlq replay sends them to their kind's topic, naming the file and line, and records
	// each replay separately (file dead letters share topic, partition and offset).
	p := &producer{}
	done, err := deadletter.Replay(context.Background(), s.conn, "bad", p, deadletter.Filter{Open: true}, time.Now())
	if err != nil || len(done) != 5 || len(p.msgs) != 5 {
		t.Fatalf("replayed %d, produced %d: %v", len(done), len(p.msgs), err)
	}
	for _, m := range p.msgs {
		if !strings.HasPrefix(string(m.Headers[0].Value), dir) {
			t.Errorf("replay header %q does not name the file", m.Headers[0].Value)
		}
	}
	open, err := deadletter.List(context.Background(), s.conn, "bad", deadletter.Filter{Open: true})
	if err != nil || len(open) != 0 {
		t.Fatalf("%d still open after the replay: %v", len(open), err)
	}
}

func TestLoadingAFileAgainUnderAnyNameStoresNothingTwice(t *testing.T) {
	s := newServer(t, false)
	s.database("twice")
	ev := traffic(t, 60)
	dir := t.TempDir()
	data := ndjson(ev[schemas.TrackingTopic])
	first := writeFile(t, filepath.Join(dir, "a.ndjson"), data)
	l := s.loader("twice")
	r1, err := l.LoadFile(context.Background(), first)
	if err != nil {
		t.Fatal(err)
	}
	rows := s.count("SELECT count() FROM twice.tracking_events")
	if rows == 0 || rows != r1.Rows {
		t.Fatalf("stored %d rows, the load says %d", rows, r1.Rows)
	}
	copyPath := writeFile(t, filepath.Join(dir, "copy-of-a.ndjson"), data)
	for _, p := range []string{first, copyPath} {
		r, err := l.LoadFile(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		if !r.LoadedBefore || r.Rows != 0 || r.AlreadyPresent != r1.Rows {
			t.Fatalf("%s: %+v", p, r)
		}
	}
	if n := s.count("SELECT count() FROM twice.tracking_events"); n != rows {
		t.Fatalf("%d rows after loading again, want %d", n, rows)
	}
	// Standard input has no identity to record, but its blocks are named by their
	// content: the same bytes piped twice are stored once.
	in := &backfill.Loader{}
	*in = *l
	in.Format = eventfile.NDJSON
	var counts []uint64
	for range 2 {
		in.Stdin = bytes.NewReader(ndjson(ev[schemas.OrderTopic]))
		if _, err := in.LoadFile(context.Background(), "-"); err != nil {
			t.Fatal(err)
		}
		counts = append(counts, s.count("SELECT count() FROM twice.order_events"))
	}
	if counts[0] == 0 || counts[1] != counts[0] {
		t.Fatalf("rows after piping the same bytes once and twice: %v", counts)
	}
}
