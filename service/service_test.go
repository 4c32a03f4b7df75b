package service_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/trackwatch/trackwatch/alert"
	"github.com/trackwatch/trackwatch/alert/notify"
	"github.com/trackwatch/trackwatch/alert/notify/webhook"
	"github.com/trackwatch/trackwatch/config"
	"github.com/trackwatch/trackwatch/devstack"
	"github.com/trackwatch/trackwatch/devstack/devstacktest"
	"github.com/trackwatch/trackwatch/httpapi"
	"github.com/trackwatch/trackwatch/lookup"
	"github.com/trackwatch/trackwatch/secret"
	"github.com/trackwatch/trackwatch/service"
)

func TestMain(m *testing.M) {
	devstack.RunChildIfRequested()
	os.Exit(m.Run())
}

// embeddedConfig is the default config on free ports, with data in dir.
func embeddedConfig(t *testing.T, dir string) config.Config {
	t.Helper()
	ch := devstacktest.ClickHouseConfig(t, filepath.Join(dir, "clickhouse"))
	cfg, err := config.Load(config.Sources{File: filepath.Join("..", "trackwatch.yaml"), Sets: []string{
		"http.listen=127.0.0.1:0",
		"embedded.kafka.listen=127.0.0.1:0",
		"embedded.kafka.data_dir=" + filepath.Join(dir, "kafka"),
		"embedded.clickhouse.data_dir=" + ch.DataDir,
		"embedded.clickhouse.lib_path=" + ch.LibPath,
		"embedded.clickhouse.tcp_port=" + strconv.Itoa(ch.TCPPort),
		"embedded.clickhouse.http_port=" + strconv.Itoa(ch.HTTPPort),
	}})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestRunOnEmbeddedDefaultIsHealthyAndStopsCleanly(t *testing.T) {
	cfg := embeddedConfig(t, t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan service.Endpoints, 1)
	done := make(chan error, 1)
	go func() {
		done <- service.Run(ctx, cfg, service.Options{Logger: devstacktest.Logger(), Ready: func(ep service.Endpoints) { ready <- ep }})
	}()
	var ep service.Endpoints
	select {
	case ep = <-ready:
	case err := <-done:
		t.Fatalf("run ended before ready: %v", err)
	case <-time.After(2 * time.Minute):
		t.Fatal("not ready within 2 minutes")
	}
	resp, err := http.Get("http://" + ep.HTTP + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	var h httpapi.Health
	_ = json.NewDecoder(resp.Body).Decode(&h)
	resp.Body.Close()
	if resp.StatusCode != 200 || h.Checks["kafka"] != "ok" || h.Checks["clickhouse"] != "ok" {
		t.Fatalf("healthz = %d %+v", resp.StatusCode, h)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run returned %v after cancel", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("run did not stop within a minute of cancel")
	}
	// Everything was released: the same directories can be used again at once.
	stack, err := service.StartStack(context.Background(), cfg, false, devstacktest.Logger())
	if err != nil {
		t.Fatalf("restart on the same data: %v", err)
	}
	stack.Close()
}

// A user's path: trackwatch run with a webhook receiver and the demo's traffic delivers
// signed notifications of the detectors' alerts, which the official Standard Webhooks
// library verifies.
func TestRunDeliversAlertChangesToAWebhookReceiver(t *testing.T) {
	const signing = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	wh, _ := standardwebhooks.NewWebhook(signing)
	got := make(chan webhook.Payload, 1000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := wh.Verify(body, r.Header); err != nil {
			t.Errorf("delivery does not verify: %v", err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var p webhook.Payload
		_ = json.Unmarshal(body, &p)
		got <- p
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	cfg := embeddedConfig(t, t.TempDir())
	cfg.Detect.Schedule = "@every 2s"
	cfg.Notify.Receivers = []notify.ReceiverConfig{{Name: "hook", Type: notify.TypeWebhook, URL: secret.String(srv.URL), Secret: signing}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	ready := make(chan service.Endpoints, 1)
	go func() {
		done <- service.Run(ctx, cfg, service.Options{Logger: devstacktest.Logger(), Demo: &service.DemoOptions{Interval: time.Hour, Orders: 30},
			Ready: func(ep service.Endpoints) { ready <- ep }})
	}()
	defer func() {
		cancel()
		<-done
	}()
	var first webhook.Payload
	select {
	case first = <-got:
		if first.Type != webhook.TypeFiring || first.Data.ChangeID == "" || first.Data.Reason == "" || len(first.Data.Reasons) != 2 {
			t.Errorf("first delivery: %+v", first)
		}
	case err := <-done:
		t.Fatalf("run ended: %v", err)
	case <-time.After(3 * time.Minute):
		t.Fatal("no delivery within 3 minutes")
	}
	// The delivered alert is in the workspace API, and an analyst's action shows there.
	ep := <-ready
	base := "http://" + ep.HTTP + "/api/v1/alerts"
	var page alert.Page
	getJSON(t, base+"?status=firing&limit=1000", &page)
	found := false
	for _, a := range page.Alerts {
		found = found || a.AlertID == first.Data.AlertID
	}
	if !found {
		t.Fatalf("the delivered alert %s is not among %d firing alerts", first.Data.AlertID, len(page.Alerts))
	}
	resp, err := http.Post(base+"/"+first.Data.AlertID+"/actions", "application/json", strings.NewReader(`{"action":"acknowledge"}`))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("acknowledge: %v %v", resp, err)
	}
	resp.Body.Close()
	var d lookup.Detail
	getJSON(t, base+"/"+first.Data.AlertID, &d)
	if d.Case.State != alert.CaseAcknowledged || len(d.Actions) != 1 || d.Actions[0].Actor != "local" || len(d.Order) == 0 {
		t.Errorf("detail after acknowledge: case %+v, actions %+v, %d order events", d.Case, d.Actions, len(d.Order))
	}
}

// startRun starts service.Run with opts (its Ready set here) and returns the endpoints
// once it serves; the run stops at the end of the test. logs, when set, adds the run's
// log to a failure to start.
func startRun(t *testing.T, cfg config.Config, opts service.Options, logs fmt.Stringer) service.Endpoints {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan service.Endpoints, 1)
	done := make(chan error, 1)
	opts.Ready = func(ep service.Endpoints) { ready <- ep }
	go func() { done <- service.Run(ctx, cfg, opts) }()
	log := func() string {
		if logs == nil {
			return ""
		}
		return "\n" + logs.String()
	}
	select {
	case ep := <-ready:
		t.Cleanup(func() { cancel(); <-done })
		return ep
	case err := <-done:
		cancel()
		t.Fatalf("run ended before ready: %v%s", err, log())
	case <-time.After(2 * time.Minute):
		cancel()
		<-done
		t.Fatalf("not ready within 2 minutes%s", log())
	}
	return service.Endpoints{}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// A rotated token_file takes effect on SIGHUP, without a restart; a reload that fails
// keeps what runs.
func TestSIGHUPReloadsTheAPITokens(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("first-token-0123456789\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(dir, "trackwatch.yaml")
	if err := os.WriteFile(cfgFile, []byte("http:\n  tokens:\n    - {name: ana, role: analyst, token_file: "+tokenFile+"}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := embeddedConfig(t, dir)
	sets := []string{"http.listen=127.0.0.1:0", "embedded.kafka.listen=127.0.0.1:0", "embedded.kafka.data_dir=" + base.Embedded.Kafka.DataDir,
		"embedded.clickhouse.data_dir=" + base.Embedded.ClickHouse.DataDir, "embedded.clickhouse.lib_path=" + base.Embedded.ClickHouse.LibPath,
		"embedded.clickhouse.tcp_port=" + strconv.Itoa(base.Embedded.ClickHouse.TCPPort), "embedded.clickhouse.http_port=" + strconv.Itoa(base.Embedded.ClickHouse.HTTPPort)}
	load := func() (config.Config, error) { return config.Load(config.Sources{File: cfgFile, Sets: sets}) }
	cfg, err := load()
	if err != nil {
		t.Fatal(err)
	}
	ep := startRun(t, cfg, service.Options{Logger: devstacktest.Logger(), NoDetect: true, Reload: load}, nil)
	status := func(token string) int {
		req, _ := http.NewRequest(http.MethodGet, "http://"+ep.HTTP+"/api/v1/alerts", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := status("first-token-0123456789"); got != http.StatusOK {
		t.Fatalf("the first token: %d", got)
	}
	waitFor := func(what string, cond func() bool) {
		for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 30 s", what)
			}
		}
	}
	// A token file too short to be a token: the reload fails, the old token stays.
	if err := os.WriteFile(tokenFile, []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	_ = syscall.Kill(os.Getpid(), syscall.SIGHUP)
	time.Sleep(500 * time.Millisecond)
	if got := status("first-token-0123456789"); got != http.StatusOK {
		t.Fatalf("after a failed reload the running token was dropped: %d", got)
	}
	if err := os.WriteFile(tokenFile, []byte("second-token-0123456789\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_ = syscall.Kill(os.Getpid(), syscall.SIGHUP)
	waitFor("the rotated token accepted", func() bool { return status("second-token-0123456789") == http.StatusOK })
	if got := status("first-token-0123456789"); got != http.StatusUnauthorized {
		t.Fatalf("the rotated-out token: %d, want 401", got)
	}
}
