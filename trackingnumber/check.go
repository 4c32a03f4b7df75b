package trackingnumber

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"golang.org/x/text/language"
)

// Match is how one format judged a number.
type Match struct {
	Format  *Format
	number  string
	country string // the CountryCode group (an S10 number's origin), for slugOf
	// Fits: the number has the format's shape (its regular expression matches).
	Fits bool
	// Serial is what the check digit is computed over (after the format's prefix rule);
	// Given and Expected the check character the number carries and the one computed.
	Serial, Given, Expected string
	// Lookups are the number's lookups that matched (service, origin country), by name;
	// Failed names the required ones that did not, with the value found.
	Lookups map[string]string
	Failed  []string
	// Valid: it fits, its check digit is right and every required lookup matched.
	Valid bool
}

// Problem is what is wrong with a fitting number, in English; empty when Valid.
func (m Match) Problem() string {
	switch {
	case !m.Fits:
		return "it does not have the shape of " + m.Format.Name
	case m.Expected != "" && m.Given != m.Expected:
		return fmt.Sprintf("its %s check digit is %s where %s is required", m.Format.Name, m.Given, m.Expected)
	case len(m.Failed) > 0:
		return fmt.Sprintf("its %s %s", m.Format.Name, strings.Join(m.Failed, " and its "))
	}
	return ""
}

// ProblemJA is Problem in Japanese.
func (m Match) ProblemJA() string {
	switch {
	case !m.Fits:
		return m.Format.Name + "の形式に合いません"
	case m.Expected != "" && m.Given != m.Expected:
		return fmt.Sprintf("%sのチェックディジットが%sですが、正しくは%sです", m.Format.Name, m.Given, m.Expected)
	case len(m.Failed) > 0:
		return fmt.Sprintf("%sの%s", m.Format.Name, strings.Join(m.Failed, "、"))
	}
	return ""
}

// mayFit: number's length is one the format's regex can match (not worth running it
// otherwise; most formats have one or two lengths).
func (f *Format) mayFit(number string) bool {
	if len(number) < f.minLen || (f.maxLen >= 0 && len(number) > f.maxLen) {
		return false
	}
	return f.first == nil || number == "" || f.first[number[0]]
}

// Judge matches number (normalised) against f.
func (f *Format) Judge(number string) Match { return f.judge(number, true) }

// judge is Judge; without explain it leaves out what only an explanation shows (the
// lookups no rule requires, their labels).
func (f *Format) judge(number string, explain bool) Match {
	m := Match{Format: f, number: number}
	if !f.mayFit(number) {
		return m
	}
	sub := f.re.FindStringSubmatch(number)
	if sub == nil {
		return m
	}
	m.Fits = true
	group := func(name string) string {
		if i := f.re.SubexpIndex(name); i >= 0 {
			return sub[i]
		}
		return ""
	}
	m.country = group("CountryCode")
	if f.checksum != nil {
		m.Serial, m.Given = group("SerialNumber"), group("CheckDigit")
		if f.prepend != nil {
			m.Serial = f.prepend.apply(m.Serial)
		}
		exp, ok := f.checksum.Expected(m.Serial)
		if !ok {
			// a serial the algorithm cannot weigh (a letter where digits are weighed):
			// not this format, rather than a wrong check digit
			return Match{Format: f, number: number}
		}
		m.Expected = exp
	}
	for _, l := range f.lookups {
		if !explain && !f.exists[l.name] {
			continue
		}
		v := group(l.group)
		label, ok := l.find(v)
		if !ok && l.group == "CountryCode" {
			// The specification lists UPU members; an S10 number's origin is any ISO
			// 3166-1 country or territory with a designated postal operator (Macao,
			// Taiwan, the Faroes, ... are not members in their own right).
			if r, err := language.ParseRegion(v); err == nil && r.IsCountry() && r.String() == v {
				label, ok = v+" (ISO 3166-1)", true
			}
		}
		if ok && explain {
			if m.Lookups == nil {
				m.Lookups = map[string]string{}
			}
			m.Lookups[l.name] = label
		} else if !ok && f.exists[l.name] {
			m.Failed = append(m.Failed, lookupProblem(l, v))
		}
	}
	m.Valid = (m.Expected == "" || m.Given == m.Expected) && len(m.Failed) == 0
	return m
}

func lookupProblem(l lookup, v string) string {
	switch l.group {
	case "CountryCode":
		return fmt.Sprintf("origin country %s is not an ISO 3166-1 country", v)
	case "ServiceType":
		return fmt.Sprintf("service indicator %s is not one the standard defines", v)
	}
	return fmt.Sprintf("%s %s is not a known value", strings.ToLower(l.name), v)
}

func (l lookup) find(v string) (string, bool) {
	if label, ok := l.exact[v]; ok {
		return label, true
	}
	for _, e := range l.entries {
		if e.re != nil && e.re.MatchString(v) {
			return e.label, true
		}
	}
	return "", false
}

// Verdict is what trackwatch concludes from a number's shape alone.
type Verdict string

