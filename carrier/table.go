package carrier

import (
	"bufio"
	"embed"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"unicode"
)

//go:embed phrases/*.tsv
var phraseFiles embed.FS

// Phrase maps a carrier's wording to a sub-status; Carrier "" applies to every carrier.
type Phrase struct {
	Carrier   string    `yaml:"carrier"`
	Phrase    string    `yaml:"phrase"`
	SubStatus SubStatus `yaml:"sub_status"`
}

// Table classifies carrier wording. The zero value knows no phrase; Default has the
// embedded tables.
type Table struct {
	overrides map[string][]entry // from config, per carrier slug ("" for every carrier)
	carriers  map[string][]entry // each carrier's own table, by slug
	generic   []entry
	files     map[string][]string // file name -> slugs, for listings
}

type entry struct {
	text string // as written in the table
	norm string // Fold form, with a leading space for word-start matching
	cjk  bool   // matched anywhere (no word boundaries in Chinese or Japanese)
	sub  SubStatus
}

// Default returns the embedded phrase tables: generic.tsv for every carrier and one
// file per carrier, whose "# slugs:" header names the carrier slugs it serves.
func Default() (*Table, error) {
	t := &Table{carriers: map[string][]entry{}, files: map[string][]string{}}
	names, err := fs.Glob(phraseFiles, "phrases/*.tsv")
	if err != nil {
		return nil, err
	}
	for _, path := range names {
		f, _ := phraseFiles.Open(path)
		slugs, entries, err := parse(f, strings.TrimSuffix(strings.TrimPrefix(path, "phrases/"), ".tsv"))
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		name := strings.TrimPrefix(path, "phrases/")
		t.files[name] = slugs
		if name == "generic.tsv" {
			t.generic = entries
			continue
		}
		for _, s := range slugs {
			t.carriers[s] = append(t.carriers[s], entries...)
		}
	}
	return t, nil
}

// parse reads a phrase file: comments, "# slugs: a, b", and phrase<TAB>sub_status lines.
func parse(r interface{ Read([]byte) (int, error) }, defaultSlug string) (slugs []string, out []entry, err error) {
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		if strings.HasPrefix(line, "#") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(strings.TrimPrefix(line, "#")), "slugs:"); ok {
				for _, s := range strings.Split(v, ",") {
					if s = strings.TrimSpace(s); s != "" {
						slugs = append(slugs, s)
					}
				}
			}
			continue
		}
		phrase, sub, ok := strings.Cut(line, "\t")
		if !ok {
			return nil, nil, fmt.Errorf("line %d: want phrase<TAB>status/sub_status", n)
		}
		e, err := newEntry(phrase, SubStatus(strings.TrimSpace(sub)))
		if err != nil {
			return nil, nil, fmt.Errorf("line %d: %w", n, err)
		}
		out = append(out, e)
	}
	if len(slugs) == 0 {
		slugs = []string{defaultSlug}
	}
	return slugs, out, sc.Err()
}

func newEntry(phrase string, sub SubStatus) (entry, error) {
	if !slices.Contains(SubStatuses, sub) || sub == Unknown {
		return entry{}, fmt.Errorf("%q is not a sub-status (carrier/status.go lists them)", sub)
	}
	norm := Fold(phrase)
	if norm == "" {
		return entry{}, fmt.Errorf("phrase %q has no letters or digits", phrase)
	}
	cjk := hasCJK(norm)
	if !cjk {
		norm = " " + norm
	}
	return entry{text: strings.TrimSpace(phrase), norm: norm, cjk: cjk, sub: sub}, nil
}

// With returns a copy of t with the operator's phrases, which win over the tables.
func (t *Table) With(phrases []Phrase) (*Table, error) {
	c := *t
	c.overrides = map[string][]entry{}
	for i, p := range phrases {
		e, err := newEntry(p.Phrase, p.SubStatus)
		if err != nil {
			return nil, fmt.Errorf("phrases[%d]: %w", i, err)
		}
		c.overrides[p.Carrier] = append(c.overrides[p.Carrier], e)
	}
	return &c, nil
}

// Classify returns the sub-status of a carrier's event text: the longest phrase that
// matches, looked for in the operator's phrases for the carrier (then for every
// carrier), the carrier's own table, then the generic table; Unknown when none does.
func (t *Table) Classify(carrierSlug, raw string) SubStatus {
	text := " " + Fold(raw)
	for _, set := range [][]entry{t.overrides[carrierSlug], t.overrides[""], t.carriers[carrierSlug], t.generic} {
		if sub, ok := longest(set, text); ok {
			return sub
		}
	}
	return Unknown
}

func longest(set []entry, text string) (SubStatus, bool) {
	best, bestLen := Unknown, 0
	for _, e := range set {
		if len(e.norm) > bestLen && strings.Contains(text, e.norm) {
			best, bestLen = e.sub, len(e.norm)
		}
	}
	return best, bestLen > 0
}

// Phrases returns the phrases of the carrier's own table that mean sub (the generic
// table's when the carrier's has none), as written: wording to simulate the carrier with.
func (t *Table) Phrases(carrierSlug string, sub SubStatus) []string {
	for _, set := range [][]entry{t.carriers[carrierSlug], t.generic} {
		var out []string
		for _, e := range set {
			if e.sub == sub {
				out = append(out, e.text)
			}
		}
		if len(out) > 0 {
			return out
		}
	}
	return nil
}

// Carriers lists the slugs with a table of their own, sorted.
func (t *Table) Carriers() []string {
	var out []string
	for s := range t.carriers {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// Fold is the form text is compared in: lower case, letters and digits only, single
// spaces ("TOKYO ", "Tokyo" and "tokyo" compare equal; so do "Label created." and
// "label  created").
func Fold(s string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToLower(strings.TrimSpace(s)) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		default:
			space = true
		}
	}
	return b.String()
}

func hasCJK(s string) bool {
	for _, r := range s {
		if unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul) {
			return true
		}
	}
	return false
}

// Status is the contract status of a sub-status ("in_transit" of
// "in_transit/departed"); "unknown" for Unknown.
func (s SubStatus) Status() string {
	st, _, _ := strings.Cut(string(s), "/")
	return st
}

// ForStatus is the sub-status of a producer's own normalised status when its words say
// no more: the least specific one of that status.
func ForStatus(status string) SubStatus {
	switch status {
	case "info_received":
		return PreAdvice
	case "picked_up":
		return Accepted
	case "in_transit":
		return InTransit
	case "out_for_delivery":
		return OutForDelivery
	case "delivered":
		return Delivered
	case "failed_attempt":
		return AttemptFailed
	case "exception":
		return Exception
	case "returned":
		return ReturnToSender
	case "cancelled":
		return LabelVoided
	}
	return Unknown
}

// Config is the carriers section: phrases operators add or override without a release.
type Config struct {
	// Phrases win over the embedded tables (YAML only), e.g.
	//   phrases: [{carrier: cainiao, phrase: "Parcel is being prepared", sub_status: info_received/pre_advice}]
	// carrier "" applies to every carrier.
	Phrases []Phrase `yaml:"phrases"`
}

// Validate checks the phrases, naming the offending one.
func (c *Config) Validate() error {
	_, err := c.Table()
	return err
}

// Table is the embedded tables with the configured phrases.
func (c *Config) Table() (*Table, error) {
	t, err := Default()
	if err != nil {
		return nil, err
	}
	return t.With(c.Phrases)
}
