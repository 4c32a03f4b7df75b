package eventfile

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// The JSON object plan is shared by the CSV and Parquet readers: both have flat
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
