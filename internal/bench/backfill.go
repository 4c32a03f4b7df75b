package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/trackwatch/trackwatch/devstack"
)

// BackfillOptions configure the backfill benchmark.
type BackfillOptions struct {
	// Events is how many tracking events the file holds. Default 1,000,000.
	Events int
	// BatchRows is trackwatch's records per block. Default 20,000.
	BatchRows  int
	ClickHouse devstack.ClickHouseConfig
	// Trackwatch is the binary run as `trackwatch backfill load` (required).
	Trackwatch string
	Logger     *slog.Logger
	Progress   func(string)
}

// BackfillResult is the benchmark's outcome.
type BackfillResult struct {
	Events    int
	FileBytes int64
	// Reference is ClickHouse's own INSERT ... FORMAT JSONEachRow of the file into the
	// same table (over HTTP, mapping the nested fields, no normalisation); Trackwatch is
	// `trackwatch backfill load` of the same file, as its own process.
	Reference, Trackwatch Measurement
}

// Backfill writes a file of generated tracking events and times, against one fresh
// embedded ClickHouse, ClickHouse's own JSONEachRow insert of it (the reference) and
// trackwatch's backfill load of it.
func Backfill(ctx context.Context, o BackfillOptions) (*BackfillResult, error) {
	if o.Trackwatch == "" {
		return nil, errors.New("no trackwatch binary to run as the backfill load (BackfillOptions.Trackwatch)")
	}
	if o.Events <= 0 {
		o.Events = 1_000_000
	}
	if o.BatchRows <= 0 {
		o.BatchRows = 20_000
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	progress := o.Progress
	if progress == nil {
		progress = func(string) {}
	}
	dir, err := os.MkdirTemp("", "trackwatch-bench-backfill-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	progress(fmt.Sprintf("generating %d tracking events into an NDJSON file", o.Events))
	file := filepath.Join(dir, "tracking-events.ndjson")
	n, size, err := writeTrackingFile(file, o.Events)
	if err != nil {
		return nil, err
	}
	res := &BackfillResult{Events: n, FileBytes: size}
	progress("starting a fresh embedded ClickHouse")
	ch, conn, closeAll, err := freshDatabase(ctx, o.ClickHouse, o.Logger, "trackwatch-bench-backfill-ch-", "bench_ref", 4)
	if err != nil {
		return nil, err
	}
	defer closeAll()
	if err := migrate(ctx, conn, "bench_tw"); err != nil {
		return nil, err
	}

	progress("reference: INSERT ... FORMAT JSONEachRow of the file over HTTP")
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	resp, err := http.Post("http://"+ch.HTTPAddr()+"/?query="+url.QueryEscape(statements.In("bench_ref", "reference_insert")), "application/x-ndjson", bufio.NewReaderSize(f, 1<<20))
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("reference insert: %w", err)
	}
	var body bytes.Buffer
	body.ReadFrom(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("reference insert: %s: %s", resp.Status, body.String())
	}
	secs := time.Since(start).Seconds()
	res.Reference = Measurement{Name: "ClickHouse INSERT ... FORMAT JSONEachRow (reference)", Events: n, Seconds: secs, EventsPerSec: float64(n) / secs,
		Note: "the file posted to the HTTP interface; nested fields mapped, no normalisation, no validation, no dead letters"}
	if err := expectTable(ctx, conn, "bench_ref", n); err != nil {
		return nil, err
	}

	progress("trackwatch backfill load of the same file, as its own process")
	cfgFile := filepath.Join(dir, "bench.yaml")
	if err := os.WriteFile(cfgFile, nil, 0o644); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, o.Trackwatch, "backfill", "load", "--config", cfgFile, "--progress", "none", "--summary", "json",
		"--batch-rows", strconv.Itoa(o.BatchRows), "--set", "clickhouse.addr="+ch.Addr(), "--set", "clickhouse.database=bench_tw",
		"--set", "kafka.brokers=127.0.0.1:9", "--set", "log.level=warn", file)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	// The peak RSS is sampled from /proc (VmHWM) while it runs: the rusage of a child
	// counts the parent's memory at the fork, which here holds the generated events.
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	var rss float64
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for loop := true; loop; {
		select {
		case err := <-waited:
			if err != nil {
				return nil, fmt.Errorf("trackwatch backfill load: %w: %s", err, stderr.String())
			}
			loop = false
		case <-tick.C:
			rss = max(rss, peakRSSMiB(cmd.Process.Pid))
		}
	}
	secs = time.Since(start).Seconds()
	res.Trackwatch = Measurement{Name: "trackwatch backfill load (process)", Events: n, Seconds: secs, EventsPerSec: float64(n) / secs, PeakRSSMiB: rss,
		Note: fmt.Sprintf("decode, validate, normalise, classify carrier wording; blocks of %d with dedup tokens and progress; includes hashing the file", o.BatchRows)}
	if err := expectTable(ctx, conn, "bench_tw", n); err != nil {
		return nil, err
	}
	return res, nil
}

// writeTrackingFile writes the tracking events of Generate as NDJSON.
func writeTrackingFile(path string, n int) (int, int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	count := 0
	// Generate makes about 80% tracking events: ask for enough, in chunks, so that a
	// large file does not need all its events in memory at once.
	for seed := uint64(1); count < n; seed++ {
		load := Generate(seed, min(1_000_000, (n-count)*5/4+100))
		for _, m := range load.Tracking {
			if count == n {
				break
			}
			w.Write(m.Value)
			w.WriteByte('\n')
			count++
		}
	}
	if err := w.Flush(); err != nil {
		return 0, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		return 0, 0, err
	}
	return count, st.Size(), nil
}

// expectTable checks that db's tracking_events holds n rows.
func expectTable(ctx context.Context, conn driver.Conn, db string, n int) error {
	var got uint64
	if err := conn.QueryRow(ctx, statements.In(db, "count_tracking_events")).Scan(&got); err != nil {
		return err
	}
	if got != uint64(n) {
		return fmt.Errorf("%s.tracking_events holds %d rows, want %d", db, got, n)
	}
	return nil
}
