package detect

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// varyColumn is the column of a varied set's rows that holds the row's variant's value
// (candidates.sql, findings.sql).
const varyColumn = "vary_value"

// Variation is several values of one numeric setting, evaluated together by a varied set
// (NewVariedSet): a backtest comparing thresholds (backtest --vary).
type Variation struct {
	// Key is the setting, as in the detect section of the configuration (stalled_days).
	Key string
	// Values are the values compared: whole numbers 1..3650, or for a share
	// (seller_vtr_target, IsShare) values above 0 and at most 1.
	Values []float64
}

// sellerTarget is the one numeric setting that is a share, not a whole number.
const sellerTarget = "seller_vtr_target"

// VariableSettings are the numeric settings a backtest can vary: every whole-number
// threshold (default_protection_days, stalled_days, ..., the sellers' detector's
// seller_vtr_window_days, seller_vtr_scan_days, seller_vtr_min_orders),
// silent_days_express, and the sellers' detector's target, seller_vtr_target (a share).
func VariableSettings() []string {
	out := make([]string, 0, len(thresholds)+2)
	for _, t := range thresholds {
		out = append(out, t.key)
	}
	return append(out, "silent_days_express", sellerTarget)
}

// IsShare reports whether setting key's values are shares (0 < x <= 1), not whole numbers.
func IsShare(key string) bool { return key == sellerTarget }

// VaryError is the error for a setting key that cannot be varied, naming the ones that
// can.
func VaryError(key string) error {
	return fmt.Errorf("detect.%s is not a numeric detector setting (one of: %s)", key, strings.Join(VariableSettings(), ", "))
}

// stageSettings are the thresholds the stages before the detectors read (the order
// state's protection, the carrier summary's recycle window): a variant of them changes
// every row a run joins, so their variants cannot share a run.
var stageSettings = []string{"default_protection_days", "recycle_months"}

// Shared reports whether the values of setting key can be evaluated in one run (a varied
// set): it is a threshold the order detectors' own expressions read, not one the stages
// before them read (default_protection_days, recycle_months), nor the sellers'
// detector's (its own stage, over sellers), nor silent_days_express (a plain
// parameter). Other settings are compared by a run per value.
func Shared(key string) bool {
	return !slices.Contains(stageSettings, key) && !slices.Contains(sellerThresholds, key) &&
		slices.ContainsFunc(thresholds, func(t thresholdDef) bool { return t.key == key })
}

// Validate checks the variation, naming the setting (as detect.KEY) and the value at
// fault.
func (v Variation) Validate() error {
	if !slices.Contains(VariableSettings(), v.Key) {
		return VaryError(v.Key)
	}
	if len(v.Values) < 2 || len(v.Values) > 8 {
		return fmt.Errorf("detect.%s: %d values; compare 2 to 8", v.Key, len(v.Values))
	}
	for i, x := range v.Values {
		switch {
		case math.IsNaN(x) || math.IsInf(x, 0):
			return fmt.Errorf("detect.%s: %s is not a number", v.Key, FormatValue(x))
		case IsShare(v.Key) && (x <= 0 || x > 1):
			return fmt.Errorf("detect.%s: %s is not a share above 0 and at most 1", v.Key, FormatValue(x))
		case !IsShare(v.Key) && (x != math.Trunc(x) || x < 1 || x > 3650):
			return fmt.Errorf("detect.%s: %s is not a whole number from 1 to 3650", v.Key, FormatValue(x))
		}
		// shares count to the millionth (ValueKey): closer ones are one
		if slices.ContainsFunc(v.Values[:i], func(y float64) bool { return ValueKey(v.Key, y) == ValueKey(v.Key, x) }) {
			return fmt.Errorf("detect.%s: %s is given twice (shares count to the millionth)", v.Key, FormatValue(x))
		}
	}
	return nil
}

// ValueKey is a valid value of setting key as a whole number that orders and tells
// values apart (backtest_comparisons' key): the value itself, or for a share its
// millionths.
func ValueKey(key string, x float64) uint32 {
	if IsShare(key) {
		return uint32(math.Round(x * 1e6))
	}
	return uint32(x)
}

