package feeds

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"

	"github.com/trackwatch/trackwatch/secret"
)

type fakeProducer struct {
	mu   sync.Mutex
	msgs []kafka.Message
	err  error
}

func (p *fakeProducer) WriteMessages(_ context.Context, msgs ...kafka.Message) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return p.err
	}
	p.msgs = append(p.msgs, msgs...)
	return nil
}

type fakeDeadLetters struct {
	mu   sync.Mutex
	dead []DeadLetter
}

func (d *fakeDeadLetters) store(_ context.Context, dl DeadLetter) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.dead = append(d.dead, dl)
	return nil
}

const testSecret = "whsec-0123456789abcdef"

var testNow = time.Date(2026, 10, 3, 10, 0, 0, 0, time.UTC)

func newTestServer(t *testing.T, cfg Config, p Producer, d *fakeDeadLetters) (*httptest.Server, *Handler) {
	t.Helper()
	h, err := NewHandler(HandlerOptions{Config: cfg, Producer: p, DeadLetters: d.store, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /ingest/v1/{provider}", h)
	mux.Handle("HEAD /ingest/v1/{provider}", h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, h
}

func allProviders() Config {
	var cfg Config
	for _, p := range Providers() {
		cfg = append(cfg, Webhook{Provider: p, Secret: secret.String(testSecret)})
	}
	return cfg
}

var payloadOf = map[string]string{AfterShip: "aftership.json", SeventeenTrack: "17track.json", TrackingMore: "trackingmore.json",
	EasyPost: "easypost.json", Ship24: "ship24.json", Shopify: "shopify_fulfillment.json"}

func post(t *testing.T, url string, h http.Header, body []byte) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestSignedWebhooksOfEveryProviderAreProducedAndForgedOnesAreNot(t *testing.T) {
	p, d := &fakeProducer{}, &fakeDeadLetters{}
	srv, _ := newTestServer(t, allProviders(), p, d)
	for _, name := range Providers() {
		t.Run(name, func(t *testing.T) {
			body := readPayload(t, payloadOf[name])
			h := http.Header{"Content-Type": {"application/json"}, "X-Shopify-Topic": {"fulfillments/create"}}
			sign(name, h, body, testSecret, testNow)
			before := len(p.msgs)
			if resp := post(t, srv.URL+"/ingest/v1/"+name, h, body); resp.StatusCode != http.StatusOK {
				t.Fatalf("signed as %s signs: %d", name, resp.StatusCode)
			}
			if len(p.msgs) == before {
				t.Fatal("nothing produced")
			}
			for _, m := range p.msgs[before:] {
				if want := "tracking-events"; name == Shopify {
					if m.Topic != "order-events" {
						t.Fatalf("topic %s", m.Topic)
					}
				} else if m.Topic != want {
					t.Fatalf("topic %s", m.Topic)
				}
			}
			before = len(p.msgs)
			for i, forged := range []http.Header{
				{},
				signedWith(name, body, "another-secret-entirely"),
				signedWith(name, append([]byte(" "), body...), testSecret), // a signature of other bytes
			} {
				if i == 2 && (name == TrackingMore || name == Ship24) {
					continue // these schemes do not sign the body
				}
				if resp := post(t, srv.URL+"/ingest/v1/"+name, forged, body); resp.StatusCode != http.StatusUnauthorized {
					t.Fatalf("forged %v: %d, want 401", forged, resp.StatusCode)
				}
			}
			if len(p.msgs) != before {
				t.Fatal("a forged request produced events")
			}
		})
	}
	if len(d.dead) != 0 {
		t.Fatalf("dead letters: %+v", d.dead)
	}
}

func signedWith(provider string, body []byte, key string) http.Header {
	h := http.Header{}
	sign(provider, h, body, key, testNow)
	return h
}

func TestTrackingMoresSignedTimestampMustBeRecent(t *testing.T) {
	srv, _ := newTestServer(t, Config{{Provider: TrackingMore, Secret: testSecret}}, &fakeProducer{}, &fakeDeadLetters{})
	body := readPayload(t, "trackingmore.json")
	h := http.Header{}
	sign(TrackingMore, h, body, testSecret, testNow.Add(-time.Hour))
	if resp := post(t, srv.URL+"/ingest/v1/trackingmore", h, body); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("an hour-old signed timestamp: %d, want 401", resp.StatusCode)
	}
}

func TestEasyPostKeysTheHMACWithTheSecretInNFKD(t *testing.T) {
	// "ﬁ" (U+FB01) is "fi" in NFKD: EasyPost's libraries normalise the secret so.
	srv, _ := newTestServer(t, Config{{Provider: EasyPost, Secret: "sec-ﬁxed-0123"}}, &fakeProducer{}, &fakeDeadLetters{})
	body := readPayload(t, "easypost.json")
	if resp := post(t, srv.URL+"/ingest/v1/easypost", signedWith(EasyPost, body, "sec-fixed-0123"), body); resp.StatusCode != http.StatusOK {
		t.Fatalf("signed with the NFKD secret: %d", resp.StatusCode)
	}
}

func TestBadRequestsAreAnsweredWithoutProducing(t *testing.T) {
	p, d := &fakeProducer{}, &fakeDeadLetters{}
	cfg := Config{{Provider: AfterShip, Secret: testSecret, MaxBodyBytes: 2048, RatePerSecond: 0.001, Burst: 3}}
	srv, _ := newTestServer(t, cfg, p, d)
	url := srv.URL + "/ingest/v1/aftership"
	big := []byte(`{"msg":"` + strings.Repeat("x", 4096) + `"}`)
	if resp := post(t, url, signedWith(AfterShip, big, testSecret), big); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized: %d, want 413", resp.StatusCode)
	}
	bad := []byte(`{"msg": {`)
	if resp := post(t, url, signedWith(AfterShip, bad, testSecret), bad); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("malformed JSON: %d, want 400", resp.StatusCode)
	}
	if resp := post(t, srv.URL+"/ingest/v1/fedex", nil, []byte(`{}`)); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown provider: %d, want 404", resp.StatusCode)
	}
	if resp := post(t, srv.URL+"/ingest/v1/shopify", nil, []byte(`{}`)); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("a provider not configured: %d, want 404", resp.StatusCode)
	}
	unmapped := []byte(`{"event":"tracking_update","msg":{"slug":"usps"}}`)
	if resp := post(t, url, signedWith(AfterShip, unmapped, testSecret), unmapped); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("verified but unmappable: %d, want 202", resp.StatusCode)
	}
	if len(d.dead) != 1 || d.dead[0].Provider != AfterShip || d.dead[0].Reason != ReasonUnknownShape || !bytes.Equal(d.dead[0].Raw, unmapped) {
		t.Fatalf("dead letters %+v", d.dead)
	}
	// the burst of 3 is spent: the next request is refused before it is read
	body := readPayload(t, "aftership.json")
	if resp := post(t, url, signedWith(AfterShip, body, testSecret), body); resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("over the rate: %d, want 429 with Retry-After", resp.StatusCode)
	}
	if len(p.msgs) != 0 {
		t.Fatalf("produced %d messages", len(p.msgs))
	}
}

