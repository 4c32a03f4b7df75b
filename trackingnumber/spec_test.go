package trackingnumber

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// checker loads the pinned specification, which `make test` fetches; without it the
// test says how to get it.
func checker(t *testing.T) *Checker {
	t.Helper()
	c, err := Load(Config{})
	if errors.Is(err, ErrNotFetched) {
		t.Fatalf("%v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// declaredAs is the slug a test number of courier is declared with: the courier's own
// where trackwatch checks it, the origin's post for an S10 number.
func declaredAs(code string) string {
	switch code {
	case "s10":
		return "usps-international" // a post that accepts every S10 number
	case "japan-post", "yamato", "china-post", "korea-post", "royal-mail", "la-poste", "correios", "deutsche-post", "ems",
		"ups", "fedex", "usps", "dhl":
		return code
	}
	return ""
}

// Every test number of every format, the specification's and trackwatch's own: a valid
// number is valid for its format and never flagged for its courier; an invalid one is
// flagged (for a courier trackwatch checks) or fails its format (for one it detects
// only), and at least 95% per courier are caught. The counts are printed.
func TestEveryPublishedTestNumber(t *testing.T) {
	c := checker(t)
	type tally struct{ valid, validOK, invalid, caught int }
	per := map[string]*tally{}
	for _, co := range c.Spec().Couriers {
		slug := declaredAs(co.Code)
		for _, f := range co.Formats {
			tl := per[co.Code]
			if tl == nil {
				tl = &tally{}
				per[co.Code] = tl
			}
			for _, n := range f.Valid {
				tl.valid++
				m := f.Judge(n)
				ok := m.Valid
				if slug != "" {
					r := c.Check(n, slug)
					if v := c.Verdict(n, slug); v.Verdict != r.Verdict || v.Problem != r.Problem || !slices.Equal(v.Candidates, r.Candidates) {
						t.Errorf("%s for %s: Verdict says %s %q %v, Check %s %q %v", n, slug, v.Verdict, v.Problem, v.Candidates, r.Verdict, r.Problem, r.Candidates)
					}
					screenAgrees(t, c, n, slug, r)
					ok = ok && r.Verdict == Valid
					if !ok {
						t.Errorf("%s (%s) valid test number %s: format says %+v, verdict for %s %s: %s", co.Code, f.Name, n, m.Problem(), slug, r.Verdict, r.Problem)
					}
				} else if !ok {
					t.Errorf("%s (%s) valid test number %s fails its format: %s", co.Code, f.Name, n, m.Problem())
				}
				if ok {
					tl.validOK++
				}
			}
			for _, n := range f.Invalid {
				tl.invalid++
				caught := !f.Judge(n).Valid
				if slug != "" {
					caught = c.Check(n, slug).Verdict != Valid
					if c.Verdict(n, slug).Verdict != c.Check(n, slug).Verdict {
						t.Errorf("%s for %s: Verdict and Check disagree", n, slug)
					}
					screenAgrees(t, c, n, slug, c.Check(n, slug))
				}
				if caught {
					tl.caught++
				} else {
					t.Logf("%s (%s) invalid test number %s not caught", co.Code, f.Name, n)
				}
			}
		}
	}
	codes := make([]string, 0, len(per))
	for code := range per {
		codes = append(codes, code)
	}
	sort.Strings(codes)
	for _, code := range codes {
		tl := per[code]
		fmt.Printf("%-14s valid %3d/%3d not flagged   invalid %3d/%3d caught\n", code, tl.validOK, tl.valid, tl.caught, tl.invalid)
		if tl.invalid > 0 && float64(tl.caught) < 0.95*float64(tl.invalid) {
			t.Errorf("%s: %d of %d invalid test numbers caught, under 95%%", code, tl.caught, tl.invalid)
		}
	}
	if per["ups"] == nil || per["fedex"] == nil || per["usps"] == nil || per["dhl"] == nil || per["s10"] == nil {
		t.Fatal("the specification lacks one of UPS, FedEx, USPS, DHL, S10")
	}
}

// The test suite of an independent library (tracking-number-validation, from npm):
// its numbers are shapes, mostly without a valid check digit (the library checks none),
// so each must have the shape of one of the named courier's formats: trackwatch
// recognises every courier the suite names for the numbers it gives.
func TestAnotherLibrarysTestNumbers(t *testing.T) {
	c := checker(t)
	path, ok := cachePath("suite")
	if !ok {
		t.Fatalf("the test suite is not fetched: run %s", FetchCommand)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// active lines only: `"number": "courier",` or `number: "courier",`
	line := regexp.MustCompile(`(?m)^\s*(?:"([^"]+)"|([A-Za-z0-9]+))\s*:\s*"([a-z]+)"`)
	couriers := map[string][]string{"ups": {"ups"}, "fedex": {"fedex"}, "usps": {"usps", "s10"}, "dhl": {"dhl"}, "ontrac": {"ontrac"}, "amazon": {"amazon"}}
	n, fits := 0, 0
	for _, m := range line.FindAllStringSubmatch(string(b), -1) {
		number, courier := Normalise(m[1]+m[2]), m[3]
		n++
		r := c.Check(number, "")
		screenAgrees(t, c, number, courier, c.Check(number, courier))
		found := slices.ContainsFunc(r.Matches, func(m Match) bool { return m.Fits && slices.Contains(couriers[courier], m.Format.Courier.Code) })
		if found {
			fits++
		} else {
			t.Errorf("%s (%s in the suite) fits none of %v's formats", number, courier, couriers[courier])
		}
	}
	fmt.Printf("tracking-number-validation: %d of %d numbers have their courier's shape\n", fits, n)
	if n < 40 {
		t.Fatalf("read %d numbers from the suite, expected its 50-odd", n)
	}
}

// The verdicts the detectors build on.
func TestVerdicts(t *testing.T) {
	c := checker(t)
	cases := []struct {
		name, number, carrier string
		want                  Verdict
		problem               string
	}{
		{"a valid 1Z number declared as UPS", "1Z5R89390357567127", "ups", Valid, ""},
		{"a 1Z number with a wrong check digit", "1Z5R89390357567128", "ups", Invalid, "check digit is 8 where 7 is required"},
		{"a UPS number declared as FedEx fits another courier", "1Z5R89390357567127", "fedex", OtherCourier, "fits ups"},
		{"an S10 number with a wrong check digit", "RR123456784CN", "china-post", Invalid, "check digit is 4 where 5 is required"},
		{"an S10 number from no country", "RB123456785XX", "china-post", Invalid, "origin country XX"},
		{"an S10 number with an undefined service indicator", "WW123456785US", "usps", Invalid, "service indicator WW"},
		{"a post's domestic S10-structured number with its own letters", "TT123456785GB", "royal-mail", Valid, ""},
		{"Macao's post (not a UPU member in its own right) is an ISO 3166 origin", "RR123456785MO", "china-post", Valid, ""},
		{"a Japan Post domestic number", "123456789013", "japan-post", Valid, ""},
		{"a Yamato number with a wrong check digit", "123456789010", "yamato", Invalid, "check digit is 0 where 3 is required"},
		{"a Yamato-shaped number that is a valid FedEx number is another courier's", "123456789012", "yamato", OtherCourier, "check digit is 2 where 3 is required, but it is a valid fedex number"},
		{"a Yamato number declared as FedEx (12 digits: FedEx's shape too) is another courier's", "123456789013", "fedex", OtherCourier, "valid japan-post or sagawa or yamato number"},
		{"a bare run of digits is no courier's evidence", "12345678901234", "ups", Invalid, "fits none of ups's formats"},
		{"a DHL piece ID with the JD prefix", "JD014600003828587802", "dhl", Valid, ""},
		{"a registered item declared as EMS is the post's, not EMS", "RR123456785CN", "china-ems", OtherCourier, "fits china-post"},
		{"a shape no courier has", "HELLO12", "usps", Invalid, "fits none of usps's formats"},
		{"an unchecked courier's number", "HELLO12", "yunexpress", Unchecked, ""},
		{"no declared carrier", "1Z5R89390357567127", "", Unchecked, ""},
		{"a carrier declared in capitals", "1Z5R89390357567127", " UPS ", Valid, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := c.Check(tc.number, tc.carrier)
			if r.Verdict != tc.want || !strings.Contains(r.Problem, tc.problem) {
				t.Fatalf("Check(%s, %s) = %s %q; want %s %q", tc.number, tc.carrier, r.Verdict, r.Problem, tc.want, tc.problem)
			}
			if (r.Verdict == Invalid || r.Verdict == OtherCourier) && (r.Problem == "" || r.ProblemJA == "") {
				t.Fatalf("a finding without its problem in English and Japanese: %+v", r)
			}
		})
	}
	if got := c.Detect("1Z5R89390357567127"); !slices.Equal(got, []string{"ups"}) {
		t.Errorf("Detect(1Z...) = %v, want [ups]", got)
	}
	if got := c.Detect("RR123456785JP"); !slices.Contains(got, "japan-post") {
		t.Errorf("Detect(RR...JP) = %v, want japan-post among them", got)
	}
}

func TestABadSpecificationNamesItsFile(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadSpec(dir, "x"); err == nil || !strings.Contains(err.Error(), "no courier files") {
		t.Fatalf("empty directory: %v", err)
	}
	os.WriteFile(dir+"/bad.json", []byte(`{"courier_code":"x","tracking_numbers":[{"name":"X","regex":"(?<SerialNumber>[0-9]+","validation":{}}]}`), 0o644)
	if _, err := LoadSpec(dir, "x"); err == nil || !strings.Contains(err.Error(), "bad.json") {
		t.Fatalf("bad regex: %v", err)
	}
	if err := (Config{SpecDir: dir + "/missing"}).Validate(); err == nil || !strings.Contains(err.Error(), "spec_dir") {
		t.Fatalf("missing directory: %v", err)
	}
}

// screenAgrees checks Screen against Check: the same verdict; for any verdict but Valid
// the same problem and candidates; for Valid, only the declared carrier's candidates,
// each of them among Check's.
func screenAgrees(t *testing.T, c *Checker, n, slug string, r Result) {
	t.Helper()
	s := c.Screen(n, slug)
	if s.Verdict != r.Verdict {
		t.Errorf("%s for %s: Screen says %s, Check %s", n, slug, s.Verdict, r.Verdict)
		return
	}
	if r.Verdict != Valid {
		if s.Problem != r.Problem || s.ProblemJA != r.ProblemJA || !slices.Equal(s.Candidates, r.Candidates) {
			t.Errorf("%s for %s: Screen says %q %v, Check %q %v", n, slug, s.Problem, s.Candidates, r.Problem, r.Candidates)
		}
		return
	}
	for _, cand := range s.Candidates {
		if !slices.Contains(r.Candidates, cand) {
			t.Errorf("%s for %s: Screen names %s, which Check does not (%v)", n, slug, cand, r.Candidates)
		}
	}
	if len(s.Candidates) == 0 {
		t.Errorf("%s for %s: Screen says Valid and names no candidate", n, slug)
	}
}
