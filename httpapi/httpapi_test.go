package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trackwatch/trackwatch/httpapi"
)

func TestHealthzReportsEachDependency(t *testing.T) {
	for _, tc := range []struct {
		name       string
		kafkaErr   error
		wantCode   int
		wantStatus string
	}{
		{"all reachable is ok", nil, 200, "ok"},
		{"kafka down is unavailable and says why", errors.New("dial tcp: connection refused"), 503, "unavailable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			reg.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "trackwatch_test_total", Help: "x"}))
			s, err := httpapi.New(httpapi.Config{}, map[string]httpapi.Check{
				"kafka":      func(context.Context) error { return tc.kafkaErr },
				"clickhouse": func(context.Context) error { return nil },
			}, reg, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(s.Mux)
			defer srv.Close()

			resp, err := http.Get(srv.URL + "/healthz")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var h httpapi.Health
			if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.wantCode || h.Status != tc.wantStatus {
				t.Fatalf("got %d %+v, want %d %s", resp.StatusCode, h, tc.wantCode, tc.wantStatus)
			}
			if tc.kafkaErr != nil && h.Checks["kafka"] != tc.kafkaErr.Error() {
				t.Fatalf("kafka check = %q, want the error", h.Checks["kafka"])
			}
			if h.Checks["clickhouse"] != "ok" {
				t.Fatalf("clickhouse check = %q", h.Checks["clickhouse"])
			}

			m, err := http.Get(srv.URL + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(m.Body)
			m.Body.Close()
			if !strings.Contains(string(body), "trackwatch_test_total") {
				t.Fatalf("/metrics lacks the registered metric:\n%s", body)
			}
		})
	}
}

func TestBadListenAddressNamesTheKey(t *testing.T) {
	_, err := httpapi.New(httpapi.Config{Listen: "8080"}, nil, prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "listen:") {
		t.Fatalf("err = %v", err)
	}
}

func TestProviderWebhooksNeedNoAPITokenButTheAPIStillDoes(t *testing.T) {
	cfg := httpapi.Config{Tokens: []httpapi.Token{{Name: "ana", Role: httpapi.RoleAnalyst, Token: "ana-token-0123456789"}}}
	s, err := httpapi.New(cfg, nil, prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	var got string
	s.MountWebhooks(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.PathValue("provider")
		w.WriteHeader(http.StatusOK)
	}))
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/ingest/v1/aftership", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || got != "aftership" {
		t.Fatalf("webhook without a token: %d, provider %q; want 200 reaching the handler", resp.StatusCode, got)
	}
	resp, err = http.Post(srv.URL+"/api/v1/alerts/x/ack", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the API without a token: %d, want 401", resp.StatusCode)
	}
}