// Verdicts. Only Invalid and OtherCourier are findings, and a carrier's physical scan
// outranks both (the detectors' SQL applies that).
const (
	// Valid: the number fits a format of the declared carrier, check digit and all.
	Valid Verdict = "valid"
	// Invalid: the declared carrier is one trackwatch checks, and the number fits
	// none of its formats nor any other courier's: it was never issued.
	Invalid Verdict = "invalid"
	// OtherCourier: it fits none of the declared carrier's formats but another
	// courier's: the seller declared the wrong carrier.
	OtherCourier Verdict = "other_courier"
	// Unchecked: the declared carrier is empty or one without a public, testable
	// format; Candidates name the couriers whose formats it fits.
	Unchecked Verdict = "unchecked"
)

// Result is the verdict on one number and declared carrier, with its reasons.
type Result struct {
	Number, Carrier string
	Verdict         Verdict
	// Checked: the declared carrier is one trackwatch checks; Couriers are the
	// format files its numbers are judged against.
	Checked  bool
	Couriers []string
	// Candidates are the carrier slugs (or couriers, where trackwatch has no slug)
	// whose formats the number fits, check digits and all.
	Candidates []string
	// Matches are the judgements of every format the number fits, and of the declared
	// carrier's formats it does not.
	Matches []Match
	// Problem and ProblemJA say why, for Invalid and OtherCourier.
	Problem, ProblemJA string
	// Spec is the specification version the verdict comes from.
	Spec string
}

// Checker judges numbers against a Spec.
type Checker struct {
	spec    *Spec
	extra   map[string][]string // slugs judged as posts by configuration (WithPostal)
	version string              // Version, when extra is not empty
}

// NewChecker returns a checker over spec.
func NewChecker(spec *Spec) *Checker { return &Checker{spec: spec} }

// Version names everything a verdict depends on besides the number and the declared
// carrier: the specification's version (with its files' hash), and the carriers judged
// as posts by configuration (WithPostal). Stored verdicts of another version are
// judged again.
func (c *Checker) Version() string {
	if c.version == "" {
		return c.spec.Version
	}
	return c.version
}

// Spec returns the checker's specification.
func (c *Checker) Spec() *Spec { return c.spec }

// Check judges number (normalised or not) declared as carrier (a trackwatch slug).
// Its Matches hold the formats the number fits; Explain's also the declared carrier's
// others.
func (c *Checker) Check(number, carrierSlug string) Result {
	return c.check(number, carrierSlug, false, false, nil)
}

// matchBufs are the scratch slices Verdict collects its matches in.
var matchBufs = sync.Pool{New: func() any { s := make([]Match, 0, 8); return &s }}

// Verdict is Check without the matches, what ingest stores: it collects them in a
// scratch slice it reuses (ingest judges every order event, and the matches would be
// most of what a judgement allocates).
func (c *Checker) Verdict(number, carrierSlug string) Result {
	return c.verdict(number, carrierSlug, false)
}

// Screen is Verdict for ingest, which stores a verdict only when it says something
// (ingest.WorthStoring): the declared carrier's formats are judged first, and a number
// valid for one of them is Valid without the other couriers' formats judged, so its
// Candidates are the declared carrier's alone (Verdict also names the other couriers
// whose formats it fits). Any other verdict is Verdict's. Most numbers are valid, and
// the other couriers' formats were most of their judging.
func (c *Checker) Screen(number, carrierSlug string) Result {
	return c.verdict(number, carrierSlug, true)
}

func (c *Checker) verdict(number, carrierSlug string, declaredFirst bool) Result {
	buf := matchBufs.Get().(*[]Match)
	r := c.check(number, carrierSlug, false, declaredFirst, (*buf)[:0])
	clear(r.Matches) // the pool keeps no formats' strings alive
	*buf = r.Matches[:0]
	r.Matches = nil
	matchBufs.Put(buf)
	return r
}

