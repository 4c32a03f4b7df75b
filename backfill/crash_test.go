package backfill_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/trackwatch/trackwatch/backfill"
	"github.com/trackwatch/trackwatch/ingest"
	"github.com/trackwatch/trackwatch/schemas"
	"github.com/trackwatch/trackwatch/store"
)

// childEnv makes the test binary a backfill process configured by a JSON childSpec, so
// that a test can have it SIGKILLed at a chosen point.
const childEnv = "BACKFILL_TEST_CHILD"

type childSpec struct {
	Addr, DB string
	Files    []string
	CrashAt  string // after_insert or after_progress
	After    int    // SIGKILL itself the Nth time it reaches CrashAt
}

func runChild(spec string) int {
	var cs childSpec
	if err := json.Unmarshal([]byte(spec), &cs); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx := context.Background()
	conn, err := store.Open(ctx, store.Config{Username: "default", DialTimeout: 5 * time.Second, MaxOpenConns: 4}, cs.Addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var cfg ingest.Config
	_ = cfg.Validate()
	n := 0
	kill := func(string, int64) {
		if n++; n == cs.After {
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {}
		}
	}
	l := &backfill.Loader{Conn: conn, Database: cs.DB, Writer: ingest.NewWriter(conn, cs.DB, cfg, nil, nil, nil),
		TrackingTopic: schemas.TrackingTopic, OrderTopic: schemas.OrderTopic, BatchRows: 300}
	switch cs.CrashAt {
	case "after_insert":
		l.Hooks.AfterInsert = kill
	case "after_progress":
		l.Hooks.AfterProgress = kill
	}
	if _, err := l.Load(ctx, cs.Files); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func TestALoadKilledMidFileAndStartedAgainStoresEveryRecordOnce(t *testing.T) {
	s := newServer(t, true)
	ev := traffic(t, 400)
	dir := t.TempDir()
	// A few bad lines, so that dead letters are checked for loss and doubles too.
	tracking := ev[schemas.TrackingTopic]
	for i := 100; i < len(tracking); i += 700 {
		tracking[i] = []byte(`{"event_id":"broken` + fmt.Sprint(i) + `"`)
	}
	files := []string{
		writeFile(t, filepath.Join(dir, "tracking.ndjson"), ndjson(tracking)),
		writeFile(t, filepath.Join(dir, "orders.csv.gz"), gz(t, csvOf(t, ev[schemas.OrderTopic]))),
	}
	// The reference: the same files loaded in one go.
	s.database("ref")
	if _, err := s.loader("ref").Load(context.Background(), files); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, at string
		after    int
	}{
		{"killed after a block is stored and before its progress is recorded", "after_insert", 3},
		{"killed after a block's progress is recorded", "after_progress", 2},
		{"killed in the second file, between its block and its progress", "after_insert", 7},
	} {
		t.Run(c.name, func(t *testing.T) {
			db := "k" + c.at + fmt.Sprint(c.after)
			s.database(db)
			spec, _ := json.Marshal(childSpec{Addr: s.addr, DB: db, Files: files, CrashAt: c.at, After: c.after})
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), childEnv+"="+string(spec))
			out, err := cmd.CombinedOutput()
			if ee, ok := err.(*exec.ExitError); !ok || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("the child was not killed: %v\n%s", err, out)
			}
			// The embedded server may be restarting after the child's death (libchdb aborts
			// when a client dies mid-query), as a supervisor would restart it: wait for it.
			s.waitServer()
			stored := s.count("SELECT count() FROM `"+db+"`.tracking_events") + s.count("SELECT count() FROM `"+db+"`.order_events")
			if total := s.count("SELECT count() FROM ref.tracking_events") + s.count("SELECT count() FROM ref.order_events"); stored == 0 || stored >= total {
				t.Fatalf("the kill came at a useless moment: %d of %d rows stored", stored, total)
			}
			// The interrupted file is listed as unfinished (trackwatch backfill files).
			open, err := backfill.Files(context.Background(), s.conn, db, true, 10)
			if err != nil || len(open) != 1 || open[0].Done || open[0].RowsStored == 0 {
				t.Fatalf("unfinished files after the kill: %+v (%v)", open, err)
			}
			// The same command again finishes the load.
			res, err := s.loader(db).Load(context.Background(), files)
			if err != nil {
				t.Fatal(err)
			}
			if open, err := backfill.Files(context.Background(), s.conn, db, true, 10); err != nil || len(open) != 0 {
				t.Fatalf("unfinished files after the rerun: %+v (%v)", open, err)
			}
			var present uint64
			for _, r := range res {
				present += r.AlreadyPresent
			}
			if present == 0 {
				t.Errorf("the rerun reports nothing already present: %+v", res)
			}
			for _, q := range []string{
				"SELECT count() FROM `%s`.tracking_events", "SELECT count() FROM `%s`.order_events", "SELECT count() FROM `%s`.dead_letters",
				"SELECT count() FROM (SELECT DISTINCT source_file, source_line FROM `%s`.tracking_events)",
				"SELECT sum(rows_stored) FROM `%s`.backfill_files FINAL WHERE done",
			} {
				want := s.count(fmt.Sprintf(q, "ref"))
				got := s.count(fmt.Sprintf(q, db))
				if got != want {
					t.Errorf("%s: %d, want %d (as the uninterrupted load)", fmt.Sprintf(q, db), got, want)
				}
			}
		})
	}
}
