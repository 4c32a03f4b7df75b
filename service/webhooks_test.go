package service_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/trackwatch/trackwatch/carrier"
	"github.com/trackwatch/trackwatch/config"
	"github.com/trackwatch/trackwatch/detect"
	"github.com/trackwatch/trackwatch/devstack/devstacktest"
	"github.com/trackwatch/trackwatch/feeds"
	"github.com/trackwatch/trackwatch/secret"
	"github.com/trackwatch/trackwatch/service"
)

const hookSecret = "whsec-service-test-0123456789"

// signHook signs body as provider's documentation shows, independently of package feeds.
func signHook(provider string, h http.Header, body []byte, now time.Time) {
	mac := func(msg []byte) []byte {
		m := hmac.New(sha256.New, []byte(hookSecret))
		m.Write(msg)
		return m.Sum(nil)
	}
	switch provider {
	case feeds.AfterShip:
		h.Set("aftership-hmac-sha256", base64.StdEncoding.EncodeToString(mac(body)))
	case feeds.Shopify:
		h.Set("X-Shopify-Hmac-Sha256", base64.StdEncoding.EncodeToString(mac(body)))
	case feeds.SeventeenTrack:
		sum := sha256.Sum256([]byte(string(body) + "/" + hookSecret))
		h.Set("sign", hex.EncodeToString(sum[:]))
	case feeds.TrackingMore:
		ts := strconv.FormatInt(now.Unix(), 10)
		h.Set("timestamp", ts)
		h.Set("signature", hex.EncodeToString(mac([]byte(ts))))
	case feeds.EasyPost:
		h.Set("X-Hmac-Signature", "hmac-sha256-hex="+hex.EncodeToString(mac(body)))
	case feeds.Ship24:
		h.Set("Authorization", "Bearer "+hookSecret)
	}
}

