package eventfile

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/klauspost/compress/zstd"
)

// Format is a file's encoding of events.
type Format string

// Formats.
const (
	NDJSON  Format = "ndjson"
	CSV     Format = "csv"
	Parquet Format = "parquet"
)

// ParseFormat checks a format's name.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case NDJSON, CSV, Parquet:
		return f, nil
	}
	return "", fmt.Errorf("format %q is not ndjson, csv or parquet", s)
}

// Compression is how a file is compressed, from its name.
type Compression string

// Compressions.
const (
	None Compression = ""
	Gzip Compression = "gzip"
	Zstd Compression = "zstd"
)

// Name tells a file's format and compression from its name: .ndjson, .jsonl or .json;
// .csv; .parquet; each optionally followed by .gz or .zst (.zstd).
func Name(path string) (Format, Compression, error) {
	base := strings.ToLower(filepath.Base(path))
	comp := None
	switch ext := filepath.Ext(base); ext {
	case ".gz", ".gzip":
		comp, base = Gzip, strings.TrimSuffix(base, ext)
	case ".zst", ".zstd":
		comp, base = Zstd, strings.TrimSuffix(base, ext)
	}
	var f Format
	switch filepath.Ext(base) {
	case ".ndjson", ".jsonl", ".json":
		f = NDJSON
	case ".csv":
		f = CSV
	case ".parquet":
		f = Parquet
	default:
		return "", "", fmt.Errorf("%s: the name does not say the format (.ndjson, .jsonl, .json, .csv or .parquet, optionally .gz or .zst)", path)
	}
	if f == Parquet && comp != None {
		return "", "", fmt.Errorf("%s: Parquet compresses inside the file; load the .parquet file itself", path)
	}
	return f, comp, nil
}

// Expand turns the arguments of a load into files, in order: a file as named, a
// directory's files with a known extension (recursively, sorted), a glob's matches
// (sorted), and "-" for standard input. An argument that names nothing is an error.
func Expand(args []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, a := range args {
		if a == "-" {
			add(a)
			continue
		}
		matches := []string{a}
		if strings.ContainsAny(a, "*?[") {
			m, err := filepath.Glob(a)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", a, err)
			}
			if len(m) == 0 {
				return nil, fmt.Errorf("%s: no file matches", a)
			}
			slices.Sort(m)
			matches = m
		}
		for _, p := range matches {
			st, err := os.Stat(p)
			if err != nil {
				return nil, err
			}
			if !st.IsDir() {
				add(p)
				continue
			}
			var inDir []string
			err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if !d.IsDir() {
					if _, _, err := Name(path); err == nil {
						inDir = append(inDir, path)
					}
				}
				return nil
			})
			if err != nil {
				return nil, err
			}
			if len(inDir) == 0 {
				return nil, fmt.Errorf("%s: the directory holds no .ndjson, .jsonl, .json, .csv or .parquet file", p)
			}
			slices.Sort(inDir)
			for _, f := range inDir {
				add(f)
			}
		}
	}
	return out, nil
}

// File is an opened event file.
type File struct {
	Reader
	Format      Format
	Compression Compression
	// Size is the file's size as stored (0 for standard input).
	Size int64
	// read counts the stored bytes consumed so far, for progress.
	read   *atomic.Int64
	closer func() error
}

// BytesRead is how much of the file as stored has been consumed (for Parquet, an
// estimate from the rows read).
func (f *File) BytesRead() int64 { return f.read.Load() }

// Close closes the file.
func (f *File) Close() error { return f.closer() }

// Open opens r (a file named path, or standard input for "-") as format, decompressing
// it as comp. Parquet needs random access, so it cannot come from standard input.
func Open(path string, r io.Reader, format Format, comp Compression) (*File, error) {
	var size int64
	closer := func() error { return nil }
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, err
		}
		size, r, closer = st.Size(), f, f.Close
	}
	out := &File{Format: format, Compression: comp, Size: size, read: new(atomic.Int64), closer: closer}
	fail := func(err error) (*File, error) {
		closer()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if format == Parquet {
		ra, ok := r.(io.ReaderAt)
		if !ok || path == "-" {
			return fail(errors.New("parquet needs a file (random access), not standard input"))
		}
		pr, err := NewParquet(countingReaderAt{ra, out.read}, size)
		if err != nil {
			return fail(err)
		}
		out.Reader = pr
		return out, nil
	}
	in := io.Reader(countingReader{r, out.read})
	switch comp {
	case Gzip:
		gz, err := gzip.NewReader(in)
		if err != nil {
			return fail(fmt.Errorf("%w: gzip: %v", ErrUnreadable, err))
		}
		in = gz
	case Zstd:
		zr, err := zstd.NewReader(in, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true))
		if err != nil {
			return fail(fmt.Errorf("%w: zstd: %v", ErrUnreadable, err))
		}
		out.closer = func() error { zr.Close(); return closer() }
		in = zr
	}
	var err error
	switch format {
	case NDJSON:
		out.Reader, err = NewNDJSON(in)
	case CSV:
		out.Reader, err = NewCSV(in)
	default:
		err = fmt.Errorf("unknown format %q", format)
	}
	if err != nil {
		return fail(err)
	}
	return out, nil
}

// DetectKind tells tracking events from order events by the fields they carry: order
// events have order_id; tracking events have tracking_number and status or raw_status
// and no order_id.
func DetectKind(fields []string) (Kind, error) {
	has := func(f string) bool { return slices.Contains(fields, f) }
	switch {
	case has("order_id"):
		return Order, nil
	case has("tracking_number") && (has("raw_status") || has("status")):
		return Tracking, nil
	case len(fields) == 0:
		return "", errors.New("no records to tell the kind of events from; name it with --topic tracking|order")
	}
	return "", fmt.Errorf("fields %s are neither tracking events (tracking_number, raw_status or status) nor order events (order_id); name the kind with --topic tracking|order",
		strings.Join(fields, ", "))
}

type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

type countingReaderAt struct {
	r io.ReaderAt
	n *atomic.Int64
}

func (c countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.n.Add(int64(n))
	return n, err
}
