// Package eventfile reads v1 contract events from files: NDJSON, CSV with a header, and
// Parquet, plain or compressed (gzip, zstd). Each record comes out as the contract JSON
// object the Kafka path receives, with its line or row, so that a file's events are
// decoded, validated and normalised exactly as Kafka messages are.
package eventfile

import (
	"errors"
	"fmt"
)

// Kind is which contract a file's events follow, and so which table they go to.
type Kind string

// Kinds of events.
const (
	Tracking Kind = "tracking"
	Order    Kind = "order"
)

// Record is one event read from a file: the v1 contract JSON object the Kafka path would
// receive, and where it is in the file.
type Record struct {
	// Pos is the record's position: the line for NDJSON and CSV (where the record starts;
	// a CSV header is line 1), the row for Parquet; 1-based.
	Pos int64
	// JSON is the event as a contract JSON object. For NDJSON it is the line as given
	// (not checked here: the decoder judges it); for CSV and Parquet it is built from the
	// row. When Bad is set it holds the record's original text instead.
	JSON []byte
	// Bad, when set, says why the record could not be turned into JSON (a CSV row with
	// the wrong number of fields, say): the record goes to the dead-letter table.
	Bad error
}

// Reader reads a file's records in order. Next returns io.EOF after the last one. An
// error other than io.EOF means the rest of the file cannot be read (a truncated gzip
// stream, a corrupt Parquet footer); a bad record is a Record with Bad set, and reading
// goes on. The returned JSON is valid until the next call.
type Reader interface {
	Next() (Record, error)
	// Fields are the top-level contract fields the file's records carry (for CSV and
	// Parquet the columns' first path element, e.g. "location" for "location.country";
	// for NDJSON the keys of the first object), from which the file's Kind is told.
	Fields() []string
}

// ErrUnreadable wraps the errors that make a whole file, or its rest, unreadable.
var ErrUnreadable = errors.New("unreadable file")

func unreadable(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUnreadable, fmt.Sprintf(format, args...))
}
