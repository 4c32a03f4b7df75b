// Package backfill provides the ways into ClickHouse besides the live Kafka ingest:
// loading event files (NDJSON, CSV, Parquet; plain, gzip or zstd) and re-reading the
// topics from a moment. Both go through ingest's decoder and writer, so a backfilled
// event is validated, normalised and stored exactly as a live one.
package backfill

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/trackwatch/trackwatch/backfill/eventfile"
	"github.com/trackwatch/trackwatch/feeds"
	"github.com/trackwatch/trackwatch/ingest"
)

// Loader loads event files into ClickHouse. Loads are idempotent and resumable: each
// file's progress is recorded in backfill_files after every block it stores, so a load
// started again after a crash goes on after the last stored block, and a file loaded
// before (the same bytes, under any name) is skipped.
type Loader struct {
	// Conn reads and writes the progress table; Writer stores the events.
	Conn     driver.Conn
	Database string
	Writer   *ingest.Writer
	// Topics name the topic each kind of event travels on: file rows and dead letters
	// carry it (partition -1), and `dlq replay` sends a file's dead letters there.
	TrackingTopic, OrderTopic string
	// BatchRows is the records per block. Default 20000. A resumed load keeps the
	// size it started with, so its blocks and their deduplication tokens are the same.
	BatchRows int
	// Kind, when set, is the kind of every file's events; otherwise each file's fields
	// tell it.
	Kind eventfile.Kind
	// Format, when set, overrides the format told by a file's name; standard input
	// needs it.
	Format eventfile.Format
	// Provider, when set (aftership, 17track, ..., shopify; package feeds), reads every
	// file as NDJSON of that provider's JSON: one saved webhook body or tracking API
	// response per line, mapped into contract events as the webhooks are. A line that
	// cannot be mapped is dead-lettered (reason unmapped). Marketplace goes with the
	// order events it maps (shopify).
	Provider, Marketplace string
	// Compression applies to standard input (files say theirs by name).
	Compression eventfile.Compression
	// Writers is how many blocks are stored at once. Default 2.
	Writers int
	// Progress is told how each file goes; nil reports nothing.
	Progress Progress
	Logger   *slog.Logger
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Stdin is read for the file "-"; nil is os.Stdin.
	Stdin io.Reader
	// Hooks let tests stop the process where a crash matters; nil hooks are skipped.
	Hooks Hooks
}

// Hooks are called with the file and the block's last position: after a block is
// stored and before its progress is recorded, and after that.
type Hooks struct {
	AfterInsert, AfterProgress func(path string, last int64)
}

// Progress follows a load.
type Progress interface {
	// Start is called when a file's records start to be read; size is its size as
	// stored (0 when unknown), done what an earlier load already stored.
	Start(path string, size int64, done int64)
	// Advance reports the stored bytes consumed and the records read so far.
	Advance(bytes, records int64)
	// Finish is called with each file's result, also for skipped files.
	Finish(FileResult)
}

// FileResult is what a load did with one file.
type FileResult struct {
	Path   string           `json:"path"`
	FileID string           `json:"file_id,omitempty"`
	Kind   eventfile.Kind   `json:"kind"`
	Format eventfile.Format `json:"format"`
	// LoadedBefore: an earlier load stored the whole file; nothing was read.
	LoadedBefore bool `json:"loaded_before"`
	// Records read in this load (records stored by an earlier one are not counted).
	Records uint64 `json:"records"`
	// Rows stored by this load; AlreadyPresent stored by an earlier, interrupted or
	// complete, load of the same file.
	Rows           uint64 `json:"rows"`
	AlreadyPresent uint64 `json:"already_present"`
	// Duplicates repeated an event_id of the same block and were dropped.
	Duplicates   uint64  `json:"duplicates"`
	DeadLettered uint64  `json:"dead_lettered"`
	Seconds      float64 `json:"seconds"`
}

// progressRow is a backfill_files row.
type progressRow struct {
	FileID       string    `ch:"file_id"`
	Path         string    `ch:"path"`
	Kind         string    `ch:"kind"`
	Format       string    `ch:"format"`
	Size         uint64    `ch:"size"`
	BatchRows    uint32    `ch:"batch_rows"`
	Position     int64     `ch:"position"`
	Records      uint64    `ch:"records"`
	RowsStored   uint64    `ch:"rows_stored"`
	Duplicates   uint64    `ch:"duplicates"`
	DeadLettered uint64    `ch:"dead_lettered"`
	Done         bool      `ch:"done"`
	StartedAt    time.Time `ch:"started_at"`
	UpdatedAt    time.Time `ch:"updated_at"`
}