func hookConfig(t *testing.T) config.Config {
	t.Helper()
	cfg := embeddedConfig(t, t.TempDir())
	for _, p := range feeds.Providers() {
		cfg.Ingest.Webhooks = append(cfg.Ingest.Webhooks, feeds.Webhook{Provider: p, Secret: secret.String(hookSecret), Marketplace: "demo-shop"})
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func postHook(t *testing.T, base, provider string, body []byte, h http.Header) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/ingest/v1/"+provider, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func sendSigned(t *testing.T, base, provider string, body []byte, topic string) int {
	t.Helper()
	h := http.Header{"X-Shopify-Topic": {topic}, "X-Shopify-Shop-Domain": {"demo.myshopify.com"}}
	signHook(provider, h, body, time.Now())
	return postHook(t, base, provider, body, h)
}

func payload(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "feeds", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func connectTo(t *testing.T, cfg config.Config, ep service.Endpoints) *service.Clients {
	t.Helper()
	cfg.Kafka.Brokers, cfg.ClickHouse.Addr = ep.Brokers, ep.ClickHouseAddr
	c, err := service.Connect(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// waitCount polls a count until it is want (or the minute is over) and returns it.
func waitCount(t *testing.T, conn driver.Conn, want uint64, query string, args ...any) uint64 {
	t.Helper()
	var n uint64
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if err := conn.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == want {
			return n
		}
	}
	return n
}

func TestEveryProvidersWebhooksAreStoredOnceThroughKafka(t *testing.T) {
	devstacktest.RequireLib(t)
	cfg := hookConfig(t)
	ep := startRun(t, cfg, service.Options{Logger: devstacktest.Logger(), NoDetect: true}, nil)
	base := "http://" + ep.HTTP
	ch := connectTo(t, cfg, ep).ClickHouse
	tracking := map[string]string{feeds.AfterShip: "aftership.json", feeds.SeventeenTrack: "17track.json", feeds.TrackingMore: "trackingmore.json",
		feeds.EasyPost: "easypost.json", feeds.Ship24: "ship24.json"}
	for provider, file := range tracking {
		body := payload(t, file)
		for range 2 { // a provider's retry: the same body again
			if code := sendSigned(t, base, provider, body, ""); code != http.StatusOK {
				t.Fatalf("%s: %d", provider, code)
			}
		}
		// a forged copy of another number: 401, nothing of it stored
		forged := body
		for _, n := range []string{"RR123456785CN", "9400111899223818218407", "9400110898825022579493", "S24DEMO456393"} {
			forged = bytes.ReplaceAll(forged, []byte(`"`+n), []byte(`"FORGED`+n))
		}
		if bytes.Equal(forged, body) {
			t.Fatalf("%s: no number to forge in %s", provider, file)
		}
		h := http.Header{}
		signHook(provider, h, body, time.Now()) // the signature of other bytes
		if provider == feeds.TrackingMore || provider == feeds.Ship24 {
			h = http.Header{"Authorization": {"Bearer not-the-secret"}, "timestamp": {"1"}, "signature": {"00"}}
		}
		if code := postHook(t, base, provider, forged, h); code != http.StatusUnauthorized {
			t.Fatalf("%s forged: %d, want 401", provider, code)
		}
	}
	for _, f := range []struct{ file, topic string }{{"shopify_order.json", "orders/paid"}, {"shopify_fulfillment.json", "fulfillments/create"}} {
		for range 2 {
			if code := sendSigned(t, base, feeds.Shopify, payload(t, f.file), f.topic); code != http.StatusOK {
				t.Fatalf("shopify %s: %d", f.topic, code)
			}
		}
	}
	big := []byte(`{"msg":"` + strings.Repeat("x", 2<<20) + `"}`)
	if code := sendSigned(t, base, feeds.AfterShip, big, ""); code != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized: %d, want 413", code)
	}

	// two checkpoints each from five providers, each sent twice; placed, paid, shipped
	if n := waitCount(t, ch, 10, "SELECT count() FROM trackwatch.tracking_events FINAL WHERE provider != ''"); n != 10 {
		t.Fatalf("%d tracking events stored, want 10", n)
	}
	if n := waitCount(t, ch, 3, "SELECT count() FROM trackwatch.order_events FINAL WHERE marketplace = 'demo-shop'"); n != 3 {
		t.Fatalf("%d order events stored, want 3", n)
	}
	var forged uint64
	if err := ch.QueryRow(context.Background(), "SELECT count() FROM trackwatch.tracking_events WHERE tracking_number LIKE 'FORGED%'").Scan(&forged); err != nil || forged != 0 {
		t.Fatalf("forged events stored: %d %v", forged, err)
	}
	// the provider's reading stored beside the words, and deciding where no phrase knows them
	var sub, ps string
	if err := ch.QueryRow(context.Background(), "SELECT sub_status, provider_status FROM trackwatch.tracking_events FINAL WHERE provider = 'ship24' AND raw_status = 'Departure from outward office of exchange'").Scan(&sub, &ps); err != nil {
		t.Fatal(err)
	}
	if ps != "in_transit/departed" || sub != "in_transit/departed" {
		t.Fatalf("ship24's departure (words usps's table does not know): stored %s, provider %s", sub, ps)
	}

	// a whole history re-sent later, with a checkpoint more: only the new one is added
	more := bytes.Replace(payload(t, "aftership.json"), []byte(`"checkpoints": [`), []byte(`"checkpoints": [
      {"slug": "china-post", "message": "Arrival at inward office of exchange", "tag": "InTransit", "subtag": "InTransit_003",
       "checkpoint_time": "2026-10-05T06:12:00-07:00", "location": "LOS ANGELES", "country_iso3": "USA"},`), 1)
	if code := sendSigned(t, base, feeds.AfterShip, more, ""); code != http.StatusOK {
		t.Fatalf("history re-sent: %d", code)
	}
	if n := waitCount(t, ch, 3, "SELECT count() FROM trackwatch.tracking_events FINAL WHERE provider = 'aftership'"); n != 3 {
		t.Fatalf("%d aftership events after the history was re-sent, want 3", n)
	}
}

func TestABrokerThatIsDownAnswers503(t *testing.T) {
	cfg := config.Config{}
	cfg.Ingest.Webhooks = feeds.Config{{Provider: feeds.EasyPost, Secret: hookSecret}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	h, stop, err := service.Webhooks(cfg, []string{"127.0.0.1:" + strconv.Itoa(devstacktest.FreePort(t))}, nil, nil, devstacktest.Logger())
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	mux := http.NewServeMux()
	mux.Handle("POST /ingest/v1/{provider}", h)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/ingest/v1/easypost", bytes.NewReader(payload(t, "easypost.json")))
	signHook(feeds.EasyPost, req.Header, payload(t, "easypost.json"), time.Now())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("broker down: %d, Retry-After %q; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

// A pre-advice-only number whose words no phrase table knows, read as "info received"
// by the aggregator, and the Shopify order that carries it: the detectors flag it as
// stalled pre-advice and recommend a dispute.
func TestAProviderPreAdviceOnWordsNoTableKnowsGivesAStalledEIRAlert(t *testing.T) {
	devstacktest.RequireLib(t)
	const words = "Shipment record created in partner system"
	table, err := carrier.Default()
	if err != nil {
		t.Fatal(err)
	}
	if sub := table.Classify("china-post", words); sub != carrier.Unknown {
		t.Fatalf("a phrase table knows %q (%s): choose other words", words, sub)
	}
	cfg := hookConfig(t)
	ep := startRun(t, cfg, service.Options{Logger: devstacktest.Logger(), NoDetect: true}, nil)
	base := "http://" + ep.HTTP
	clients := connectTo(t, cfg, ep)

	// AfterShip's documented webhook, cut to one checkpoint with these words and its tag
	aftership := []byte(`{"event": "tracking_update", "event_id": "8a1f0c3e-3b0a-4d43-9f61-0a8c1b3a7e55", "is_tracking_first_tag": true,
  "msg": {"id": "5b74f4958776db0e00b6f5ee", "tracking_number": "RR123456785CN", "slug": "china-post", "tag": "InfoReceived",
    "subtag": "InfoReceived_001", "destination_country_iso3": "USA",
    "checkpoints": [{"slug": "china-post", "message": "` + words + `", "tag": "InfoReceived", "subtag": "InfoReceived_001",
      "subtag_message": "Info Received", "checkpoint_time": "2026-10-01T10:02:00+08:00", "location": "Shenzhen", "country_iso3": "CHN"}]},
  "ts": 1790834520}`)
	if code := sendSigned(t, base, feeds.AfterShip, aftership, ""); code != http.StatusOK {
		t.Fatalf("aftership: %d", code)
	}
	for _, f := range []struct{ file, topic string }{{"shopify_order.json", "orders/paid"}, {"shopify_fulfillment.json", "fulfillments/create"}} {
		if code := sendSigned(t, base, feeds.Shopify, payload(t, f.file), f.topic); code != http.StatusOK {
			t.Fatalf("shopify %s: %d", f.topic, code)
		}
	}
	if n := waitCount(t, clients.ClickHouse, 1, "SELECT count() FROM trackwatch.tracking_events FINAL WHERE tracking_number = 'RR123456785CN' AND sub_status = 'info_received/pre_advice'"); n != 1 {
		t.Fatalf("%d pre-advice events stored, want 1", n)
	}
	if n := waitCount(t, clients.ClickHouse, 1, "SELECT count() FROM trackwatch.order_events FINAL WHERE order_id = {o:String} AND status = 'shipped'", clickhouse.Named("o", "820982911946154508")); n != 1 {
		t.Fatalf("%d shipped events stored, want 1", n)
	}
	set, err := detect.NewSet(cfg.ClickHouse.Database)
	if err != nil {
		t.Fatal(err)
	}
	asOf := time.Date(2026, 10, 12, 12, 0, 0, 0, time.UTC)
	findings, _, err := clients.Detect(context.Background(), set, cfg.Detect, asOf, true)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range findings {
		got = append(got, f.Detector+"/"+string(f.Recommendation))
		if f.Detector == "stalled_eir" && f.OrderID == "820982911946154508" && f.TrackingNumber == "RR123456785CN" && f.Recommendation == detect.RecommendOpenDispute {
			return
		}
	}
	t.Fatalf("no stalled_eir finding with open_dispute; findings: %v", got)
}

func TestSIGHUPRotatesAWebhookSecretFromItsFile(t *testing.T) {
	devstacktest.RequireLib(t)
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "ship24")
	if err := os.WriteFile(secretFile, []byte("first-ship24-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(dir, "trackwatch.yaml")
	if err := os.WriteFile(cfgFile, []byte("ingest:\n  webhooks:\n    - {provider: ship24, secret_file: "+secretFile+"}\n"), 0o600); err != nil {
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
	body := payload(t, "ship24.json")
	status := func(secret string) int {
		return postHook(t, "http://"+ep.HTTP, feeds.Ship24, body, http.Header{"Authorization": {"Bearer " + secret}})
	}
	if got := status("first-ship24-secret"); got != http.StatusOK {
		t.Fatalf("the first secret: %d", got)
	}
	if err := os.WriteFile(secretFile, []byte("second-ship24-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_ = syscall.Kill(os.Getpid(), syscall.SIGHUP)
	for deadline := time.Now().Add(30 * time.Second); status("second-ship24-secret") != http.StatusOK; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the rotated secret not accepted within 30 s")
		}
	}
	if got := status("first-ship24-secret"); got != http.StatusUnauthorized {
		t.Fatalf("the rotated-out secret: %d, want 401", got)
	}
}

func TestWebhooksOnAListenerOfTheirOwnAreNotOnTheAPIs(t *testing.T) {
	devstacktest.RequireLib(t)
	cfg := hookConfig(t)
	cfg.Ingest.WebhooksListen = "127.0.0.1:" + strconv.Itoa(devstacktest.FreePort(t))
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ep := startRun(t, cfg, service.Options{Logger: devstacktest.Logger(), NoDetect: true}, nil)
	if ep.Webhooks != cfg.Ingest.WebhooksListen || ep.Webhooks == ep.HTTP {
		t.Fatalf("webhooks served at %s, the API at %s; want %s", ep.Webhooks, ep.HTTP, cfg.Ingest.WebhooksListen)
	}
	body := payload(t, "ship24.json")
	if code := sendSigned(t, "http://"+ep.Webhooks, feeds.Ship24, body, ""); code != http.StatusOK {
		t.Fatalf("on the webhooks' listener: %d", code)
	}
	if code := sendSigned(t, "http://"+ep.HTTP, feeds.Ship24, body, ""); code != http.StatusNotFound {
		t.Fatalf("on the API's listener: %d, want 404", code)
	}
	resp, err := http.Get("http://" + ep.Webhooks + "/api/v1/alerts")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("the API on the webhooks' listener: %d, want 404", resp.StatusCode)
	}
}