// FormatValue writes a setting's value as the configuration would: 7, 0.95.
func FormatValue(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

// With returns c with setting key (a VariableSettings name) set to value (a whole
// number unless the setting IsShare).
func (c Config) With(key string, value float64) (Config, error) {
	switch key {
	case sellerTarget:
		c.SellerVTRTarget = value
		return c, nil
	case "silent_days_express":
		c.SilentDaysExpress = int(value)
		return c, nil
	}
	for _, t := range thresholds {
		if t.key == key {
			*t.global(&c) = int(value)
			return c, nil
		}
	}
	return c, VaryError(key)
}

// Affected returns the detectors among names (all of them when empty), in the order of
// Names, whose findings setting key can change: those whose SQL reads it, every order
// detector for a setting the stages before them read (Shared is false for those), and
// the sellers' detector alone for its own settings (seller_vtr_*). cancel_dodged's
// condition also lifts the severity of an order's other findings; a severity is not
// what a comparison compares, so that alone does not count.
func Affected(key string, names ...string) ([]string, error) {
	if !slices.Contains(VariableSettings(), key) {
		return nil, VaryError(key)
	}
	if len(names) == 0 {
		names = Names
	}
	if slices.Contains(sellerThresholds, key) {
		if slices.Contains(names, SellerValidTrackingRate) {
			return []string{SellerValidTrackingRate}, nil
		}
		return nil, nil
	}
	var out []string
	for _, n := range Names {
		if !slices.Contains(names, n) || n == SellerValidTrackingRate { // a detector of sellers: no threshold of orders
			continue
		}
		if slices.Contains(stageSettings, key) {
			out = append(out, n)
			continue
		}
		p, err := loadPart(n, key)
		if err != nil {
			return nil, err
		}
		marker := varyColumn
		if !Shared(key) {
			marker = "{" + key + ":" // a plain parameter (silent_days_express)
		}
		texts := []string{p.Columns, p.Flag, p.Severity, p.Recommendation, p.Evidence, p.Facts}
		for _, r := range p.Reasons {
			texts = append(texts, r)
		}
		if n == "cancel_dodged" { // its flag is the condition computed for every order
			dodged, err := parseVaried("cancel_dodged.sql", key)
			if err != nil {
				return nil, err
			}
			d, err := dodged.Render("dodged", nil)
			if err != nil {
				return nil, err
			}
			texts = append(texts, d)
		}
		if slices.ContainsFunc(texts, func(s string) bool { return strings.Contains(s, marker) }) {
			out = append(out, n)
		}
	}
	return out, nil
}

// NewVariedSet returns the detectors called names for database db as NewSet does,
// evaluated once per value of v in one run: the order state, the carrier summaries and
// the join of the two are computed once, and each order's joined row is repeated per
// value (column vary_value) through the detectors' columns, flags and texts. Every
// finding then carries vary_value (Findings.Data's {{.Findings}} and {{.Drafts}}); a
// variant's findings are those a run with cfg.With(v.Key, value) makes. v.Key must be
// Shared. A varied set evaluates Plain only.
func NewVariedSet(db string, v Variation, names ...string) (*Set, error) {
	if err := v.Validate(); err != nil {
		return nil, err
	}
	if !Shared(v.Key) {
		return nil, fmt.Errorf("detect.%s is read before the detectors (or is a plain parameter): its values cannot share a run", v.Key)
	}
	v.Values = slices.Clone(v.Values)
	return newSet(db, &v, names)
}

// Varied reports whether the set is a varied set (NewVariedSet).
func (s *Set) Varied() bool { return s.vary != nil }

// Variation returns the variation of a varied set (NewVariedSet), and false for a set
// of one variant.
func (s *Set) Variation() (Variation, bool) {
	if s.vary == nil {
		return Variation{}, false
	}
	return Variation{Key: s.vary.Key, Values: slices.Clone(s.vary.Values)}, true
}

// Value returns setting key's value in c (0 for unset: see WithDefaults).
func (c Config) Value(key string) (float64, error) {
	switch key {
	case sellerTarget:
		return c.SellerVTRTarget, nil
	case "silent_days_express":
		return float64(c.SilentDaysExpress), nil
	}
	for _, t := range thresholds {
		if t.key == key {
			return float64(*t.global(&c)), nil
		}
	}
	return 0, VaryError(key)
}
