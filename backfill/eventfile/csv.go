package eventfile

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxRawRow bounds the text kept of one CSV row for the dead-letter table: a row past
// it (an unbalanced quote swallowing the rest of a file, say) is re-encoded from its
// fields instead, so a bad file cannot make the reader hold it twice.
const maxRawRow = 1 << 20

// NewCSV reads a CSV file whose first line is a header naming the contract fields;
// nested fields are named with dots (location.country, ship_to.postal_code). Each
// row becomes a JSON object: an empty cell leaves its field out, protection_days and
// protection_extended_days become integers and amount and refund_amount numbers when they parse as
// such, and every other cell is a string. A UTF-8 byte order mark is skipped.
//
// The header must name every column, once, and no name may be both a field and the
// parent of others (location and location.city); otherwise NewCSV returns an error
// wrapping ErrUnreadable.
func NewCSV(r io.Reader) (Reader, error) {
	// A spreadsheet's "CSV UTF-8" export starts with a BOM, which encoding/csv would
	// keep as part of the first column's name.
	var head [3]byte
	n, err := io.ReadFull(r, head[:])
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return nil, fmt.Errorf("%w: reading the header: %w", ErrUnreadable, err)
	}
	src := r
	if n < 3 || head != [3]byte{0xEF, 0xBB, 0xBF} {
		src = io.MultiReader(bytes.NewReader(head[:n]), r)
	}
	rec := &rawRecorder{r: src, max: maxRawRow}
	cr := csv.NewReader(rec)
	cr.FieldsPerRecord = -1 // a short or long row is a bad record, not the end of the file
	cr.ReuseRecord = true

	header, err := cr.Read()
	switch {
	case err == io.EOF:
		return nil, unreadable("no header: the file is empty")
	case err != nil:
		return nil, fmt.Errorf("%w: header: %w", ErrUnreadable, err)
	}
	cols := make([]planColumn, len(header))
	kinds := make([]cellKind, len(header))
	for i, h := range header {
		// Hand-edited headers often have a space after the comma.
		name := strings.TrimSpace(h)
		cols[i] = planColumn{name: name, path: strings.Split(name, ".")}
		kinds[i] = csvCellKind(name)
	}
	plan, err := newObjectPlan(cols)
	if err != nil {
		return nil, fmt.Errorf("%w: header: %w", ErrUnreadable, err)
	}
	return &csvReader{cr: cr, rec: rec, plan: plan, kinds: kinds, width: len(header)}, nil
}

// cellKind is what JSON value a CSV cell becomes.
type cellKind uint8

const (
	cellString cellKind = iota
	cellInt
	cellNumber
)

// csvCellKind says which contract fields are numbers: CSV has no types, and the
// decoder refuses a quoted number.
func csvCellKind(name string) cellKind {
	switch name {
	case "protection_days", "protection_extended_days":
		return cellInt
	case "amount", "refund_amount":
		return cellNumber
	}
	return cellString
}

type csvReader struct {
	cr    *csv.Reader
	rec   *rawRecorder
	plan  *objectPlan
	kinds []cellKind // by column
	width int        // the header's number of columns
	line  int        // where the last record started, for errors past it
	buf   []byte     // the JSON handed out, reused
	marks []int      // objectOpen's marks, reused
	raw   bytes.Buffer
	err   error // sticky: io.EOF or why the rest cannot be read
}

// Next returns the next row.
func (c *csvReader) Next() (Record, error) {
	if c.err != nil {
		return Record{}, c.err
	}
	start := c.cr.InputOffset()
	c.rec.forget(start)
	row, err := c.cr.Read()
	end := c.cr.InputOffset()
	if err != nil {
		var pe *csv.ParseError
		if !errors.As(err, &pe) {
			if err == io.EOF {
				c.err = io.EOF
			} else {
				c.err = fmt.Errorf("%w: reading after line %d: %w", ErrUnreadable, c.line, err)
			}
			return Record{}, c.err
		}
		c.line = pe.StartLine
		bad := fmt.Errorf("line %d, column %d: %w", pe.Line, pe.Column, pe.Err)
		if pe.Line != pe.StartLine {
			bad = fmt.Errorf("line %d: %w", pe.StartLine, bad)
		}
		return Record{Pos: int64(pe.StartLine), JSON: c.rawRow(start, end, row), Bad: bad}, nil
	}
	c.line, _ = c.cr.FieldPos(0)
	if len(row) != c.width {
		return Record{
			Pos:  int64(c.line),
			JSON: c.rawRow(start, end, row),
			Bad:  fmt.Errorf("line %d: %d fields, header has %d", c.line, len(row), c.width),
		}, nil
	}
	c.buf = c.appendRow(c.buf[:0], row)
	return Record{Pos: int64(c.line), JSON: c.buf}, nil
}