// check judges number declared as carrierSlug: with all, against every format of the
// declared carrier whether it fits or not (Explain); with declaredFirst (Screen), the
// declared carrier's formats first, returning at once when one is valid.
func (c *Checker) check(number, carrierSlug string, all, declaredFirst bool, matches []Match) Result {
	number, carrierSlug = Normalise(number), strings.ToLower(strings.TrimSpace(carrierSlug))
	r := Result{Number: number, Carrier: carrierSlug, Spec: c.Version(), Matches: matches}
	declared := CouriersOf(carrierSlug)
	if declared == nil {
		declared = c.extra[carrierSlug]
	}
	r.Checked, r.Couriers = len(declared) > 0, declared
	var declaredValid bool
	var closest *Match
	declaredFirst = declaredFirst && !all && number != "" && len(declared) > 0
	if declaredFirst {
		// the declared carrier's formats first: a number valid for one is Valid, and the
		// other couriers' formats cannot change that
		for _, code := range declared {
			if co := c.spec.Courier(code); co != nil {
				c.judgeCourier(co, number, true, all, &r, &declaredValid)
			}
		}
	}
	if !declaredValid {
		for _, co := range c.spec.Couriers {
			mine := slices.Contains(declared, co.Code)
			if declaredFirst && mine {
				continue // judged above
			}
			c.judgeCourier(co, number, mine, all, &r, &declaredValid)
		}
	}
	// the problem to report: the first declared courier's (in the order declared: a
	// post's S10 first) format the number fits without being valid
	for _, code := range declared {
		for i := range r.Matches {
			if m := r.Matches[i]; closest == nil && m.Fits && !m.Valid && m.Format.Courier.Code == code {
				closest = &r.Matches[i]
			}
		}
	}
	if declaredValid {
		for _, m := range r.Matches {
			if m.Valid && slices.Contains(declared, m.Format.Courier.Code) {
				r.Candidates = appendUnique(r.Candidates, slugOf(m.Format.Courier.Code, m))
			}
		}
	}
	// What shows the number is another courier's: one of its formats with a check digit
	// that verifies; where the number fits none of the declared carrier's shapes, also a
	// format without a check digit if the number has letters (YT..., LP..., TBA...: a
	// prefix of the courier's own), not a bare run of digits any courier could print.
	var others []string
	for _, m := range r.Matches {
		if m.Valid && !slices.Contains(declared, m.Format.Courier.Code) &&
			(m.Format.checksum != nil || (closest == nil && hasLetter(number))) {
			others = appendUnique(others, slugOf(m.Format.Courier.Code, m))
		}
	}
	switch {
	case number == "":
		r.Verdict = Unchecked
	case !r.Checked:
		r.Verdict = Unchecked
		r.Candidates = others // the couriers named: on evidence, as above
	case declaredValid:
		r.Verdict = Valid
	case len(others) > 0:
		// Another courier's number, whether or not it also has the shape of one of
		// the declared carrier's (12, 15, 20, 22 digits are many couriers' shapes, and
		// a wrong pick from a list of carriers is the commonest slip). A made-up number
		// passes another courier's check by chance too (1 time in 7 to 10): the cost of
		// not calling a real number of the wrong carrier "never issued".
		r.Verdict = OtherCourier
		r.Candidates = others
		if closest != nil {
			r.Problem = fmt.Sprintf("%s, but it is a valid %s number", closest.Problem(), strings.Join(others, " or "))
			r.ProblemJA = fmt.Sprintf("%s。ただし%sの番号としては有効です", closest.ProblemJA(), strings.Join(others, "または"))
		} else {
			r.Problem = fmt.Sprintf("it does not fit any %s format but fits %s", carrierSlug, strings.Join(others, ", "))
			r.ProblemJA = fmt.Sprintf("%sのどの形式にも合いませんが、%sの形式に合います", carrierSlug, strings.Join(others, "、"))
		}
	case closest != nil:
		// It has the shape of one of the declared carrier's formats but not its check
		// digit or a required code, and no other courier's check verifies.
		r.Verdict = Invalid
		r.Problem, r.ProblemJA = closest.Problem(), closest.ProblemJA()
	default:
		r.Verdict = Invalid
		r.Problem = fmt.Sprintf("it fits none of %s's formats (%s) nor any other courier's", carrierSlug, c.formatNames(declared))
		r.ProblemJA = fmt.Sprintf("%sのどの形式（%s）にも、他のどの配送業者の形式にも合いません", carrierSlug, c.formatNames(declared))
	}
	return r
}

// Detect names the couriers whose formats number fits, as a tracker's "detect courier"
// does: carrier slugs where trackwatch has one.
func (c *Checker) Detect(number string) []string {
	return c.Verdict(number, "").Candidates
}

func (c *Checker) formatNames(codes []string) string {
	var names []string
	for _, code := range codes {
		if co := c.spec.Courier(code); co != nil {
			for _, f := range co.Formats {
				names = append(names, f.Name)
			}
		}
	}
	return strings.Join(names, ", ")
}

func hasLetter(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 'A' && s[i] <= 'Z' {
			return true
		}
	}
	return false
}

func appendUnique(ss []string, s string) []string {
	if slices.Contains(ss, s) {
		return ss
	}
	return append(ss, s)
}

// judgeCourier judges number against courier co's formats (those whose length and first
// byte allow a fit, or every one of a declared courier's with all), adding what fits to
// r.Matches and, for another courier's valid format, its slug to r.Candidates.
func (c *Checker) judgeCourier(co *Courier, number string, mine, all bool, r *Result, declaredValid *bool) {
	for _, f := range co.Formats {
		if !(all && mine) && !f.mayFit(number) {
			continue
		}
		m := f.judge(number, all)
		if m.Fits || (all && mine) {
			r.Matches = append(r.Matches, m)
		}
		if !m.Fits {
			continue
		}
		if mine {
			*declaredValid = *declaredValid || m.Valid
		} else if m.Valid {
			r.Candidates = appendUnique(r.Candidates, slugOf(co.Code, m))
		}
	}
}