func (l *Loader) now() time.Time {
	if l.Now != nil {
		return l.Now().UTC()
	}
	return time.Now().UTC()
}

func (l *Loader) log() *slog.Logger {
	if l.Logger != nil {
		return l.Logger
	}
	return slog.Default()
}

// Check opens each file (not standard input) to tell its format and kind, and returns
// every file that cannot be loaded, so that a load of a directory does not stop half-way
// on a file that was never an event file.
func (l *Loader) Check(paths []string) error {
	var errs []error
	for _, p := range paths {
		if p == "-" {
			continue
		}
		format, comp, err := eventfile.Name(p)
		if l.Format != "" {
			format, err = l.Format, nil
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		f, err := eventfile.Open(p, nil, format, comp)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if l.Kind == "" {
			if _, err := eventfile.DetectKind(f.Fields()); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", p, err))
			}
		}
		f.Close()
	}
	return errors.Join(errs...)
}

// Load loads each path in turn ("-" is standard input) and returns the results so
// far. It stops at the first file that cannot be read or stored; what that file had
// stored is recorded, so the same command started again goes on from there.
func (l *Loader) Load(ctx context.Context, paths []string) ([]FileResult, error) {
	var out []FileResult
	for _, p := range paths {
		res, err := l.LoadFile(ctx, p)
		if err != nil {
			return out, err
		}
		out = append(out, res)
	}
	return out, nil
}

// LoadFile loads one file ("-" is standard input).
func (l *Loader) LoadFile(ctx context.Context, path string) (FileResult, error) {
	start := time.Now()
	res := FileResult{Path: path}
	format, comp := l.Format, l.Compression
	if path != "-" {
		f, c, err := eventfile.Name(path)
		if err != nil && format == "" {
			return res, err
		}
		if format == "" {
			format = f
		}
		comp = c
	} else if format == "" {
		return res, errors.New("standard input: name its format with --format ndjson|csv")
	}
	if l.Provider != "" {
		format = eventfile.NDJSON
	}
	res.Format = format
	batch := l.BatchRows
	if batch <= 0 {
		batch = 20_000
	}
	var prog progressRow
	resumable := path != "-"
	if resumable {
		id, err := fileID(path)
		if err != nil {
			return res, err
		}
		res.FileID = id
		found, err := l.readProgress(ctx, id, &prog)
		if err != nil {
			return res, err
		}
		if found && prog.Done {
			res.Kind, res.LoadedBefore, res.AlreadyPresent = eventfile.Kind(prog.Kind), true, prog.RowsStored
			l.log().Info("file loaded before; skipped", "path", path, "loaded_as", prog.Path, "rows", prog.RowsStored, "at", prog.UpdatedAt)
			l.finish(res)
			return res, nil
		}
		if found {
			batch = int(prog.BatchRows)
			res.AlreadyPresent = prog.RowsStored
			l.log().Info("resuming an interrupted load", "path", path, "after_position", prog.Position, "rows_stored", prog.RowsStored)
		} else {
			prog = progressRow{FileID: id, BatchRows: uint32(batch), StartedAt: l.now()}
		}
		prog.Path, prog.Format = path, string(format)
	}
	stdin := l.Stdin
	if stdin == nil {
		stdin = os.Stdin
	}
	f, err := eventfile.Open(path, stdin, format, comp)
	if err != nil {
		return res, err
	}
	defer f.Close()
	kind := l.Kind
	switch {
	case l.Provider == feeds.Shopify:
		kind = eventfile.Order
	case l.Provider != "":
		kind = eventfile.Tracking
	}
	if kind == "" {
		if kind, err = eventfile.DetectKind(f.Fields()); err != nil {
			return res, fmt.Errorf("%s: %w", path, err)
		}
	}
	if prog.Kind != "" && prog.Kind != string(kind) {
		return res, fmt.Errorf("%s: an earlier load stored its first records as %s events; it cannot go on as %s", path, prog.Kind, kind)
	}
	res.Kind, prog.Kind = kind, string(kind)
	if p := l.Progress; p != nil {
		p.Start(path, f.Size, prog.Position)
	}
	err = l.copy(ctx, f, &res, &prog, batch, resumable)
	res.Seconds = time.Since(start).Seconds()
	if err != nil {
		return res, fmt.Errorf("%s: %w", path, err)
	}
	l.finish(res)
	return res, nil
}

