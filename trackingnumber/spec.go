package trackingnumber

import (
	"crypto/sha256"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"regexp/syntax"
	"slices"
	"sort"
	"strings"
	"unicode"
)

// The specification's courier files (tracking_number_data's couriers/*.json) and
// trackwatch's own files (formats/*.json) share one shape: a courier with its formats,
// each a regular expression with named groups (SerialNumber, CheckDigit, and lookups'
// groups), an optional checksum and its parameters, lookups (service types, countries),
// and test numbers, valid and invalid.
type courierFile struct {
	Name        string       `json:"name"`
	CourierCode string       `json:"courier_code"`
	Source      string       `json:"source"` // trackwatch's files: where the formats come from
	Formats     []formatFile `json:"tracking_numbers"`
}

type formatFile struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Source      string          `json:"source"`
	Regex       json.RawMessage `json:"regex"` // a string, or a list of strings joined
	Validation  struct {
		Checksum           *Checksum `json:"checksum"`
		SerialNumberFormat *struct {
			PrependIf *struct {
				MatchesRegex string `json:"matches_regex"`
				Content      string `json:"content"`
			} `json:"prepend_if"`
		} `json:"serial_number_format"`
		Additional *struct {
			Exists []string `json:"exists"`
		} `json:"additional"`
	} `json:"validation"`
	Additional  []additionalFile `json:"additional"`
	TestNumbers struct {
		Valid   []string `json:"valid"`
		Invalid []string `json:"invalid"`
	} `json:"test_numbers"`
}

type additionalFile struct {
	Name           string `json:"name"`
	RegexGroupName string `json:"regex_group_name"`
	Lookup         []struct {
		Matches      string `json:"matches"`
		MatchesRegex string `json:"matches_regex"`
		Name         string `json:"name"`
		Country      string `json:"country"`
		Courier      string `json:"courier"`
	} `json:"lookup"`
}

// Courier is one courier's formats.
type Courier struct {
	Code    string // the specification's courier_code, or trackwatch's
	Name    string
	Formats []*Format
}

// Format is one tracking-number format of a courier.
type Format struct {
	Courier *Courier
	Name    string
	// Source is where the format is defined: the specification's file, or the carrier's
	// publication trackwatch wrote it from.
	Source string
	// Valid and Invalid are the format's published test numbers.
	Valid, Invalid []string

	re       *regexp.Regexp
	minLen   int // the shortest and longest number the regex can match (-1: unbounded)
	maxLen   int
	first    *[256]bool // the bytes a matching number can start with; nil: any
	checksum *Checksum
	prepend  *prependRule
	lookups  []lookup
	exists   map[string]bool // lookups that must match for the number to be valid
}

// Checksum returns the format's check-digit algorithm, nil if it has none.
func (f *Format) Checksum() *Checksum { return f.checksum }

type prependRule struct {
	unless  *regexp.Regexp // the rule's "(?!X)" lookahead, as a prefix test: prepend unless it matches
	matches *regexp.Regexp // the rest of the rule's pattern
	content string
}

type lookup struct {
	name, group string
	entries     []lookupEntry
	exact       map[string]string // the entries' exact values, first entry wins
}

type lookupEntry struct {
	exact string
	re    *regexp.Regexp
	label string // the service's name, or the country and its post
}

// Spec is every format trackwatch knows: the specification's and its own.
type Spec struct {
	// Version names the specification's package and version, the revision of
	// trackwatch's judging code and a hash of every format file read.
	Version  string
	Couriers []*Courier
	byCode   map[string]*Courier
}

// Courier returns the courier with code, nil if none.
func (s *Spec) Courier(code string) *Courier { return s.byCode[code] }

//go:embed formats/*.json
var ownFiles embed.FS

// ownRevision names the revision of the judging code (checksums, verdict rules): bump it
// with any change that can change a verdict, so that stored verdicts are recomputed.
// Changes of the format files are in Version's hash already.
const ownRevision = "tw2"

