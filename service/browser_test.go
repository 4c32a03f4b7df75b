package service_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/trackwatch/trackwatch/alert"
	"github.com/trackwatch/trackwatch/backtest"
	"github.com/trackwatch/trackwatch/devstack/devstacktest"
	"github.com/trackwatch/trackwatch/lookup"
	"github.com/trackwatch/trackwatch/service"
)

// chromium returns Debian's chromium, or skips (fails under CI, which installs it).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is missing under CI; .ci/run installs Debian's chromium")
	}
	t.Skip("chromium not installed (apt-get install chromium)")
	return ""
}

// The dashboard in a real browser: the queue lists the simulator's cases, a filter
// narrows it, a case with two signals is closed from its page and the overview's
// precision counts it for both detectors, the alert page shows the carrier timeline,
// and an acknowledge from the page shows in the API; the overview charts a comparison
// of thresholds (backtest --vary) and the demo's labelled seller has its alert on its
// page. Each page is screenshotted into the test's directory, or into
// $TRACKWATCH_SCREENSHOTS (make screenshots: docs/screenshots).
func TestTheDashboardInABrowser(t *testing.T) {
	exe := chromium(t)
	shots := os.Getenv("TRACKWATCH_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	cfg := embeddedConfig(t, t.TempDir())
	cfg.Detect.Schedule = "@every 2s"
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	ready := make(chan service.Endpoints, 1)
	go func() {
		done <- service.Run(ctx, cfg, service.Options{Logger: devstacktest.Logger(), Demo: &service.DemoOptions{Interval: time.Hour, Orders: 60},
			Ready: func(ep service.Endpoints) { ready <- ep }})
	}()
	defer func() {
		cancel()
		<-done
	}()
	var ep service.Endpoints
	select {
	case ep = <-ready:
	case err := <-done:
		t.Fatalf("run ended: %v", err)
	case <-time.After(2 * time.Minute):
		t.Fatal("not ready")
	}
	base := "http://" + ep.HTTP
	var stalled alert.Page
	for deadline := time.Now().Add(2 * time.Minute); len(stalled.Alerts) == 0; time.Sleep(500 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no stalled_eir alert within 2 minutes")
		}
		getJSON(t, base+"/api/v1/alerts?detector=stalled_eir&status=firing", &stalled)
	}
	target := stalled.Alerts[0]
	// a case with two signals (or more), of another order than target's
	var two alert.CaseSummary
	for deadline := time.Now().Add(2 * time.Minute); two.CaseID == ""; time.Sleep(500 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no case with two signals within 2 minutes")
		}
		var cs alert.CasePage
		getJSON(t, base+"/api/v1/cases?min_signals=2&status=firing&limit=100", &cs)
		for _, c := range cs.Cases {
			if c.OrderID != target.OrderID && c.OrderID != "" {
				two = c
				break
			}
		}
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.Headless,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.WindowSize(1280, 1200), chromedp.UserDataDir(t.TempDir()),
		// shared memory in /tmp, not /dev/shm, which CI machines may keep small (chromium
		// once exited at start in CI; the cause was not found)
		chromedp.Flag("disable-dev-shm-usage", true))
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()
	if err := chromedp.Do(bctx); err != nil { // start the browser on a context without a timeout
		t.Fatal(err)
	}

	do := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, steps...); err != nil {
			t.Fatal(err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	do(chromedp.Navigate(base+"/queue"), chromedp.WaitVisible(chromedp.CSS(`table.cases tbody tr`)))
	queue := text(`table.cases`)
	shot("queue")
	do(chromedp.SetValue(chromedp.CSS(`select[name=detector]`), "stalled_eir"), chromedp.Click(chromedp.CSS(`form.filters button[type=submit]`)))
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) { // the filtered page has loaded
		loc, err := chromedp.Run(bctx, chromedp.Location())
		if err == nil && strings.Contains(loc, "detector=stalled_eir") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the filter did not load its page (at %s, %v)", loc, err)
		}
	}
	do(chromedp.WaitVisible(chromedp.CSS(`table.cases tbody tr`)))
	filtered := text(`table.cases tbody`)
	// the case with two signals: its page, closed from it, then the outcome on the
	// overview's precision for each of its detectors
	do(chromedp.Navigate(base+"/cases/"+two.CaseID), chromedp.WaitVisible(chromedp.CSS(`table.signals tbody tr`)))
	casePage := text(`main`)
	shot("case")
	do(chromedp.SetValue(chromedp.CSS(`form.actions select[name=outcome]`), "confirmed_fake"),
		chromedp.Click(chromedp.CSS(`form.actions button[value=close]`)), chromedp.WaitVisible(chromedp.CSS(`p.flash`)))
	closedPage := text(`main`)
	do(chromedp.Navigate(base+"/overview"), chromedp.WaitVisible(chromedp.CSS(`table.precision`)))
	precision := text(`table.precision`)
	do(chromedp.Navigate(base+"/alerts/"+target.AlertID), chromedp.WaitVisible(chromedp.CSS(`ol.timeline li`)))
	page := text(`main`)
	shot("alert")
	do(chromedp.Click(chromedp.CSS(`form.actions button[value=acknowledge]`)), chromedp.WaitVisible(chromedp.CSS(`p.flash`)))
	do(chromedp.Navigate(base+"/orders/"+target.OrderID), chromedp.WaitVisible(chromedp.CSS(`ol.journey li`)))
	order := text(`main`)
	shot("order")
	// thresholds compared on the demo's history (backtest --vary), then the overview
	// charts the comparison
	v, err := backtest.ParseVary("detect.stalled_days=5,7,10")
	if err != nil {
		t.Fatal(err)
	}
	runner, err := connectTo(t, cfg, ep).Backtests(context.Background(), cfg.Detect, devstacktest.Logger())
	if err != nil {
		t.Fatal(err)
	}
	noon := time.Now().UTC().Truncate(24 * time.Hour).Add(12 * time.Hour)
	cmp, _, err := runner.Vary(context.Background(), backtest.Options{From: noon.AddDate(0, 0, -15), To: noon.AddDate(0, 0, -1), Step: 48 * time.Hour}, v)
	if err != nil {
		t.Fatal(err)
	}
	do(chromedp.Navigate(base+"/overview"), chromedp.WaitVisible(chromedp.CSS(`svg.comparison`)))
	overview := text(`main`)
	shot("overview")
	// the labelled seller of the demo's first batch (a valid tracking rate of 0.6): its
	// alert, alone among the sellers, and its page
	var sellers alert.Page
	for deadline := time.Now().Add(time.Minute); len(sellers.Alerts) == 0; time.Sleep(500 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no seller_valid_tracking_rate alert within a minute")
		}
		getJSON(t, base+"/api/v1/alerts?detector=seller_valid_tracking_rate&status=firing", &sellers)
	}
	if len(sellers.Alerts) != 1 || sellers.Alerts[0].SellerID != "seller_low_vtr-1" || sellers.Alerts[0].OrderID != "" {
		t.Errorf("the sellers flagged: %+v, want seller_low_vtr-1 alone", sellers.Alerts)
	}
	do(chromedp.Navigate(base+"/sellers/"+sellers.Alerts[0].SellerID), chromedp.WaitVisible(chromedp.CSS(`h1`)))
	sellerPage := text(`main`)
	shot("seller")
	if !strings.Contains(sellerPage, "Valid tracking rate alerts") || !strings.Contains(sellerPage, sellers.Alerts[0].Reason) {
		t.Errorf("the seller page lacks its alert:\n%s", sellerPage)
	}
	if !strings.Contains(queue, target.OrderID) {
		t.Errorf("the queue does not list %s", target.OrderID)
	}
	for _, det := range two.Detectors {
		if !strings.Contains(casePage, det) {
			t.Errorf("the case page of %s lacks its signal %s:\n%s", two.OrderID, det, casePage)
		}
	}
	if !strings.Contains(casePage, "Dispute text") || !strings.Contains(casePage, "The buyer's journey") {
		t.Errorf("the case page lacks the dispute text or the journey:\n%s", casePage)
	}
	if !strings.Contains(closedPage, "close: 1 case(s)") || !strings.Contains(closedPage, "confirmed_fake") {
		t.Errorf("after closing, the case page says:\n%s", closedPage)
	}
	for _, det := range two.Detectors { // closed once, counted for each detector
		found := false
		for _, line := range strings.Split(precision, "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == det && f[1] != "0" {
				found = true
			}
		}
		if !found {
			t.Errorf("the overview's precision does not count the closed case for %s:\n%s", det, precision)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(filtered), "\n") {
		if strings.TrimSpace(line) != "" && !strings.Contains(line, "stalled_eir") {
			t.Errorf("the stalled_eir filter shows %q", line)
		}
	}
	if !strings.Contains(page, "info_received/pre_advice") || !strings.Contains(page, target.TrackingNumber) || !strings.Contains(page, "Dispute text") {
		t.Errorf("the alert page lacks the timeline or the dispute text:\n%s", page)
	}
	// the buyer's journey: the order's events and the number's scans, on the alert's page
	// and the order's
	for what, text := range map[string]string{"the alert page": page, "the order page": order} {
		if !strings.Contains(text, "The buyer's journey") || !strings.Contains(text, "shipment shipped") || !strings.Contains(text, "carrier info_received/pre_advice") {
			t.Errorf("%s lacks the buyer's journey:\n%s", what, text)
		}
	}
	if !strings.Contains(order, "stalled_eir") {
		t.Errorf("the order page does not list its alert:\n%s", order)
	}
	if !strings.Contains(overview, "Refunds by payment method") || !strings.Contains(overview, "Disputes that stall") {
		t.Errorf("the overview lacks the journey's figures:\n%s", overview)
	}
	if want := fmt.Sprintf("detect.stalled_days over 3 values, %d steps", cmp.Steps); !strings.Contains(overview, want) { // read from backtest_comparisons
		t.Errorf("the overview lacks the thresholds compared (%q):\n%s", want, overview)
	}
	var d lookup.Detail
	getJSON(t, base+"/api/v1/alerts/"+target.AlertID, &d)
	if d.Case.State != alert.CaseAcknowledged || len(d.Actions) != 1 || d.Actions[0].Actor != "local" {
		t.Errorf("after acknowledging in the page, the API says %+v, %+v", d.Case, d.Actions)
	}
}
