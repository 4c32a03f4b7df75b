package trackingnumber

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// Explanation is a verdict with everything it rests on, for a person: the
// `trackwatch number` command, GET /api/v1/numbers/{number} and the alert page.
type Explanation struct {
	Number  string `json:"number"`
	Carrier string `json:"carrier"`
	Verdict string `json:"verdict"`
	// Checked: the declared carrier is one trackwatch checks; Couriers are the format
	// files its numbers are judged against.
	Checked  bool     `json:"checked"`
	Couriers []string `json:"couriers"`
	// Candidates: the carriers whose formats the number fits, check digits and all.
	Candidates    []string          `json:"candidates"`
	Problem       string            `json:"problem,omitempty"`
	Formats       []FormatJudgement `json:"formats"`
	Specification string            `json:"specification"`
	Rule          string            `json:"rule"`
}

// FormatJudgement is one format's judgement of the number.
type FormatJudgement struct {
	Courier  string            `json:"courier"`
	Format   string            `json:"format"`
	Source   string            `json:"source"`
	Fits     bool              `json:"fits"`
	Checksum string            `json:"checksum,omitempty"`
	Serial   string            `json:"serial,omitempty"`
	Given    string            `json:"check_digit_given,omitempty"`
	Computed string            `json:"check_digit_computed,omitempty"`
	Lookups  map[string]string `json:"lookups,omitempty"`
	Failed   []string          `json:"failed,omitempty"`
	Valid    bool              `json:"valid"`
}

// rule is how the detectors use a verdict, said once.
const rule = "A number the carrier has physically scanned was issued, whatever its shape: the detectors flag " +
	"an invalid number (invalid_tracking_number, critical, open_dispute) or another courier's number " +
	"(carrier_mismatch, low, verify_carrier) only while it has no physical scan. A carrier trackwatch does not check is never flagged."

// Explain judges number declared as carrier and says why.
func (c *Checker) Explain(number, carrier string) Explanation {
	r := c.check(number, carrier, true, false, nil)
	e := Explanation{Number: r.Number, Carrier: r.Carrier, Verdict: string(r.Verdict), Checked: r.Checked,
		Couriers: nonNil(r.Couriers), Candidates: nonNil(r.Candidates), Problem: r.Problem, Specification: r.Spec, Rule: rule}
	if !r.Checked && r.Carrier != "" {
		e.Problem = fmt.Sprintf("trackwatch does not check %s's numbers (no public, testable format); checked carriers: %s",
			r.Carrier, strings.Join(CheckedCarriers(), ", "))
	}
	for _, m := range r.Matches {
		j := FormatJudgement{Courier: m.Format.Courier.Code, Format: m.Format.Name, Source: m.Format.Source, Fits: m.Fits,
			Serial: m.Serial, Given: m.Given, Computed: m.Expected, Lookups: m.Lookups, Failed: m.Failed, Valid: m.Valid}
		if cs := m.Format.Checksum(); cs != nil {
			j.Checksum = cs.Describe()
		}
		e.Formats = append(e.Formats, j)
	}
	// the fitting formats first, then the declared carrier's others
	sort.SliceStable(e.Formats, func(i, j int) bool { return e.Formats[i].Fits && !e.Formats[j].Fits })
	return e
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// WriteText prints e for a terminal.
func (e Explanation) WriteText(w io.Writer) {
	carrier := e.Carrier
	if carrier == "" {
		carrier = "(none declared)"
	}
	fmt.Fprintf(w, "number:     %s\ncarrier:    %s\nverdict:    %s\n", e.Number, carrier, e.Verdict)
	if e.Problem != "" {
		fmt.Fprintf(w, "why:        %s\n", e.Problem)
	}
	if len(e.Candidates) > 0 {
		fmt.Fprintf(w, "fits:       %s\n", strings.Join(e.Candidates, ", "))
	}
	fmt.Fprintf(w, "formats:\n")
	var misfits []string
	for _, f := range e.Formats {
		if !f.Fits {
			misfits = append(misfits, f.Format)
		}
	}
	if len(misfits) == len(e.Formats) {
		fmt.Fprintf(w, "  none fits\n")
	}
	for _, f := range e.Formats {
		if !f.Fits {
			continue
		}
		state := "fits, fails"
		if f.Valid {
			state = "valid"
		}
		fmt.Fprintf(w, "  %-13s %-40s %s\n", f.Courier, f.Format, state)
		if f.Checksum != "" {
			fmt.Fprintf(w, "                check digit %s, computed %s over %s (%s)\n", f.Given, f.Computed, f.Serial, f.Checksum)
		}
		for _, k := range sortedKeys(f.Lookups) {
			fmt.Fprintf(w, "                %s: %s\n", strings.ToLower(k), f.Lookups[k])
		}
		for _, fl := range f.Failed {
			fmt.Fprintf(w, "                %s\n", fl)
		}
		fmt.Fprintf(w, "                source: %s\n", f.Source)
	}
	if len(misfits) > 0 {
		fmt.Fprintf(w, "does not fit: %s\n", strings.Join(misfits, ", "))
	}
	fmt.Fprintf(w, "specification: %s\n%s\n", e.Specification, e.Rule)
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// FormatRow is one format in the list `trackwatch number --formats` prints.
type FormatRow struct {
	Courier, Format, CheckDigit, Source string
	// CheckedAs are the declared carrier slugs judged against the format; none: the
	// format only names its courier in detection.
	CheckedAs []string
}

// Formats lists every format, by courier, with the slugs that are judged against it.
func (c *Checker) Formats() []FormatRow {
	by := map[string][]string{}
	for slug, codes := range claimed {
		for _, code := range codes {
			by[code] = append(by[code], slug)
		}
	}
	for slug, codes := range c.extra {
		for _, code := range codes {
			by[code] = append(by[code], slug)
		}
	}
	var out []FormatRow
	for _, co := range c.spec.Couriers {
		slugs := by[co.Code]
		sort.Strings(slugs)
		for _, f := range co.Formats {
			row := FormatRow{Courier: co.Code, Format: f.Name, CheckDigit: "-", Source: f.Source, CheckedAs: slugs}
			if cs := f.Checksum(); cs != nil {
				row.CheckDigit = cs.Describe()
			}
			out = append(out, row)
		}
	}
	return out
}
