package httpapi_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trackwatch/trackwatch/backtest"
	"github.com/trackwatch/trackwatch/httpapi"
)

type lastComparison struct {
	c   *backtest.Comparison
	err error
}

func (l lastComparison) Last(context.Context) (*backtest.Comparison, error) { return l.c, l.err }

// The overview charts the latest comparison (orders flagged per detector and value) and
// lists its figures; it says so when there is none, and when it cannot be read, without
// failing the rest of the page.
func TestTheOverviewShowsTheLatestComparison(t *testing.T) {
	p := 0.5
	lead := 22.9
	cmp := &backtest.Comparison{Setting: "stalled_days", Steps: 30, Detectors: []string{"stalled_eir", evil},
		From: time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC), To: time.Date(2026, 10, 30, 12, 0, 0, 0, time.UTC),
		Variants: []backtest.Variant{
			{Value: 5, Detectors: []backtest.VariantReport{{DetectorReport: backtest.DetectorReport{Detector: "stalled_eir", Orders: 41, MedianLeadDays: &lead},
				ConfirmedFake: 1, FalsePositive: 1, Precision: &p}, {DetectorReport: backtest.DetectorReport{Detector: evil, Orders: 2}}}},
			{Value: 10, Detectors: []backtest.VariantReport{{DetectorReport: backtest.DetectorReport{Detector: "stalled_eir", Orders: 17, AfterProtection: 3}},
				{DetectorReport: backtest.DetectorReport{Detector: evil, Orders: 1}}}},
		}}
	for _, tc := range []struct {
		name  string
		last  lastComparison
		wants []string
	}{
		{"a comparison", lastComparison{c: cmp}, []string{"detect.stalled_days over 2 values, 30 steps from 2026-10-01 to 2026-10-30", "<svg",
			`<title>stalled_eir, stalled_days = 5: 41</title>`, `<title>stalled_eir, stalled_days = 10: 17</title>`, "<td>22.9 / -</td>", "50.0% (1 / 1)", "<td>3</td>"}},
		{"none yet", lastComparison{}, []string{"No comparison yet", "backtest --vary detect.stalled_days=5,7,10"}},
		{"unreadable", lastComparison{err: errors.New("table gone")}, []string{"The latest comparison could not be read now; see the server log."}},
	} {
		s, err := httpapi.New(httpapi.Config{Listen: "127.0.0.1:0"}, nil, prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		s.MountComparisons(tc.last)
		f := &fakeAlerts{}
		s.MountUI(f, f, nil, time.Now)
		srv := httptest.NewServer(s.Handler())
		resp, body := call(t, "GET", srv.URL+"/overview", "", "")
		srv.Close()
		if resp.StatusCode != 200 || !strings.Contains(body, "Refunds by payment method") {
			t.Fatalf("%s: %d\n%s", tc.name, resp.StatusCode, body)
		}
		for _, w := range tc.wants {
			if !strings.Contains(body, w) {
				t.Errorf("%s: the overview lacks %q", tc.name, w)
			}
		}
		if strings.Contains(body, "table gone") {
			t.Errorf("%s: the store's error is on the page", tc.name)
		}
		if strings.Contains(body, evil) {
			t.Errorf("%s: a detector name went unescaped", tc.name)
		}
	}
}
