package httpapi_test

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trackwatch/trackwatch/httpapi"
	"github.com/trackwatch/trackwatch/internal/testpki"
)

func serveTLS(t *testing.T, tlsCfg httpapi.TLSConfig) string {
	t.Helper()
	s, err := httpapi.New(httpapi.Config{Listen: "127.0.0.1:0", TLS: tlsCfg}, nil, prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return s.Addr()
}

func get(url string, cfg *tls.Config) (int, error) {
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}
	resp, err := c.Get(url)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func TestTheListenerServesHTTPSAndWithAClientCAOnlyToItsClients(t *testing.T) {
	p := testpki.New(t)
	addr := serveTLS(t, httpapi.TLSConfig{CertFile: p.CertFile, KeyFile: p.KeyFile})
	if code, err := get("https://"+addr+"/healthz", &tls.Config{RootCAs: p.Pool}); err != nil || code != 200 {
		t.Fatalf("https with the CA: %d %v", code, err)
	}
	// Go's TLS server answers a plain HTTP request with 400 and nothing else.
	if code, err := get("http://"+addr+"/healthz", nil); err == nil && code != http.StatusBadRequest {
		t.Fatalf("plain http on the TLS listener: %d", code)
	}
	if _, err := get("https://"+addr+"/healthz", &tls.Config{}); err == nil {
		t.Fatal("a client that does not trust the CA got through")
	}

	mtls := serveTLS(t, httpapi.TLSConfig{CertFile: p.CertFile, KeyFile: p.KeyFile, ClientCAFile: p.CAFile})
	if code, err := get("https://"+mtls+"/healthz", &tls.Config{RootCAs: p.Pool, Certificates: []tls.Certificate{p.Client}}); err != nil || code != 200 {
		t.Fatalf("mutual TLS with the client certificate: %d %v", code, err)
	}
	for name, certs := range map[string][]tls.Certificate{"no client certificate": nil, "a certificate of another CA": {p.OtherClient}} {
		if code, err := get("https://"+mtls+"/healthz", &tls.Config{RootCAs: p.Pool, Certificates: certs}); err == nil {
			t.Errorf("%s was let in (%d)", name, code)
		}
	}
}

func TestBadTLSConfigNamesTheKey(t *testing.T) {
	p := testpki.New(t)
	for _, c := range []struct {
		name string
		tls  httpapi.TLSConfig
		want string
	}{
		{"a certificate without its key", httpapi.TLSConfig{CertFile: p.CertFile}, "cert_file and key_file go together"},
		{"a missing key file", httpapi.TLSConfig{CertFile: p.CertFile, KeyFile: filepath.Join(p.Dir, "nope.pem")}, "tls.cert_file/key_file"},
		{"a client CA file without certificates", httpapi.TLSConfig{CertFile: p.CertFile, KeyFile: p.KeyFile, ClientCAFile: p.KeyFile}, "tls.client_ca_file"},
	} {
		cfg := httpapi.Config{TLS: c.tls}
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error naming %q", c.name, err, c.want)
		}
	}
}

// The configuration is validated when loaded and again when the server is made: a token
// read from token_file must pass both (it once failed the second as "token and
// token_file both set").
func TestATokenFileSurvivesASecondValidation(t *testing.T) {
	f := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(f, []byte("from-a-file-0123456789\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := httpapi.Config{Tokens: []httpapi.Token{{Name: "ana", Role: httpapi.RoleAnalyst, TokenFile: f}}}
	for i := range 2 {
		if err := cfg.Validate(); err != nil {
			t.Fatalf("validation %d: %v", i+1, err)
		}
	}
	both := httpapi.Config{Tokens: []httpapi.Token{{Name: "ana", Role: httpapi.RoleAnalyst, TokenFile: f, Token: "typed-in-0123456789"}}}
	if err := both.Validate(); err == nil || !strings.Contains(err.Error(), "not both") {
		t.Fatalf("token and token_file both given: %v", err)
	}
}

func TestARenewedCertificateIsServedAfterReloadTLS(t *testing.T) {
	first, renewed := testpki.New(t), testpki.New(t) // two CAs: who trusts which tells the certificates apart
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	cp := func(src, dst string) {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cp(first.CertFile, cert)
	cp(first.KeyFile, key)
	tc := httpapi.TLSConfig{CertFile: cert, KeyFile: key}
	s, err := httpapi.New(httpapi.Config{Listen: "127.0.0.1:0", TLS: tc}, nil, prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	defer func() { cancel(); <-done }()
	url := "https://" + s.Addr() + "/healthz"
	if code, err := get(url, &tls.Config{RootCAs: first.Pool}); err != nil || code != 200 {
		t.Fatalf("the first certificate: %d %v", code, err)
	}
	cp(renewed.CertFile, cert)
	cp(renewed.KeyFile, key)
	if err := s.ReloadTLS(tc); err != nil {
		t.Fatal(err)
	}
	if code, err := get(url, &tls.Config{RootCAs: renewed.Pool}); err != nil || code != 200 {
		t.Fatalf("the renewed certificate: %d %v", code, err)
	}
	if _, err := get(url, &tls.Config{RootCAs: first.Pool}); err == nil {
		t.Fatal("the old certificate is still served")
	}
	if err := s.ReloadTLS(httpapi.TLSConfig{CertFile: cert, KeyFile: filepath.Join(dir, "missing.pem")}); err == nil {
		t.Fatal("a reload from a missing key was taken")
	}
}
