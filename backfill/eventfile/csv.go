package eventfile

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// maxRawRow bounds the text kept of one CSV row for the dead-letter table: a row past
// it (an unbalanced quote swallowing the rest of a file, say) is re-encoded from its
// fields instead, so a bad file cannot make the reader hold it twice.
const maxRawRow = 1 << 20

// NewCSV reads a CSV file whose first line is a header naming the contract fields;
// nested fields are named with dots (location.country, ship_to.postal_code). Each
// row becomes a JSON object: an empty cell leaves its field out, protection_days and
// protection_extended_days become integers and amount a number when they parse as
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
	case "amount":
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

// The JSON object plan below is shared by the CSV and Parquet readers: both have flat
// columns whose names or groups say where in the contract object a value goes.

// planColumn is one column of a table: its name as the file has it (for errors) and
// its path in the JSON object.
type planColumn struct {
	name string
	path []string
}

// objectPlan lays a table's columns out as one nested JSON object, computed once per
// file so that a row is written by walking steps, with no map or reflection. Columns
// sharing a parent are written together whatever their order in the file, so that
// no key is written twice.
type objectPlan struct {
	steps []planStep
	top   []string // top-level names, in the order of the columns
}

type stepOp uint8

const (
	stepLeaf  stepOp = iota // a column's value, if the row has one
	stepOpen                // the start of a nested object
	stepClose               // its end
)

type planStep struct {
	op  stepOp
	col int    // stepLeaf: the column's index
	key []byte // stepLeaf, stepOpen: `"name":`, escaped
}

type planNode struct {
	name     string
	col      int // -1 for an object
	by       string
	children []*planNode
	index    map[string]*planNode
}

// newObjectPlan plans the columns' layout. A column with a nil path is left out (a
// Parquet list, say). Columns must have distinct paths of non-empty names, and no
// column may be both a field and the parent of another.
func newObjectPlan(cols []planColumn) (*objectPlan, error) {
	root := &planNode{col: -1, index: map[string]*planNode{}}
	p := &objectPlan{}
	for i, c := range cols {
		if c.path == nil {
			continue
		}
		if c.name == "" {
			return nil, fmt.Errorf("column %d has no name", i+1)
		}
		n := root
		for depth, name := range c.path {
			if name == "" {
				return nil, fmt.Errorf("column %d %q: a dotted name with an empty part", i+1, c.name)
			}
			leaf := depth == len(c.path)-1
			child := n.index[name]
			switch {
			case child == nil:
				child = &planNode{name: name, col: -1, by: c.name}
				if leaf {
					child.col = i
				} else {
					child.index = map[string]*planNode{}
				}
				n.index[name] = child
				n.children = append(n.children, child)
				if n == root {
					p.top = append(p.top, name)
				}
			case leaf && child.col >= 0:
				return nil, fmt.Errorf("column %d %q: a second column of that name", i+1, c.name)
			case leaf:
				return nil, fmt.Errorf("column %d %q: both a field and the parent of %q", i+1, c.name, child.by)
			case child.col >= 0:
				return nil, fmt.Errorf("column %d %q: %q is both a field and a parent", i+1, c.name, child.by)
			}
			n = child
		}
	}
	p.addSteps(root)
	return p, nil
}

func (p *objectPlan) addSteps(n *planNode) {
	for _, c := range n.children {
		key, _ := json.Marshal(c.name) // a string always marshals
		key = append(key, ':')
		if c.col >= 0 {
			p.steps = append(p.steps, planStep{op: stepLeaf, col: c.col, key: key})
			continue
		}
		p.steps = append(p.steps, planStep{op: stepOpen, col: -1, key: key})
		p.addSteps(c)
		p.steps = append(p.steps, planStep{op: stepClose, col: -1})
	}
}

// A value never ends in '{', so a buffer ending in one is an object with no field yet:
// no comma is due, and an object closed so is taken back out.

// appendKey appends a field's key, after a comma unless it is the object's first.
func appendKey(b, key []byte) []byte {
	if b[len(b)-1] != '{' {
		b = append(b, ',')
	}
	return append(b, key...)
}

// objectOpen appends the start of a nested object and returns where it began, for
// objectClose.
func objectOpen(b, key []byte) ([]byte, int) {
	mark := len(b)
	return append(appendKey(b, key), '{'), mark
}

// objectClose ends the object opened at mark, or takes it out if it got no field: a
// group of empty cells is left out, as an empty cell is.
func objectClose(b []byte, mark int) []byte {
	if b[len(b)-1] == '{' {
		return b[:mark]
	}
	return append(b, '}')
}

// Bytes in a word, for appendJSONString: lsb*c has c in each byte, and msb flags them.
const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// swarZero has the top bit set in each byte of x that is zero (and maybe in bytes
// above one that is, which only makes a word be looked at byte by byte).
func swarZero(x uint64) uint64 { return (x - lsb) &^ x }

// swarLess has the top bit set in each byte of x that is less than n (n <= 128), with
// the same caveat.
func swarLess(x uint64, n byte) uint64 { return (x - lsb*uint64(n)) &^ x }

// appendJSONString appends s as a JSON string, escaped as encoding/json does (invalid
// UTF-8 becomes U+FFFD) but without its HTML escaping, which JSON does not need.
func appendJSONString[T ~string | ~[]byte](b []byte, s T) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		// Eight bytes at a time while none needs a look: most text is plain ASCII.
		for i+8 <= len(s) {
			x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
				uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
			if (x|swarLess(x, 0x20)|swarZero(x^(lsb*'"'))|swarZero(x^(lsb*'\\')))&msb != 0 {
				break
			}
			i += 8
		}
		if i == len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		var rb [utf8.UTFMax]byte
		r, size := utf8.DecodeRune(rb[:copy(rb[:], s[i:])])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			// Valid JSON, but not valid JavaScript: encoding/json escapes them too.
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
