package alertmanager_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trackwatch/trackwatch/alert"
	"github.com/trackwatch/trackwatch/alert/notify"
	"github.com/trackwatch/trackwatch/alert/notify/alertmanager"
	"github.com/trackwatch/trackwatch/secret"
)

// These tests run a real Alertmanager (Debian's prometheus-alertmanager, or an
// alertmanager binary on PATH) and check what it makes of our posts through its own API.

const amConfig = `global:
  resolve_timeout: 5m
route:
  receiver: "null"
  group_by: ['alertname']
  group_wait: 1s
receivers:
  - name: "null"
`

// startAlertmanager runs an Alertmanager on a free local port until the test ends and
// returns its base URL.
func startAlertmanager(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("starts an Alertmanager")
	}
	bin, err := exec.LookPath("prometheus-alertmanager")
	if err != nil {
		bin, err = exec.LookPath("alertmanager")
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("no prometheus-alertmanager or alertmanager on PATH: CI installs it")
		}
		t.Skip("no prometheus-alertmanager or alertmanager on PATH (apt-get install prometheus-alertmanager)")
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(cfg, []byte(amConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	logFile, err := os.Create(filepath.Join(dir, "alertmanager.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config.file="+cfg, "--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		"--cluster.listen-address=") // empty: no clustering, no gossip port to collide on
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	logs := func() string { b, _ := os.ReadFile(logFile.Name()); return string(b) }
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		logFile.Close()
		if t.Failed() {
			t.Logf("alertmanager log:\n%s", logs())
		}
	})

	base := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		select {
		case <-exited:
			t.Fatalf("alertmanager exited before it was ready:\n%s", logs())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("alertmanager not ready after 30s (last error %v)", err)
		}
	}
}

// gettableAlert is the part of Alertmanager's GettableAlert the tests look at.
type gettableAlert struct {
	payload
	Fingerprint string `json:"fingerprint"`
	Status      struct {
		State string `json:"state"`
	} `json:"status"`
}

type alertGroup struct {
	Labels map[string]string `json:"labels"`
	Alerts []gettableAlert   `json:"alerts"`
}

func getJSON(t *testing.T, url string, into any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// alertsByOrder lists Alertmanager's alerts (GET /api/v2/alerts?query) by order_id.
func alertsByOrder(t *testing.T, base, query string) map[string]gettableAlert {
	t.Helper()
	var list []gettableAlert
	getJSON(t, base+"/api/v2/alerts"+query, &list)
	out := map[string]gettableAlert{}
	for _, a := range list {
		out[a.Labels["order_id"]] = a
	}
	return out
}

// groups maps each group's alertname to its alerts' order ids, sorted.
func groups(t *testing.T, base string) map[string][]string {
	t.Helper()
	var gs []alertGroup
	getJSON(t, base+"/api/v2/alerts/groups", &gs)
	out := map[string][]string{}
	for _, g := range gs {
		for _, a := range g.Alerts {
			out[g.Labels["alertname"]] = append(out[g.Labels["alertname"]], a.Labels["order_id"])
		}
		slices.Sort(out[g.Labels["alertname"]])
	}
	return out
}

// received reads Alertmanager's counter of alerts received through the v2 API with the
// given status (firing or resolved).
func received(t *testing.T, base, status string) int {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	want := fmt.Sprintf(`alertmanager_alerts_received_total{status=%q,version="v2"} `, status)
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), want); ok {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("metric %s%s: %v", want, v, err)
			}
			return int(n)
		}
	}
	t.Fatalf("no metric %s", want)
	return 0
}