// LoadSpec reads the specification's courier files from dir (the pinned npm package's
// couriers directory, see Locate) and trackwatch's own formats, and compiles them.
func LoadSpec(dir, version string) (*Spec, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read tracking-number specification: %w", err)
	}
	s := &Spec{byCode: map[string]*Courier{}}
	sum := sha256.New() // of every file read: a verdict changes with any of them
	n := 0
	for _, e := range entries {
		if e.IsDir() || filepath.Ext(e.Name()) != ".json" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read tracking-number specification: %w", err)
		}
		fmt.Fprintf(sum, "%s\x00%d\x00", e.Name(), len(b))
		sum.Write(b)
		if err := s.add(b, "tracking_number_data couriers/"+e.Name()); err != nil {
			return nil, fmt.Errorf("specification file %s: %w", e.Name(), err)
		}
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("read tracking-number specification: no courier files in %s", dir)
	}
	own, err := fs.Glob(ownFiles, "formats/*.json")
	if err != nil {
		return nil, fmt.Errorf("trackwatch's formats: %w", err)
	}
	for _, name := range own {
		b, err := ownFiles.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("trackwatch's formats: %w", err)
		}
		fmt.Fprintf(sum, "%s\x00%d\x00", name, len(b))
		sum.Write(b)
		if err := s.add(b, "trackwatch "+name); err != nil {
			return nil, fmt.Errorf("trackwatch's %s: %w", name, err)
		}
	}
	// UPU S10 defines the service indicators (EA-EZ EMS, RA-RZ registered, CA-CZ parcels,
	// ...); the specification lists them but does not require one. trackwatch does: an
	// international item with an undefined indicator was not issued under S10. A post's
	// domestic S10-structured numbers are its own formats (formats/*.json).
	if c := s.byCode["s10"]; c != nil {
		for _, f := range c.Formats {
			for _, l := range f.lookups {
				if l.group == "ServiceType" {
					if f.exists == nil {
						f.exists = map[string]bool{}
					}
					f.exists[l.name] = true
				}
			}
		}
	}
	sort.Slice(s.Couriers, func(i, j int) bool { return s.Couriers[i].Code < s.Couriers[j].Code })
	s.Version = fmt.Sprintf("%s+%s+%x", version, ownRevision, sum.Sum(nil)[:6])
	return s, nil
}

// add compiles one courier file; a file whose courier is already known adds formats to it.
func (s *Spec) add(b []byte, origin string) error {
	var cf courierFile
	if err := json.Unmarshal(b, &cf); err != nil {
		return err
	}
	if cf.CourierCode == "" {
		return errors.New("no courier_code")
	}
	c := s.byCode[cf.CourierCode]
	if c == nil {
		c = &Courier{Code: cf.CourierCode, Name: cf.Name}
		s.byCode[c.Code] = c
		s.Couriers = append(s.Couriers, c)
	}
	for _, ff := range cf.Formats {
		f, err := compile(ff)
		if err != nil {
			return fmt.Errorf("format %q: %w", ff.Name, err)
		}
		f.Courier = c
		f.Source = origin
		if ff.Source != "" {
			f.Source = ff.Source
		} else if cf.Source != "" {
			f.Source = cf.Source
		}
		c.Formats = append(c.Formats, f)
	}
	return nil
}

