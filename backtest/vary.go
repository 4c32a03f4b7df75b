package backtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/trackwatch/trackwatch/alert"
	"github.com/trackwatch/trackwatch/detect"
	"github.com/trackwatch/trackwatch/sqlfile"
)

// ParseVary reads a --vary flag, detect.KEY=V1,V2,... (the detect. prefix may be left
// out), naming the setting or the value at fault.
func ParseVary(s string) (detect.Variation, error) {
	key, list, ok := strings.Cut(s, "=")
	key = strings.TrimPrefix(strings.TrimSpace(key), "detect.")
	if !ok || key == "" || strings.TrimSpace(list) == "" {
		return detect.Variation{}, fmt.Errorf("--vary %q: want detect.SETTING=V1,V2,... (e.g. detect.stalled_days=5,7,10)", s)
	}
	if !slices.Contains(detect.VariableSettings(), key) {
		return detect.Variation{}, fmt.Errorf("--vary: %w", detect.VaryError(key))
	}
	v := detect.Variation{Key: key}
	for _, x := range strings.Split(list, ",") {
		x = strings.TrimSpace(x)
		// the text only: the range, a whole number's fraction, NaN are Validate's
		n, err := strconv.ParseFloat(x, 64)
		switch {
		case detect.IsShare(key) && err != nil:
			return detect.Variation{}, fmt.Errorf("--vary: detect.%s: %q is not a share (such as 0.95)", key, x)
		case !detect.IsShare(key) && (err != nil || strings.ContainsAny(x, ".eE")):
			return detect.Variation{}, fmt.Errorf("--vary: detect.%s: %q is not a whole number", key, x)
		}
		v.Values = append(v.Values, n)
	}
	if err := v.Validate(); err != nil {
		return detect.Variation{}, fmt.Errorf("--vary: %w", err)
	}
	return v, nil
}

// Comparison is a backtest of several values of one detector setting over the same
// steps: per value and detector, what a backtest with that value reports, and the
// precision implied by the outcomes analysts gave the live alerts of the orders it
// flags.
type Comparison struct {
	ID      string `json:"comparison_id"`
	Setting string `json:"setting"`
	// Current is the setting's value in the configuration (defaults filled).
	Current   float64   `json:"current"`
	From      time.Time `json:"from"`
	To        time.Time `json:"to"`
	Step      Duration  `json:"step"`
	Steps     int       `json:"steps"`
	Detectors []string  `json:"detectors"`
	// Shared: every step evaluated the values in one run (a varied set); otherwise one
	// run per value (a setting read before the detectors: default_protection_days,
	// recycle_months; the sellers' detector's seller_vtr_*; or silent_days_express).
	Shared    bool      `json:"shared"`
	CreatedAt time.Time `json:"created_at"`
	Variants  []Variant `json:"variants"`
}

// Duration prints as Go's duration string in JSON ("24h0m0s").
type Duration time.Duration

// MarshalText writes the duration as time.Duration's String.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// Variant is one value's part of a comparison.
type Variant struct {
	Value      float64         `json:"value"`
	BacktestID string          `json:"backtest_id"`
	Detectors  []VariantReport `json:"detectors"`
	PerStep    []StepCount     `json:"per_step,omitempty"`
}

// VariantReport is one detector's report under one value, with the outcomes of the
// flagged orders' live alerts: of the orders the value flags whose alert from this
// detector an analyst closed as confirmed fake or false positive, the share confirmed.
type VariantReport struct {
	DetectorReport
	ConfirmedFake uint64 `ch:"confirmed_fake" json:"confirmed_fake"`
	FalsePositive uint64 `ch:"false_positive" json:"false_positive"`
	// Precision is ConfirmedFake / (ConfirmedFake + FalsePositive); nil when neither.
	Precision *float64 `ch:"-" json:"precision"`
}

// VariantID names a value's history: the backtest's id with the setting and the value.
func (o Options) VariantID(v detect.Variation, value float64) string {
	h := sha256.Sum256(fmt.Appendf(nil, "%s|%s=%s", o.ID(), v.Key, detect.FormatValue(value)))
	return hex.EncodeToString(h[:8])
}

// ComparisonID names a comparison by what it evaluates.
func (o Options) ComparisonID(v detect.Variation) string {
	h := sha256.Sum256(fmt.Appendf(nil, "%s|%s=%v", o.ID(), v.Key, v.Values))
	return hex.EncodeToString(h[:8])
}