// eventually polls cond until it returns "" or the deadline passes, then fails with
// its last complaint.
func eventually(t *testing.T, cond func() string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		msg := cond()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(msg)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func realNotifier(base string, maxAlerts int) *alertmanager.Notifier {
	r := notify.ReceiverConfig{Name: "am", Type: notify.TypeAlertmanager, URL: secret.String(base + "/"),
		ResendInterval: time.Minute, MaxAlerts: maxAlerts}
	return alertmanager.New(r, alertURL, http.DefaultClient)
}

// liveAlert is a firing alert of detector on order that first fired at start.
func liveAlert(detector, order string, start time.Time) alert.Alert {
	a := firing(order)
	a.Detector, a.AlertID, a.FirstDetectedAt, a.LastDetectedAt, a.AsOf = detector, detector+"_"+order, start, start, start
	return a
}

func TestRealAlertmanagerFiresGroupsAndResolves(t *testing.T) {
	base := startAlertmanager(t)
	n := realNotifier(base, 64)
	// Alertmanager hides alerts whose endsAt has passed by its own clock, so the test
	// runs at the real time; whole seconds keep the comparisons exact.
	now := time.Now().UTC().Truncate(time.Second)
	a1 := liveAlert("stalled_eir", "O-1", now.Add(-time.Hour))
	a2 := liveAlert("stalled_eir", "O-2", now.Add(-time.Hour))
	a3 := liveAlert("never_scanned", "O-3", now.Add(-time.Hour))
	a3.SellerID, a3.Recommendation = "", "" // empty labels: left out, the post still accepted
	err := n.Notify(t.Context(), notify.Delivery{ID: "d1", Attempt: 1, Now: now, Changes: []alert.Change{
		{ChangeID: "c1", Kind: alert.ChangeFired, Alert: a1},
		{ChangeID: "c2", Kind: alert.ChangeFired, Alert: a2},
		{ChangeID: "c3", Kind: alert.ChangeRefired, Alert: a3},
	}})
	if err != nil {
		t.Fatal(err)
	}

	got := alertsByOrder(t, base, "")
	for _, a := range []alert.Alert{a1, a2, a3} {
		g, ok := got[a.OrderID]
		if !ok {
			t.Fatalf("Alertmanager does not list order %s: %v", a.OrderID, got)
		}
		want := map[string]string{"alertname": a.Detector, "severity": "high", "marketplace": "aliexpress",
			"order_id": a.OrderID, "tracking_number": "RR123456785CN"}
		if a.SellerID != "" {
			want["seller_id"], want["recommendation"] = a.SellerID, string(a.Recommendation)
		}
		if !maps.Equal(g.Labels, want) {
			t.Errorf("%s: labels %v, want %v", a.OrderID, g.Labels, want)
		}
		if g.Status.State != "active" {
			t.Errorf("%s: state %q, want active", a.OrderID, g.Status.State)
		}
		if !g.StartsAt.Equal(a.FirstDetectedAt) || !g.EndsAt.Equal(now.Add(4*time.Minute)) {
			t.Errorf("%s: active %s..%s, want %s..%s", a.OrderID, g.StartsAt, g.EndsAt, a.FirstDetectedAt, now.Add(4*time.Minute))
		}
		if g.Annotations["alert_id"] != a.AlertID || g.Annotations["reason"] != a.Reason || g.GeneratorURL != alertURL(a.AlertID) {
			t.Errorf("%s: annotations %v, generatorURL %q", a.OrderID, g.Annotations, g.GeneratorURL)
		}
	}
	// Alerts join their aggregation groups asynchronously (the dispatcher subscribes to
	// the alert store), so the groups are polled.
	wantGroups := map[string][]string{"stalled_eir": {"O-1", "O-2"}, "never_scanned": {"O-3"}}
	eventually(t, func() string {
		if g := groups(t, base); !maps.EqualFunc(g, wantGroups, slices.Equal) {
			return fmt.Sprintf("groups %v, want %v", g, wantGroups)
		}
		return ""
	})

	// Resolve O-1 a minute ago.
	resolvedAt := now.Add(-time.Minute)
	r1 := a1
	r1.Status, r1.ResolvedAt = alert.StatusResolved, &resolvedAt
	if err := n.Notify(t.Context(), notify.Delivery{ID: "d2", Attempt: 1, Now: now,
		Changes: []alert.Change{{ChangeID: "c4", Kind: alert.ChangeResolved, Alert: r1}}}); err != nil {
		t.Fatal(err)
	}
	// Alertmanager took it as a resolved alert...
	if n := received(t, base, "resolved"); n != 1 {
		t.Errorf("alertmanager_alerts_received_total{status=\"resolved\"} = %d, want 1", n)
	}
	// ... and its API no longer lists it at all, whatever the filters (it keeps the
	// resolved alert in memory until its GC, to notify the resolution), while the others
	// stay active.
	for _, q := range []string{"", "?active=true", "?active=false&silenced=true&inhibited=true&unprocessed=true"} {
		got := alertsByOrder(t, base, q)
		if _, ok := got["O-1"]; ok {
			t.Errorf("GET /api/v2/alerts%s still lists the resolved alert: %+v", q, got["O-1"])
		}
	}
	got = alertsByOrder(t, base, "?active=true")
	if got["O-2"].Status.State != "active" || got["O-3"].Status.State != "active" {
		t.Errorf("the other alerts are no longer active: %+v", got)
	}
	wantGroups = map[string][]string{"stalled_eir": {"O-2"}, "never_scanned": {"O-3"}}
	eventually(t, func() string {
		if g := groups(t, base); !maps.EqualFunc(g, wantGroups, slices.Equal) {
			return fmt.Sprintf("groups after the resolution %v, want %v", g, wantGroups)
		}
		return ""
	})

	// It fires again: a new episode, listed again with its new start.
	refiredAt := now.Add(time.Second)
	f1 := liveAlert("stalled_eir", "O-1", refiredAt)
	if err := n.Notify(t.Context(), notify.Delivery{ID: "d3", Attempt: 1, Now: refiredAt,
		Changes: []alert.Change{{ChangeID: "c5", Kind: alert.ChangeRefired, Alert: f1}}}); err != nil {
		t.Fatal(err)
	}
	g, ok := alertsByOrder(t, base, "")["O-1"]
	if !ok || g.Status.State != "active" || !g.StartsAt.Equal(refiredAt) {
		t.Errorf("refired alert listed %v as %+v, want active from %s", ok, g, refiredAt)
	}
}

func TestRealAlertmanagerResendMovesEndsAtForward(t *testing.T) {
	base := startAlertmanager(t)
	n := realNotifier(base, 2) // three alerts: two requests
	now := time.Now().UTC().Truncate(time.Second)
	alerts := []alert.Alert{
		liveAlert("stalled_eir", "O-1", now.Add(-time.Hour)),
		liveAlert("stalled_eir", "O-2", now.Add(-time.Hour)),
		liveAlert("tracking_reuse", "O-3", now.Add(-time.Hour)),
	}
	for _, at := range []time.Time{now, now.Add(time.Minute), now.Add(2 * time.Minute)} {
		if err := n.Resend(t.Context(), alerts, at); err != nil {
			t.Fatal(err)
		}
		got := alertsByOrder(t, base, "?active=true")
		for _, a := range alerts {
			g, ok := got[a.OrderID]
			if !ok {
				t.Fatalf("resent at %s: order %s not active: %v", at, a.OrderID, got)
			}
			// Alertmanager merges a repost into the alert it has: the start stays, the
			// end is the latest given.
			if !g.EndsAt.Equal(at.Add(4*time.Minute)) || !g.StartsAt.Equal(a.FirstDetectedAt) {
				t.Errorf("resent at %s: %s active %s..%s, want %s..%s", at, a.OrderID, g.StartsAt, g.EndsAt,
					a.FirstDetectedAt, at.Add(4*time.Minute))
			}
		}
	}
	if n := received(t, base, "firing"); n != 9 {
		t.Errorf("alertmanager_alerts_received_total{status=\"firing\"} = %d, want 9 (3 alerts, 3 resends)", n)
	}
}