func compile(ff formatFile) (*Format, error) {
	var expr string
	var parts []string
	if err := json.Unmarshal(ff.Regex, &expr); err != nil {
		if err := json.Unmarshal(ff.Regex, &parts); err != nil {
			return nil, errors.New("regex is neither a string nor a list of strings")
		}
		expr = strings.Join(parts, "")
	}
	re, err := regexp.Compile(`^(?:` + expr + `)$`)
	if err != nil {
		return nil, fmt.Errorf("regex: %w", err)
	}
	f := &Format{Name: ff.Name, re: re, Valid: normaliseAll(ff.TestNumbers.Valid), Invalid: normaliseAll(ff.TestNumbers.Invalid)}
	if tree, err := syntax.Parse(`^(?:`+expr+`)$`, syntax.Perl); err == nil {
		simple := tree.Simplify()
		f.minLen, f.maxLen = lengths(simple)
		var set [256]bool
		if firstBytes(simple, &set) {
			f.first = &set
		}
	} else {
		f.minLen, f.maxLen = 0, -1
	}
	v := ff.Validation
	if v.Checksum != nil {
		if err := v.Checksum.validate(); err != nil {
			return nil, err
		}
		if !slices.Contains(re.SubexpNames(), "CheckDigit") || !slices.Contains(re.SubexpNames(), "SerialNumber") {
			return nil, errors.New("a checksum needs the groups SerialNumber and CheckDigit")
		}
		c := *v.Checksum
		f.checksum = &c
	}
	if v.SerialNumberFormat != nil && v.SerialNumberFormat.PrependIf != nil {
		p, err := compilePrepend(v.SerialNumberFormat.PrependIf.MatchesRegex)
		if err != nil {
			return nil, fmt.Errorf("serial_number_format: %w", err)
		}
		p.content = v.SerialNumberFormat.PrependIf.Content
		f.prepend = p
	}
	for _, a := range ff.Additional {
		l := lookup{name: a.Name, group: a.RegexGroupName, exact: map[string]string{}}
		if re.SubexpIndex(a.RegexGroupName) < 0 {
			return nil, fmt.Errorf("lookup %q names group %q, which the regex lacks", a.Name, a.RegexGroupName)
		}
		for _, e := range a.Lookup {
			le := lookupEntry{exact: e.Matches, label: e.Name}
			if e.Country != "" {
				le.label = strings.TrimSpace(e.Country + " (" + e.Courier + ")")
			}
			if e.MatchesRegex != "" {
				r, err := regexp.Compile(`^(?:` + e.MatchesRegex + `)$`)
				if err != nil {
					return nil, fmt.Errorf("lookup %q: %w", a.Name, err)
				}
				le.re = r
			}
			if _, dup := l.exact[le.exact]; le.exact != "" && !dup {
				l.exact[le.exact] = le.label
			}
			l.entries = append(l.entries, le)
		}
		f.lookups = append(f.lookups, l)
	}
	if v.Additional != nil {
		f.exists = map[string]bool{}
		for _, name := range v.Additional.Exists {
			if !slices.ContainsFunc(f.lookups, func(l lookup) bool { return l.name == name }) {
				return nil, fmt.Errorf("validation.additional.exists names %q, which no lookup has", name)
			}
			f.exists[name] = true
		}
	}
	return f, nil
}

// lengths is the shortest and longest run of characters re matches (-1: unbounded);
// for a pattern it cannot bound, 0 and -1.
func lengths(re *syntax.Regexp) (lo, hi int) {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return 0, 0
	case syntax.OpLiteral:
		return len(re.Rune), len(re.Rune)
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return 1, 1
	case syntax.OpCapture:
		return lengths(re.Sub[0])
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			l, h := lengths(sub)
			lo += l
			if hi >= 0 {
				if h < 0 {
					hi = -1
				} else {
					hi += h
				}
			}
		}
		return lo, hi
	case syntax.OpAlternate:
		for i, sub := range re.Sub {
			l, h := lengths(sub)
			if i == 0 || l < lo {
				lo = l
			}
			if i == 0 || (hi >= 0 && (h < 0 || h > hi)) {
				hi = h
			}
		}
		return lo, hi
	case syntax.OpQuest:
		_, h := lengths(re.Sub[0])
		return 0, h
	case syntax.OpStar:
		return 0, -1
	case syntax.OpPlus:
		l, _ := lengths(re.Sub[0])
		return l, -1
	case syntax.OpRepeat:
		l, h := lengths(re.Sub[0])
		lo = l * re.Min
		if re.Max < 0 || h < 0 {
			return lo, -1
		}
		return lo, h * re.Max
	}
	return 0, -1
}

