package eventfile

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
)

// MaxLine is the longest NDJSON line kept whole. A longer line is a bad record holding
// its first MaxLine bytes: such a line could not be a valid event anyway (the ingest's
// max_message_bytes is at most 64 MiB), and keeping it whole would let one line take
// the memory a backfill is allowed.
const MaxLine = 64 << 20

// ndjson reads one JSON object per line. Blank lines are skipped; a line is not checked
// here, the decoder judges it as it judges a Kafka message.
type ndjson struct {
	r      *bufio.Reader
	line   int64
	buf    []byte
	fields []string
	peeked *Record // the first record, read to learn the fields
	err    error
}

// NewNDJSON returns a reader of newline-delimited JSON from r.
func NewNDJSON(r io.Reader) (Reader, error) {
	n := &ndjson{r: bufio.NewReaderSize(r, 256<<10)}
	rec, err := n.next()
	switch {
	case errors.Is(err, io.EOF):
		return n, nil
	case err != nil:
		return nil, err
	}
	n.fields = topLevelKeys(rec.JSON)
	rec.JSON = slices.Clone(rec.JSON)
	n.peeked = &rec
	return n, nil
}

func (n *ndjson) Fields() []string { return n.fields }

func (n *ndjson) Next() (Record, error) {
	if n.peeked != nil {
		r := *n.peeked
		n.peeked = nil
		return r, nil
	}
	return n.next()
}

func (n *ndjson) next() (Record, error) {
	if n.err != nil {
		return Record{}, n.err
	}
	for {
		n.buf = n.buf[:0]
		n.line++
		tooLong := false
		for {
			chunk, err := n.r.ReadSlice('\n')
			if len(n.buf)+len(chunk) <= MaxLine {
				n.buf = append(n.buf, chunk...)
			} else {
				n.buf = append(n.buf, chunk[:MaxLine-len(n.buf)]...)
				tooLong = true
			}
			if errors.Is(err, bufio.ErrBufferFull) {
				continue
			}
			if err != nil && !errors.Is(err, io.EOF) {
				n.err = unreadable("line %d: %v", n.line, err)
				return Record{}, n.err
			}
			if errors.Is(err, io.EOF) && len(n.buf) == 0 {
				n.err = io.EOF
				return Record{}, io.EOF
			}
			if errors.Is(err, io.EOF) {
				n.err = io.EOF // the last line had no newline: return it, then EOF
			}
			break
		}
		line := bytes.TrimSpace(n.buf)
		if tooLong {
			return Record{Pos: n.line, JSON: n.buf, Bad: fmt.Errorf("line %d is over %d bytes", n.line, MaxLine)}, nil
		}
		if len(line) == 0 {
			if n.err != nil {
				return Record{}, n.err
			}
			continue
		}
		return Record{Pos: n.line, JSON: line}, nil
	}
}

// topLevelKeys returns the keys of a JSON object, or nil when it is not one.
func topLevelKeys(b []byte) []string {
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