func TestABrokerThatDoesNotAcknowledgeAnswers503WithRetryAfter(t *testing.T) {
	p := &fakeProducer{err: errors.New("dial tcp: connection refused")}
	srv, h := newTestServer(t, Config{{Provider: SeventeenTrack, Secret: testSecret}}, p, &fakeDeadLetters{})
	body := readPayload(t, "17track.json")
	resp := post(t, srv.URL+"/ingest/v1/17track", signedWith(SeventeenTrack, body, testSecret), body)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "10" {
		t.Fatalf("broker down: %d Retry-After %q, want 503 and 10", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if got := testutil.ToFloat64(h.opts.Metrics.Requests.WithLabelValues(SeventeenTrack, "unavailable")); got != 1 {
		t.Fatalf("unavailable counted %g times", got)
	}
}

func TestASecretRotatedOnReloadTakesEffect(t *testing.T) {
	srv, h := newTestServer(t, Config{{Provider: Ship24, Secret: testSecret}}, &fakeProducer{}, &fakeDeadLetters{})
	body := readPayload(t, "ship24.json")
	if err := h.Reload(Config{{Provider: Ship24, Secret: "the-next-secret-0001"}}); err != nil {
		t.Fatal(err)
	}
	if resp := post(t, srv.URL+"/ingest/v1/ship24", signedWith(Ship24, body, testSecret), body); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the old secret after rotation: %d", resp.StatusCode)
	}
	if resp := post(t, srv.URL+"/ingest/v1/ship24", signedWith(Ship24, body, "the-next-secret-0001"), body); resp.StatusCode != http.StatusOK {
		t.Fatalf("the new secret: %d", resp.StatusCode)
	}
	if err := h.Reload(Config{{Provider: AfterShip, Secret: testSecret}}); err == nil {
		t.Fatal("a provider added on reload was accepted")
	}
}

func TestSecretsNeverPrint(t *testing.T) {
	cfg := Config{{Provider: Shopify, Secret: testSecret}}
	b, _ := json.Marshal(cfg)
	if strings.Contains(string(b), testSecret) {
		t.Fatalf("secret in %s", b)
	}
	if err := (Config{{Provider: "fedex", Secret: testSecret}}).Validate(); err == nil || strings.Contains(err.Error(), testSecret) || !strings.Contains(err.Error(), "webhooks[0].provider") {
		t.Fatalf("bad provider: %v", err)
	}
	if err := (Config{{Provider: Shopify, Secret: "short"}}).Validate(); err == nil || strings.Contains(err.Error(), "short") {
		t.Fatalf("short secret: %v", err)
	}
}

func TestEveryProviderAnswers413ForAnOversizedBodyAnd503WhenTheBrokerIsDown(t *testing.T) {
	down := &fakeProducer{err: errors.New("kafka: leader not available")}
	cfg := allProviders()
	for i := range cfg {
		cfg[i].MaxBodyBytes = 4096
	}
	srv, _ := newTestServer(t, cfg, down, &fakeDeadLetters{})
	for _, name := range Providers() {
		t.Run(name, func(t *testing.T) {
			body := readPayload(t, payloadOf[name])
			h := http.Header{"X-Shopify-Topic": {"fulfillments/create"}}
			sign(name, h, body, testSecret, testNow)
			resp := post(t, srv.URL+"/ingest/v1/"+name, h, body)
			if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
				t.Fatalf("broker down: %d Retry-After %q, want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
			}
			big := append(bytes.Repeat([]byte(" "), 8192), body...) // still the provider's JSON, signed
			hb := http.Header{"X-Shopify-Topic": {"fulfillments/create"}}
			sign(name, hb, big, testSecret, testNow)
			if resp := post(t, srv.URL+"/ingest/v1/"+name, hb, big); resp.StatusCode != http.StatusRequestEntityTooLarge {
				t.Fatalf("oversized: %d, want 413", resp.StatusCode)
			}
		})
	}
}