// appendRow appends row as a contract JSON object, following the plan.
func (c *csvReader) appendRow(b []byte, row []string) []byte {
	b = append(b, '{')
	marks := c.marks[:0]
	for i := range c.plan.steps {
		s := &c.plan.steps[i]
		switch s.op {
		case stepLeaf:
			cell := row[s.col]
			if cell == "" {
				continue
			}
			kind := c.kinds[s.col]
			if kind == cellString {
				b = appendJSONString(appendKey(b, s.key), cell)
				continue
			}
			num := strings.TrimSpace(cell)
			switch {
			case num == "":
				// A blank number is no number, as an empty cell is.
			case isJSONNumber(num, kind == cellInt):
				b = append(appendKey(b, s.key), num...)
			default:
				// A string where the contract has a number: the decoder rejects the
				// event naming the field, which is what the producer needs to hear.
				b = appendJSONString(appendKey(b, s.key), cell)
			}
		case stepOpen:
			var m int
			b, m = objectOpen(b, s.key)
			marks = append(marks, m)
		case stepClose:
			b = objectClose(b, marks[len(marks)-1])
			marks = marks[:len(marks)-1]
		}
	}
	c.marks = marks
	return append(b, '}')
}

// rawRow is a bad row's text for the dead-letter table: as the file has it when the
// recorder still holds it, else its fields written back as CSV.
func (c *csvReader) rawRow(start, end int64, fields []string) []byte {
	if raw, ok := c.rec.span(start, end); ok {
		// encoding/csv skips blank lines before a record and counts them in its offset.
		raw = bytes.TrimLeft(raw, "\r\n")
		raw = bytes.TrimSuffix(raw, []byte("\n"))
		return bytes.TrimSuffix(raw, []byte("\r"))
	}
	c.raw.Reset()
	w := csv.NewWriter(&c.raw)
	_ = w.Write(fields) // a bytes.Buffer does not fail
	w.Flush()
	return bytes.TrimSuffix(c.raw.Bytes(), []byte("\n"))
}

// Fields returns the header's top-level names.
func (c *csvReader) Fields() []string { return c.plan.top }

// rawRecorder keeps the bytes the CSV parser has read since the current record began,
// so that a bad row reaches the dead-letter table as the producer wrote it. It holds
// one record and the parser's read-ahead, up to max bytes.
type rawRecorder struct {
	r    io.Reader
	buf  []byte
	base int64 // the stream offset of buf[0]; base+len(buf) is all that was read
	max  int
}

func (t *rawRecorder) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if len(t.buf)+n > t.max {
		// Too long a record to keep: its text is lost, not the memory.
		t.base += int64(len(t.buf) + n)
		t.buf = t.buf[:0]
	} else {
		t.buf = append(t.buf, p[:n]...)
	}
	return n, err
}

// span returns the stream's bytes from..to, if still held.
func (t *rawRecorder) span(from, to int64) ([]byte, bool) {
	if from < t.base || from > to || to > t.base+int64(len(t.buf)) {
		return nil, false
	}
	return t.buf[from-t.base : to-t.base], true
}

// forget lets go of the bytes before offset off. It moves the rest down only once
// the dead part is at least as long, so that each byte is copied about once.
func (t *rawRecorder) forget(off int64) {
	d := off - t.base
	if d <= 0 || d > int64(len(t.buf)) || d < int64(len(t.buf))/2 {
		return
	}
	t.buf = t.buf[:copy(t.buf, t.buf[d:])]
	t.base = off
}

// isJSONNumber reports whether s is a JSON number (an integer when intOnly): the text is
// then written as given, and anything else would make the object invalid JSON.
func isJSONNumber(s string, intOnly bool) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i == len(s):
		return false
	case s[i] == '0':
		i++
	case s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if intOnly {
		return i == len(s)
	}
	if i < len(s) && s[i] == '.' {
		i++
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == j {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == j {
			return false
		}
	}
	return i == len(s)
}
