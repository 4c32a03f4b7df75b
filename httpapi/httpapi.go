// Package httpapi provides trackwatch's HTTP listener: /healthz, which reports whether
// Kafka and ClickHouse are reachable, and Prometheus metrics on /metrics. Later
// capabilities (alerts, timelines) mount their handlers on the same mux.
package httpapi

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/trackwatch/trackwatch/detect"
	"github.com/trackwatch/trackwatch/internal/pemfile"
	"github.com/trackwatch/trackwatch/trackingnumber"
)

// Config configures the listener. The zero value is usable.
type Config struct {
	// Listen is the host:port to serve on. Default 127.0.0.1:8080; port 0 picks one.
	Listen string `yaml:"listen"`
	// CheckTimeout bounds each health check. Default 2s.
	CheckTimeout time.Duration `yaml:"check_timeout"`
	// Tokens are the API's bearer tokens (YAML only). Without any, the listener must be
	// loopback, and every local request may read and act.
	Tokens []Token `yaml:"tokens"`
	// OpenPaths need no token. Default [/healthz, /metrics].
	OpenPaths []string `yaml:"open_paths"`
	// TLS serves HTTPS when CertFile and KeyFile are set; with ClientCAFile, every
	// client must present a certificate that CA signed (mutual TLS).
	TLS TLSConfig `yaml:"tls"`
}

// TLSConfig is the listener's certificate, and the CA of its clients' certificates.
type TLSConfig struct {
	CertFile     string `yaml:"cert_file"`
	KeyFile      string `yaml:"key_file"`
	ClientCAFile string `yaml:"client_ca_file"`
}

// Enabled reports whether the listener serves HTTPS.
func (t TLSConfig) Enabled() bool { return t.CertFile != "" || t.KeyFile != "" }

// serverConfig loads the certificate and the client CA. Errors name the key.
func (t TLSConfig) serverConfig() (*tls.Config, error) {
	if t.CertFile == "" || t.KeyFile == "" {
		return nil, errors.New("tls: cert_file and key_file go together")
	}
	cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("tls.cert_file/key_file: %w", err)
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	if t.ClientCAFile != "" {
		pool, err := pemfile.CertPool("tls.client_ca_file", t.ClientCAFile)
		if err != nil {
			return nil, err
		}
		cfg.ClientCAs, cfg.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

// Validate fills defaults and checks the values, naming the offending key.
func (c *Config) Validate() error {
	if c.Listen == "" {
		c.Listen = "127.0.0.1:8080"
	}
	if c.CheckTimeout == 0 {
		c.CheckTimeout = 2 * time.Second
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return fmt.Errorf("listen: %q is not host:port", c.Listen)
	}
	if c.CheckTimeout < 0 {
		return fmt.Errorf("check_timeout: %s must be positive", c.CheckTimeout)
	}
	if c.OpenPaths == nil {
		c.OpenPaths = []string{"/healthz", "/metrics"}
	}
	if c.TLS.Enabled() || c.TLS.ClientCAFile != "" {
		if _, err := c.TLS.serverConfig(); err != nil {
			return err
		}
	}
	return c.validateTokens()
}

// Check reports whether one dependency is reachable.
type Check func(ctx context.Context) error

// Health is the /healthz response body.
type Health struct {
	Status string            `json:"status"` // "ok" or "unavailable"
	Checks map[string]string `json:"checks"` // name -> "ok" or the error
}

// Server serves the mux on the configured address.
type Server struct {
	Mux *http.ServeMux

	cfg    Config
	tokens atomic.Pointer[[]hashedToken]
	cert   atomic.Pointer[tls.Certificate]
	checks map[string]Check
	// numbers explains tracking numbers (MountNumbers), on the API and the alert page
	numbers atomic.Pointer[trackingnumber.Checker]
	// webhooks: inbound provider webhooks are mounted (MountWebhooks); their paths
	// authenticate with the provider's signature, not with a token
	webhooks atomic.Bool
	ln       net.Listener
	srv      *http.Server
	logger   *slog.Logger

	// comparisons: the latest backtest comparison on the overview (MountComparisons)
	comparisons atomic.Pointer[Comparisons]
	// detect: the detectors' configuration (MountDetect), for the pages that show their
	// settings; the defaults until mounted
	detect atomic.Pointer[detect.Config]
}

// MountDetect gives the workspace the detectors' configuration, so that its pages judge
// as the detectors do: the sellers' valid tracking rate against seller_vtr_target with
// seller_vtr_scan_days, the disputes that stall after dispute_answer_days.
func (s *Server) MountDetect(c detect.Config) {
	c = c.WithDefaults()
	s.detect.Store(&c)
}

// detectConfig is the mounted detectors' configuration, or the defaults.
func (s *Server) detectConfig() detect.Config {
	if c := s.detect.Load(); c != nil {
		return *c
	}
	return detect.Config{}.WithDefaults()
}

// New builds the server with /healthz running checks and /metrics serving gatherer.
func New(cfg Config, checks map[string]Check, gatherer prometheus.Gatherer, logger *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("http config: %w", err)
	}
	s := &Server{Mux: http.NewServeMux(), cfg: cfg, checks: checks, logger: logger}
	s.tokens.Store(hashTokens(cfg.Tokens))
	s.Mux.HandleFunc("GET /healthz", s.healthz)
	s.Mux.Handle("GET /metrics", promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{}))
	return s, nil
}

