package notify_test

import (
	"context"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trackwatch/trackwatch/alert"
	"github.com/trackwatch/trackwatch/alert/notify"
	"github.com/trackwatch/trackwatch/secret"
)

func TestBadReceiverConfigNamesTheKeyAndNeverTheSecret(t *testing.T) {
	ok := func() notify.ReceiverConfig {
		return notify.ReceiverConfig{Name: "hook", Type: "webhook", URL: "https://h.example/p?token=TOPSECRET", Secret: secretNow}
	}
	for _, tc := range []struct {
		name string
		edit func(r *notify.ReceiverConfig)
		want string
	}{
		{"a name with spaces", func(r *notify.ReceiverConfig) { r.Name = "my hook" }, "receivers[0]: name:"},
		{"an unknown type", func(r *notify.ReceiverConfig) { r.Type = "pager" }, "receivers[0]: type:"},
		{"a URL that is not http", func(r *notify.ReceiverConfig) { r.URL = "ftp://x/TOPSECRET" }, "receivers[0]: url: not an http(s) URL"},
		{"a webhook without a secret", func(r *notify.ReceiverConfig) { r.Secret = "" }, "receivers[0]: secret: a webhook receiver needs"},
		{"a secret without whsec_", func(r *notify.ReceiverConfig) { r.Secret = "TOPSECRET" }, "receivers[0]: secret: must start with whsec_"},
		{"a short key", func(r *notify.ReceiverConfig) { r.PreviousSecret = "whsec_VE9QU0VDUkVU" }, "receivers[0]: previous_secret:"},
		{"an unknown detector", func(r *notify.ReceiverConfig) { r.Detectors = []string{"psychic"} }, "receivers[0]: detectors: unknown detector"},
		{"an unknown severity", func(r *notify.ReceiverConfig) { r.MinSeverity = "urgent" }, "receivers[0]: min_severity:"},
		{"an unknown grouping", func(r *notify.ReceiverConfig) { r.GroupBy = "order" }, `receivers[0]: group_by: "order" is not alert or case`},
		{"an unknown recommendation", func(r *notify.ReceiverConfig) { r.Recommendations = []alert.Recommendation{"wait"} }, "receivers[0]: recommendations:"},
		{"bearer and basic auth", func(r *notify.ReceiverConfig) {
			r.BearerToken = "TOPSECRET"
			r.BasicAuth.Username = "u"
		}, "bearer_token and basic_auth"},
		{"a cert without its key", func(r *notify.ReceiverConfig) { r.TLS.CertFile = "c.pem" }, "tls: cert_file and key_file go together"},
		{"a missing CA file", func(r *notify.ReceiverConfig) { r.TLS.CAFile = "/nonexistent/ca.pem" }, "tls.ca_file:"},
		{"slack batches over 10", func(r *notify.ReceiverConfig) {
			r.Type, r.Secret, r.MaxAlerts = "slack", "", 11
		}, "max_alerts: 11"},
		{"a secret_file beside secret", func(r *notify.ReceiverConfig) { r.SecretFile = "/dev/null" }, "secret: set it or secret_file, not both"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ok()
			tc.edit(&r)
			cfg := notify.Config{Receivers: []notify.ReceiverConfig{r}}
			err := cfg.Validate()
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) && !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "TOPSECRET") {
				t.Fatalf("the error shows a secret: %v", err)
			}
		})
	}
	dup := notify.Config{Receivers: []notify.ReceiverConfig{ok(), ok()}}
	if err := dup.Validate(); err == nil || !strings.Contains(err.Error(), `receivers[1].name: "hook" is used twice`) {
		t.Errorf("duplicate names: %v", err)
	}
	good := notify.Config{Receivers: []notify.ReceiverConfig{ok()}}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	// the journey detectors' recommendations route like the others (issue 25)
	routed := ok()
	routed.Recommendations = []alert.Recommendation{"escalate_dispute", "contact_support"}
	routed.Detectors = []string{"dispute_unanswered", "refund_overdue", "cancel_dodged"}
	if err := (&notify.Config{Receivers: []notify.ReceiverConfig{routed}}).Validate(); err != nil {
		t.Errorf("a receiver of the journey's recommendations: %v", err)
	}
	r := good.Receivers[0]
	if !*r.SendResolved || r.Timeout != 15*time.Second || r.MaxAge != 72*time.Hour || r.Concurrency != 4 || len(r.Backoff) != 6 {
		t.Errorf("defaults not filled: %+v", r)
	}
	if r.Endpoint() != "https://h.example" {
		t.Errorf("Endpoint() = %q, want the URL without path and query", r.Endpoint())
	}
}

func TestAReceiverBehindTLSWithItsOwnCAAndAuthIsReached(t *testing.T) {
	var gotAuth, gotTeam string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth, gotTeam = r.Header.Get("Authorization"), r.Header.Get("X-Team")
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	tokenFile := filepath.Join(t.TempDir(), "token")
	_ = os.WriteFile(tokenFile, []byte("tok-123\n"), 0o600)
	post := func(r notify.ReceiverConfig) error {
		cfg := notify.Config{Receivers: []notify.ReceiverConfig{r}}
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		client, err := cfg.Receivers[0].HTTPClient()
		if err != nil {
			t.Fatal(err)
		}
		return notify.Post(context.Background(), client, srv.URL, cfg.Receivers[0].RequestHeaders(), []byte(`{}`))
	}
	r := notify.ReceiverConfig{Name: "tls", Type: "alertmanager", URL: secret.String(srv.URL), BearerTokenFile: tokenFile,
		Headers: map[string]secret.String{"X-Team": "trust-safety"}}
	if err := post(r); err == nil {
		t.Fatal("a server whose certificate is not trusted was reached")
	}
	r.TLS.CAFile = ca
	if err := post(r); err != nil {
		t.Fatal(err)
	}
	if gotAuth != "Bearer tok-123" || gotTeam != "trust-safety" {
		t.Errorf("headers: Authorization %q, X-Team %q", gotAuth, gotTeam)
	}
}