// firstBytes adds to set the bytes a match of re can start with and reports whether it
// could tell (false: re can match the empty string at the start, or a non-ASCII rune,
// or a construct it does not follow; the caller then tries every number).
func firstBytes(re *syntax.Regexp, set *[256]bool) bool {
	switch re.Op {
	case syntax.OpBeginLine, syntax.OpBeginText:
		return false // handled by the concatenation that holds it
	case syntax.OpLiteral:
		if len(re.Rune) == 0 || re.Rune[0] > 127 {
			return false
		}
		r := re.Rune[0]
		set[r] = true
		if re.Flags&syntax.FoldCase != 0 {
			set[unicode.SimpleFold(r)&0x7f] = true
		}
		return true
	case syntax.OpCharClass:
		for i := 0; i+1 < len(re.Rune); i += 2 {
			lo, hi := re.Rune[i], re.Rune[i+1]
			if hi > 127 {
				return false
			}
			for r := lo; r <= hi; r++ {
				set[r] = true
			}
		}
		return true
	case syntax.OpCapture:
		return firstBytes(re.Sub[0], set)
	case syntax.OpPlus:
		return firstBytes(re.Sub[0], set)
	case syntax.OpRepeat:
		if re.Min == 0 {
			return false
		}
		return firstBytes(re.Sub[0], set)
	case syntax.OpAlternate:
		for _, sub := range re.Sub {
			if !firstBytes(sub, set) {
				return false
			}
		}
		return true
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			switch sub.Op {
			case syntax.OpBeginLine, syntax.OpBeginText:
				continue // zero width
			case syntax.OpQuest, syntax.OpStar:
				// an optional head: its first bytes, then the rest's
				if !firstBytes(sub.Sub[0], set) {
					return false
				}
				continue
			case syntax.OpRepeat:
				if sub.Min == 0 {
					if !firstBytes(sub.Sub[0], set) {
						return false
					}
					continue
				}
			}
			if lo, _ := lengths(sub); lo == 0 && sub.Op != syntax.OpCapture {
				return false
			}
			if sub.Op == syntax.OpCapture {
				if lo, _ := lengths(sub); lo == 0 {
					if !firstBytes(sub.Sub[0], set) {
						return false
					}
					continue
				}
			}
			return firstBytes(sub, set)
		}
		return false
	}
	return false
}

// compilePrepend turns the specification's prepend_if pattern into Go's regexp, which
// has no lookahead: the patterns are of the form "^(?!X).+" ("unless it starts with X"),
// which is a prefix test and a match.
func compilePrepend(pattern string) (*prependRule, error) {
	p := &prependRule{}
	rest := pattern
	if strings.HasPrefix(rest, "^(?!") {
		depth, end := 1, -1
		for i := 4; i < len(rest); i++ {
			switch rest[i] {
			case '\\':
				i++
			case '(':
				depth++
			case ')':
				depth--
			}
			if depth == 0 {
				end = i
				break
			}
		}
		if end < 0 {
			return nil, fmt.Errorf("unbalanced lookahead in %q", pattern)
		}
		u, err := regexp.Compile("^(?:" + rest[4:end] + ")")
		if err != nil {
			return nil, err
		}
		p.unless = u
		rest = "^" + rest[end+1:]
	}
	m, err := regexp.Compile(rest)
	if err != nil {
		return nil, err
	}
	p.matches = m
	return p, nil
}

func (p *prependRule) apply(serial string) string {
	if p.unless != nil && p.unless.MatchString(serial) {
		return serial
	}
	if !p.matches.MatchString(serial) {
		return serial
	}
	return p.content + serial
}

// Normalise is a number as trackwatch stores and compares it: upper case, without
// spaces, dashes, underscores or dots (the event contract: "compare case-insensitively,
// ignore spaces and dashes"). Ingest stores numbers so; the checker judges them so.
func Normalise(s string) string {
	if isNormalised(s) {
		return s // the common case: no allocation
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '-' || r == '_' || r == '.' || unicode.IsSpace(r):
		default:
			b.WriteRune(unicode.ToUpper(r))
		}
	}
	return b.String()
}

// isNormalised reports whether s is already upper-case ASCII letters and digits.
func isNormalised(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'A' || c > 'Z') {
			return false
		}
	}
	return true
}

func normaliseAll(ss []string) []string {
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		out = append(out, Normalise(s))
	}
	return out
}