// Vary evaluates every value of v at every step of o, over the detectors among
// o.Detectors (all when empty) whose findings the setting can change (detect.Affected),
// records each value's findings in alert_history under its own backtest id
// (Options.VariantID), reports per value and detector, and keeps the comparison in
// backtest_comparisons (LastComparison). A threshold the detectors' own expressions read
// is evaluated for every value in one run per step (detect.NewVariedSet); the order
// state, the carrier summaries and their join are computed once. Any other setting is
// evaluated by one backtest per value.
func (r *Runner) Vary(ctx context.Context, o Options, v detect.Variation) (Comparison, Result, error) {
	if err := o.Validate(); err != nil {
		return Comparison{}, Result{}, err
	}
	if o.Notify {
		return Comparison{}, Result{}, errors.New("--notify with --vary: a comparison records no live alerts")
	}
	if err := v.Validate(); err != nil {
		return Comparison{}, Result{}, err
	}
	detectors, err := detect.Affected(v.Key, o.Detectors...)
	if err != nil {
		return Comparison{}, Result{}, err
	}
	if len(detectors) == 0 {
		all, _ := detect.Affected(v.Key)
		return Comparison{}, Result{}, fmt.Errorf("detect.%s changes none of the detectors selected (it changes %s)", v.Key, strings.Join(all, ", "))
	}
	o.Detectors = detectors
	cur, _ := r.Config.WithDefaults().Value(v.Key)
	cmp := Comparison{ID: o.ComparisonID(v), Setting: v.Key, Current: cur, From: o.From.UTC(), To: o.To.UTC(), Step: Duration(o.Step),
		Detectors: detectors, Shared: detect.Shared(v.Key)}
	ids := make([]string, len(v.Values))
	for i, x := range v.Values {
		ids[i] = o.VariantID(v, x)
	}
	var res Result
	if cmp.Shared {
		set, err := detect.NewVariedSet(r.evalDatabase(), v, detectors...)
		if err != nil {
			return cmp, res, err
		}
		if res, err = r.run(ctx, o, r.Config, set, ids); err != nil {
			return cmp, res, err
		}
	} else {
		start := time.Now()
		for i, x := range v.Values {
			cfg, err := r.Config.With(v.Key, x)
			if err != nil {
				return cmp, res, err
			}
			set, err := detect.NewSet(r.evalDatabase(), detectors...)
			if err != nil {
				return cmp, res, err
			}
			one, err := r.run(ctx, o, cfg, set, ids[i:i+1])
			res.Steps, res.Findings = one.Steps, res.Findings+one.Findings
			res.StepSeconds = append(res.StepSeconds, one.StepSeconds...)
			if err != nil {
				return cmp, res, err
			}
		}
		res.Took = time.Since(start)
	}
	res.ID = cmp.ID
	cmp.Steps = res.Steps
	cmp.CreatedAt = time.Now().UTC()
	for i, x := range v.Values {
		vr, err := r.variantReport(ctx, ids[i])
		if err != nil {
			return cmp, res, err
		}
		vr.Value = x
		cmp.Variants = append(cmp.Variants, vr)
	}
	if err := r.keep(ctx, cmp, o); err != nil {
		return cmp, res, err
	}
	return cmp, res, nil
}

// variantReport is Report of one value's history with the outcomes of the orders it
// flags.
func (r *Runner) variantReport(ctx context.Context, id string) (Variant, error) {
	rep, err := r.Report(ctx, id)
	if err != nil {
		return Variant{}, err
	}
	var outcomes []struct {
		Detector      string `ch:"detector"`
		ConfirmedFake uint64 `ch:"confirmed_fake"`
		FalsePositive uint64 `ch:"false_positive"`
	}
	q, err := statements.Render("outcomes", sqlfile.DB(r.Database).With("Cases", alert.CaseSQL(r.Database)))
	if err != nil {
		return Variant{}, err
	}
	if err := r.Conn.Select(ctx, &outcomes, q, clickhouse.Named("id", id)); err != nil {
		return Variant{}, fmt.Errorf("backtest outcomes: %w", err)
	}
	out := Variant{BacktestID: id, PerStep: rep.PerStep}
	for _, d := range rep.Detectors {
		vr := VariantReport{DetectorReport: d}
		for _, o := range outcomes {
			if o.Detector == d.Detector {
				vr.ConfirmedFake, vr.FalsePositive = o.ConfirmedFake, o.FalsePositive
			}
		}
		vr.Precision = precision(vr.ConfirmedFake, vr.FalsePositive)
		out.Detectors = append(out.Detectors, vr)
	}
	return out, nil
}