func (l *Loader) finish(res FileResult) {
	if l.Progress != nil {
		l.Progress.Finish(res)
	}
}

// copy reads f's records after prog.Position into blocks of batch records and stores
// each, recording the progress after it.
func (l *Loader) copy(ctx context.Context, f *eventfile.File, res *FileResult, prog *progressRow, batch int, resumable bool) error {
	evKind := ingest.TrackingEvents
	if res.Kind == eventfile.Order {
		evKind = ingest.OrderEvents
	}
	// Blocks fill while earlier ones are stored, Writers of them at once, so that
	// reading and decoding overlap the inserts; progress is recorded in file order, a
	// block's only once every block before it is stored.
	writers := l.Writers
	if writers <= 0 {
		writers = 2
	}
	free := make(chan ingest.Block, writers+1)
	for range writers + 1 {
		free <- l.Writer.NewBlock(evKind)
	}
	type job struct {
		seq   int
		block ingest.Block
		token string
		prog  progressRow // the progress once the block and all before it are stored
		n     int
	}
	jobs := make(chan job)
	inserted := make(chan job, writers+1)
	wctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	var wg sync.WaitGroup
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				if j.n > 0 {
					if err := l.Writer.Write(wctx, j.block, j.token); err != nil {
						stop(err)
						return
					}
				}
				inserted <- j
			}
		}()
	}
	recorded := make(chan struct{})
	go func() {
		defer close(recorded)
		next, failed := 0, false
		waiting := map[int]job{}
		for j := range inserted {
			waiting[j.seq] = j
			for !failed {
				p, ok := waiting[next]
				if !ok {
					break
				}
				delete(waiting, next)
				next++
				if err := l.record(wctx, &p.prog, p.n, resumable); err != nil {
					stop(err)
					failed = true
					break
				}
				p.block.Reset()
				free <- p.block
			}
		}
	}()
	seq := 0
	block := <-free
	topic := l.TrackingTopic
	if evKind == ingest.OrderEvents {
		topic = l.OrderTopic
	}
	name := res.Path
	if name == "-" {
		name = "<stdin>"
	}
	at := l.now()
	var first, last int64 = -1, -1
	n := 0
	var tokenHash = sha256.New() // standard input: blocks are named by their content
	flush := func(done bool) error {
		j := job{seq: seq, block: block, n: n}
		seq++
		if n > 0 {
			j.token = res.FileID
			if !resumable {
				j.token = "stdin:" + hex.EncodeToString(tokenHash.Sum(nil)[:16])
				tokenHash.Reset()
			}
			j.token += ":" + strconv.FormatInt(first, 10) + "-" + strconv.FormatInt(last, 10)
			prog.Position = last
		}
		prog.Done, prog.UpdatedAt = done, l.now()
		j.prog = *prog
		select {
		case jobs <- j:
		case <-wctx.Done():
			return context.Cause(wctx)
		}
		select {
		case block = <-free:
		case <-wctx.Done():
			return context.Cause(wctx)
		}
		n, first = 0, -1
		if l.Progress != nil {
			l.Progress.Advance(f.BytesRead(), int64(prog.Records))
		}
		return nil
	}
	finish := func(err error) error {
		close(jobs)
		wg.Wait()
		close(inserted)
		<-recorded
		if err == nil {
			err = context.Cause(wctx)
		}
		return err
	}
	for {
		if err := ctx.Err(); err != nil {
			return finish(err)
		}
		rec, err := f.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return finish(err)
		}
		if rec.Pos <= prog.Position {
			continue // stored by an earlier load
		}
		if first < 0 {
			first = rec.Pos
		}
		last = rec.Pos
		n++
		prog.Records++
		res.Records++
		src := ingest.Source{Topic: topic, Partition: -1, File: name, Line: rec.Pos}
		var outcomes []ingest.Outcome
		switch {
		case rec.Bad != nil:
			outcomes = append(outcomes, block.Reject(rec.JSON, src, at, ingest.ReasonBadRecord, rec.Bad.Error()))
		case l.Provider != "":
			outcomes = l.addMapped(block, rec.JSON, src, at)
		default:
			outcomes = append(outcomes, block.Add(rec.JSON, nil, src, at))
		}
		for _, outcome := range outcomes {
			switch outcome {
			case ingest.Inserted:
				res.Rows++
				prog.RowsStored++
			case ingest.Duplicate:
				res.Duplicates++
				prog.Duplicates++
			case ingest.DeadLettered:
				res.DeadLettered++
				prog.DeadLettered++
			}
		}
		if !resumable {
			tokenHash.Write(rec.JSON)
		}
		if n >= batch {
			if err := flush(false); err != nil {
				return finish(err)
			}
		}
	}
	return finish(flush(true))
}

