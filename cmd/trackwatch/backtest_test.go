package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/trackwatch/trackwatch/backtest"
)

// A comparison of two values prints as a table (the configured value marked), as JSON
// (the whole comparison) and as CSV (one row per value and detector).
func TestAComparisonPrintsAsATableJSONAndCSV(t *testing.T) {
	f := func(x float64) *float64 { return &x }
	row := func(orders uint64, median, p10 *float64, after, confirmed, fp uint64, precision *float64) backtest.VariantReport {
		return backtest.VariantReport{DetectorReport: backtest.DetectorReport{Detector: "stalled_eir", MaxPerStep: 3, MedianPerStep: 2, Orders: orders,
			EndedBadly: 3, MedianLeadDays: median, P10LeadDays: p10, AfterProtection: after}, ConfirmedFake: confirmed, FalsePositive: fp, Precision: precision}
	}
	cmp := backtest.Comparison{ID: "c1", Setting: "stalled_days", Current: 7, Steps: 30, Shared: true, Detectors: []string{"stalled_eir"},
		From: time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC), To: time.Date(2026, 10, 30, 12, 0, 0, 0, time.UTC), Step: backtest.Duration(24 * time.Hour),
		Variants: []backtest.Variant{
			{Value: 7, BacktestID: "b7", Detectors: []backtest.VariantReport{row(4, f(22.9), f(2.9), 0, 1, 2, f(1.0/3))}},
			{Value: 12, BacktestID: "b12", Detectors: []backtest.VariantReport{row(3, f(17.9), f(-2.1), 1, 0, 0, nil)}},
		}}
	res := backtest.Result{Findings: 110, Took: 3 * time.Second}
	print := func(format string) string {
		var out bytes.Buffer
		printComparison(&cmdEnv{stdout: &out, stderr: &out}, cmp, res, format)
		return out.String()
	}

	table := print("table")
	lines := strings.Split(table, "\n")
	for i, want := range [][]string{
		{"DETECT.STALLED_DAYS", "DETECTOR", "LEAD DAYS MEDIAN", "FLAGGED AFTER PROTECTION", "PRECISION"},
		{"7 (current)", "stalled_eir", "22.9", "2.9", "33.3%"},
		{"12", "stalled_eir", "17.9", "-2.1", "-"},
		{"comparison c1 of detect.stalled_days over stalled_eir: 30 steps", "one run per step for every value", "110 findings"},
	} {
		for _, w := range want {
			if !strings.Contains(lines[i], w) {
				t.Errorf("table line %d %q lacks %q", i, lines[i], w)
			}
		}
	}

	var got []struct {
		Setting  string `json:"setting"`
		Step     string `json:"step"`
		Variants []struct {
			Value     int `json:"value"`
			Detectors []struct {
				Detector        string   `json:"detector"`
				AfterProtection uint64   `json:"flagged_after_protection_ended"`
				Precision       *float64 `json:"precision"`
			} `json:"detectors"`
		} `json:"variants"`
	}
	if err := json.Unmarshal([]byte(print("json")), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Setting != "stalled_days" || got[0].Step != "24h0m0s" || len(got[0].Variants) != 2 ||
		got[0].Variants[1].Detectors[0].AfterProtection != 1 || got[0].Variants[1].Detectors[0].Precision != nil ||
		got[0].Variants[0].Detectors[0].Precision == nil {
		t.Errorf("json: %+v", got)
	}

	records, err := csv.NewReader(strings.NewReader(print("csv"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"setting", "value", "detector", "min_per_step", "median_per_step", "max_per_step", "orders", "ended_badly", "median_lead_days", "p10_lead_days",
			"flagged_after_protection_ended", "confirmed_fake", "false_positive", "precision", "backtest_id"},
		{"detect.stalled_days", "7", "stalled_eir", "0", "2", "3", "4", "3", "22.900", "2.900", "0", "1", "2", "0.3333", "b7"},
		{"detect.stalled_days", "12", "stalled_eir", "0", "2", "3", "3", "3", "17.900", "-2.100", "1", "0", "0", "", "b12"},
	}
	if len(records) != len(want) {
		t.Fatalf("csv: %q", records)
	}
	for i := range want {
		if strings.Join(records[i], ",") != strings.Join(want[i], ",") {
			t.Errorf("csv row %d: %q, want %q", i, records[i], want[i])
		}
	}
}