func precision(confirmed, falsePositive uint64) *float64 {
	if confirmed+falsePositive == 0 {
		return nil
	}
	p := float64(confirmed) / float64(confirmed+falsePositive)
	return &p
}

// keep records the comparison in backtest_comparisons, one row per value and detector.
func (r *Runner) keep(ctx context.Context, c Comparison, o Options) error {
	var rows []comparisonRow
	for _, v := range c.Variants {
		for _, d := range v.Detectors {
			rows = append(rows, comparisonRow{Key: detect.ValueKey(c.Setting, v.Value), Value: v.Value, BacktestID: v.BacktestID, VariantReport: d})
		}
	}
	batch, err := r.Conn.PrepareBatch(ctx, statements.In(r.Database, "keep_comparison"))
	if err != nil {
		return fmt.Errorf("keep the comparison: %w", err)
	}
	defer batch.Abort()
	for _, x := range rows {
		if err := batch.Append(c.ID, c.CreatedAt, c.Setting, x.Key, x.Value, x.Detector, x.BacktestID, c.From, c.To, uint32(o.Step/time.Second),
			uint32(c.Steps), c.Shared, x.MinPerStep, x.MedianPerStep, x.MaxPerStep, x.Orders, x.EndedBadly, x.MedianLeadDays, x.P10LeadDays,
			x.AfterProtection, x.LaterDisputeOrRefund, x.ConfirmedFake, x.FalsePositive); err != nil {
			return fmt.Errorf("keep the comparison: %w", err)
		}
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("keep the comparison: %w", err)
	}
	return nil
}

type comparisonRow struct {
	Key        uint32 // backtest_comparisons.value: the row's place in the comparison (detect.ValueKey)
	Value      float64
	BacktestID string
	VariantReport
}

// Comparisons reads the comparisons kept in one database, for the workspace.
type Comparisons struct {
	Conn     driver.Conn
	Database string
}

// Last returns the latest comparison kept (backtest --vary), without its steps; nil
// when there is none.
func (c Comparisons) Last(ctx context.Context) (*Comparison, error) {
	var rows []struct {
		ID        string    `ch:"comparison_id"`
		CreatedAt time.Time `ch:"created_at"`
		Setting   string    `ch:"setting"`
		Value     float64   `ch:"setting_value"`
		Backtest  string    `ch:"backtest_id"`
		From      time.Time `ch:"from_date"`
		To        time.Time `ch:"to_date"`
		StepSecs  uint32    `ch:"step_seconds"`
		Steps     uint32    `ch:"steps"`
		Shared    bool      `ch:"shared"`
		VariantReport
	}
	if err := c.Conn.Select(ctx, &rows, statements.In(c.Database, "last_comparison")); err != nil {
		return nil, fmt.Errorf("last backtest comparison: %w", err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	f := rows[0]
	out := &Comparison{ID: f.ID, Setting: f.Setting, From: f.From, To: f.To, Step: Duration(time.Duration(f.StepSecs) * time.Second),
		Steps: int(f.Steps), Shared: f.Shared, CreatedAt: f.CreatedAt}
	for _, x := range rows {
		if len(out.Variants) == 0 || out.Variants[len(out.Variants)-1].Value != x.Value {
			out.Variants = append(out.Variants, Variant{Value: x.Value, BacktestID: x.Backtest})
		}
		if !slices.Contains(out.Detectors, x.Detector) {
			out.Detectors = append(out.Detectors, x.Detector)
		}
		d := x.VariantReport
		d.Precision = precision(d.ConfirmedFake, d.FalsePositive)
		last := &out.Variants[len(out.Variants)-1]
		last.Detectors = append(last.Detectors, d)
	}
	return out, nil
}

// variantIDs maps each value of a varied set to its backtest id (ids in the order of
// the values).
func variantIDs(set *detect.Set, ids []string) map[uint16]string {
	v, _ := set.Variation()
	out := make(map[uint16]string, len(ids))
	for i, x := range v.Values {
		out[uint16(x)] = ids[i]
	}
	return out
}