// record records the progress after a stored block (n records; 0 for the end of a
// file), calling the hooks around it.
func (l *Loader) record(ctx context.Context, prog *progressRow, n int, resumable bool) error {
	if h := l.Hooks.AfterInsert; h != nil && n > 0 {
		h(prog.Path, prog.Position)
	}
	if !resumable || (n == 0 && !prog.Done) {
		return nil
	}
	err := l.Writer.Retry(ctx, "record_backfill_progress", func(ctx context.Context) error { return l.writeProgress(ctx, prog) })
	if err != nil {
		return err
	}
	if h := l.Hooks.AfterProgress; h != nil && n > 0 {
		h(prog.Path, prog.Position)
	}
	return nil
}

// fileID is the SHA-256 of the file's bytes as stored.
func fileID(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func (l *Loader) readProgress(ctx context.Context, id string, p *progressRow) (bool, error) {
	var rows []progressRow
	err := l.Conn.Select(ctx, &rows, statements.In(l.Database, "read_progress"), clickhouse.Named("id", id))
	if err != nil {
		return false, fmt.Errorf("read backfill progress: %w", err)
	}
	if len(rows) == 0 {
		return false, nil
	}
	*p = rows[0]
	return true, nil
}

func (l *Loader) writeProgress(ctx context.Context, p *progressRow) error {
	b, err := l.Conn.PrepareBatch(ctx, statements.In(l.Database, "record_progress"))
	if err != nil {
		return fmt.Errorf("record backfill progress: %w", err)
	}
	if err := b.AppendStruct(p); err != nil {
		_ = b.Abort()
		return fmt.Errorf("record backfill progress: %w", err)
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("record backfill progress: %w", err)
	}
	return nil
}

// FileProgress is a file a backfill started, as recorded.
type FileProgress struct {
	FileID       string    `ch:"file_id" json:"file_id"`
	Path         string    `ch:"path" json:"path"`
	Kind         string    `ch:"kind" json:"kind"`
	Format       string    `ch:"format" json:"format"`
	Size         uint64    `ch:"size" json:"size"`
	BatchRows    uint32    `ch:"batch_rows" json:"batch_rows"`
	Position     int64     `ch:"position" json:"position"`
	Records      uint64    `ch:"records" json:"records"`
	RowsStored   uint64    `ch:"rows_stored" json:"rows_stored"`
	Duplicates   uint64    `ch:"duplicates" json:"duplicates"`
	DeadLettered uint64    `ch:"dead_lettered" json:"dead_lettered"`
	Done         bool      `ch:"done" json:"done"`
	StartedAt    time.Time `ch:"started_at" json:"started_at"`
	UpdatedAt    time.Time `ch:"updated_at" json:"updated_at"`
}

// Files lists the files backfills started, the most recently updated first; unfinished
// only leaves out the loaded ones.
func Files(ctx context.Context, conn driver.Conn, db string, unfinished bool, limit int) ([]FileProgress, error) {
	if limit <= 0 {
		limit = 100
	}
	var out []FileProgress
	if err := conn.Select(ctx, &out, statements.In(db, "files"), clickhouse.Named("unfinished", unfinished), clickhouse.Named("limit", uint32(limit))); err != nil {
		return nil, fmt.Errorf("list backfill files: %w", err)
	}
	return out, nil
}

// ReasonUnmapped is the dead-letter reason of a provider's line that cannot be mapped
// into contract events (Loader.Provider).
const ReasonUnmapped = "unmapped"

// addMapped maps one line of the provider's JSON into contract events and adds each to
// block, all at the line's position.
func (l *Loader) addMapped(block ingest.Block, line []byte, src ingest.Source, at time.Time) []ingest.Outcome {
	events, err := feeds.Map(l.Provider, line, feeds.Source{Marketplace: l.Marketplace})
	if err != nil {
		return []ingest.Outcome{block.Reject(line, src, at, ReasonUnmapped, err.Error())}
	}
	msgs, err := feeds.Messages(events, "", "")
	if err != nil {
		return []ingest.Outcome{block.Reject(line, src, at, ReasonUnmapped, err.Error())}
	}
	out := make([]ingest.Outcome, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, block.Add(m.Value, m.Key, src, at))
	}
	return out
}