// Listen binds the address, so that a busy port fails startup before anything runs.
func (s *Server) Listen() error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("http listen on %s (set http.listen): %w", s.cfg.Listen, err)
	}
	if s.cfg.TLS.Enabled() {
		cfg, err := s.cfg.TLS.serverConfig()
		if err != nil {
			ln.Close()
			return err
		}
		// The certificate is served from a pointer that ReloadTLS replaces: a renewed
		// certificate takes effect on SIGHUP, for new connections.
		s.cert.Store(&cfg.Certificates[0])
		cfg.Certificates = nil
		cfg.GetCertificate = func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return s.cert.Load(), nil }
		ln = tls.NewListener(ln, cfg)
	}
	s.ln = ln
	return nil
}

// ReloadTLS reads the listener's certificate and key again (a renewed certificate, on
// SIGHUP); new connections get it. Without TLS at start it does nothing: turning TLS on
// or off needs a restart, as does a new client CA.
func (s *Server) ReloadTLS(t TLSConfig) error {
	if s.cert.Load() == nil {
		return nil
	}
	cfg, err := t.serverConfig()
	if err != nil {
		return fmt.Errorf("http.%w", err)
	}
	s.cert.Store(&cfg.Certificates[0])
	return nil
}

// Addr is the bound address, after Listen.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Serve serves until ctx ends, then shuts down gracefully.
func (s *Server) Serve(ctx context.Context) error {
	if s.ln == nil {
		if err := s.Listen(); err != nil {
			return err
		}
	}
	s.srv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("http serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("http shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http serve: %w", err)
	}
	return nil
}

// Handler is the server's handler: the mux behind authentication and the security
// headers every answer carries.
func (s *Server) Handler() http.Handler {
	authed := s.auth(s.Mux)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		authed.ServeHTTP(w, r)
	})
}

// Authenticated reports whether API tokens are configured (else: loopback only).
func (s *Server) Authenticated() bool { return len(*s.tokens.Load()) > 0 }

// CheckAll runs every check concurrently, each bounded by the check timeout.
func (s *Server) CheckAll(ctx context.Context) Health {
	h := Health{Status: "ok", Checks: map[string]string{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	names := make([]string, 0, len(s.checks))
	for name := range s.checks {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, s.cfg.CheckTimeout)
			defer cancel()
			result := "ok"
			if err := s.checks[name](cctx); err != nil {
				result = err.Error()
			}
			mu.Lock()
			defer mu.Unlock()
			h.Checks[name] = result
			if result != "ok" {
				h.Status = "unavailable"
			}
		})
	}
	wg.Wait()
	return h
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	h := s.CheckAll(r.Context())
	w.Header().Set("Content-Type", "application/json")
	if h.Status != "ok" {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(h)
}

// WebhookPrefix is where inbound provider webhooks are served: POST
// /ingest/v1/{provider}.
const WebhookPrefix = "/ingest/v1/"

// MountWebhooks serves h at POST (and HEAD, which Ship24 probes with)
// /ingest/v1/{provider}. These paths need no API token: h verifies each provider's own
// signature before anything else (package feeds).
func (s *Server) MountWebhooks(h http.Handler) {
	s.Mux.Handle("POST "+WebhookPrefix+"{provider}", h)
	s.Mux.Handle("HEAD "+WebhookPrefix+"{provider}", h)
	s.webhooks.Store(true)
}

func (s *Server) webhookPath(p string) bool {
	return s.webhooks.Load() && strings.HasPrefix(p, WebhookPrefix)
}

// NewWebhooks builds a listener of its own for the provider webhooks alone (the
// ingest.webhooks_listen address), serving h as MountWebhooks does, with TLS as t: the
// webhooks exposed while the API stays on a private listener. Any other path is 404.
func NewWebhooks(listen string, t TLSConfig, h http.Handler, logger *slog.Logger) (*Server, error) {
	cfg := Config{Listen: listen, TLS: t, OpenPaths: []string{}, CheckTimeout: time.Second}
	if _, _, err := net.SplitHostPort(listen); err != nil {
		return nil, fmt.Errorf("ingest.webhooks_listen: %q is not host:port", listen)
	}
	if t.Enabled() || t.ClientCAFile != "" {
		if _, err := t.serverConfig(); err != nil {
			return nil, fmt.Errorf("http.%w", err)
		}
	}
	s := &Server{Mux: http.NewServeMux(), cfg: cfg, logger: logger}
	s.tokens.Store(hashTokens(nil))
	s.MountWebhooks(h)
	return s, nil
}
