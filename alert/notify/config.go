package notify

import (
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/trackwatch/trackwatch/detect"
	"github.com/trackwatch/trackwatch/internal/pemfile"
	"github.com/trackwatch/trackwatch/secret"
)

// Config is the notify section: where alert changes go. The zero value (no receivers)
// delivers nothing.
type Config struct {
	// Receivers are the destinations (YAML only), each with its filters.
	Receivers []ReceiverConfig `yaml:"receivers"`
	// ExternalURL is the base of links to an alert (Slack buttons, Alertmanager's
	// generatorURL): <external_url>/api/v1/alerts/<alert_id>. Default http://127.0.0.1:8080.
	ExternalURL string `yaml:"external_url"`
	// PollInterval is how often each receiver looks for due changes and retries between
	// detector runs (a run wakes the receivers at once). Default 5s.
	PollInterval time.Duration `yaml:"poll_interval"`
	// ClaimTimeout is how long an instance's claim on a change keeps other instances from
	// delivering it; a claim of an instance that died expires after it. Default 2m.
	ClaimTimeout time.Duration `yaml:"claim_timeout"`
}

// Receiver types.
const (
	TypeWebhook      = "webhook"
	TypeAlertmanager = "alertmanager"
	TypeSlack        = "slack"
)

// ReceiverConfig is one receiver.
type ReceiverConfig struct {
	// Name identifies the receiver in the delivery log, metrics and commands.
	Name string `yaml:"name"`
	// Type is webhook, alertmanager or slack.
	Type string `yaml:"type"`
	// URL receives the POSTs: the webhook endpoint, the Alertmanager's base URL (…:9093),
	// or the Slack incoming-webhook URL. Masked like a password: a Slack URL is a secret.
	URL secret.String `yaml:"url"`
	// URLFile reads URL from a file instead.
	URLFile string `yaml:"url_file"`

	// Filters: a change goes to the receiver only if it matches all that are set.
	Detectors       []string                `yaml:"detectors"`
	MinSeverity     detect.Severity         `yaml:"min_severity"`
	Marketplaces    []string                `yaml:"marketplaces"`
	Recommendations []detect.Recommendation `yaml:"recommendations"`
	// SendResolved sends resolved changes too. Default true.
	SendResolved *bool `yaml:"send_resolved"`
	// GroupBy is alert (a notification per alert change, the default) or case (a
	// notification per change of a case: every alert of one order; GroupByCase).
	GroupBy string `yaml:"group_by"`

	// Headers are added to every request (values masked in config dumps).
	Headers map[string]secret.String `yaml:"headers"`
	// Timeout bounds one request. Default 15s.
	Timeout time.Duration `yaml:"timeout"`
	// TLS: a CA bundle to trust, and a client certificate for mutual TLS.
	TLS TLSConfig `yaml:"tls"`
	// BearerToken (or BearerTokenFile) is sent as Authorization: Bearer.
	BearerToken     secret.String `yaml:"bearer_token"`
	BearerTokenFile string        `yaml:"bearer_token_file"`
	// BasicAuth is sent as Authorization: Basic.
	BasicAuth BasicAuth `yaml:"basic_auth"`

	// Secret signs webhook deliveries (Standard Webhooks): whsec_<base64 key>. Or
	// SecretFile. PreviousSecret, during a rotation, signs beside it.
	Secret         secret.String `yaml:"secret"`
	SecretFile     string        `yaml:"secret_file"`
	PreviousSecret secret.String `yaml:"previous_secret"`
	// MaxAlerts > 1 batches up to that many changes in one webhook request
	// (type alert.batch). Default 1. Slack and Alertmanager: changes per request, default 1
	// (at most 10) and 64.
	MaxAlerts int `yaml:"max_alerts"`

	// MaxPerSecond limits requests per second to the receiver; 0 is no limit.
	MaxPerSecond float64 `yaml:"max_per_second"`
	// Concurrency is how many requests may be in flight to the receiver. Default 4.
	Concurrency int `yaml:"concurrency"`
	// MaxAge: a change not delivered this long after it was logged fails for good.
	// Default 72h.
	MaxAge time.Duration `yaml:"max_age"`
	// Backoff is the wait before each retry, the last repeating, each with ±20% jitter.
	// Default [5s, 5m, 30m, 2h, 5h, 10h]. A Retry-After from the receiver wins when longer.
	Backoff []time.Duration `yaml:"backoff"`
	// ResendInterval (alertmanager): firing alerts are posted again this often, so that
	// Alertmanager does not resolve them on its own. Default 1m.
	ResendInterval time.Duration `yaml:"resend_interval"`
}

// TLSConfig names the files of a receiver's TLS settings.
type TLSConfig struct {
	CAFile   string `yaml:"ca_file"`
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// BasicAuth is HTTP basic authentication.
type BasicAuth struct {
	Username     string        `yaml:"username"`
	Password     secret.String `yaml:"password"`
	PasswordFile string        `yaml:"password_file"`
}

var nameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// Validate fills defaults, reads the *_file secrets and checks the values, naming the
// offending key.
func (c *Config) Validate() error {
	if c.ExternalURL == "" {
		c.ExternalURL = "http://127.0.0.1:8080"
	}
	if u, err := url.Parse(c.ExternalURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("external_url: %q is not an http(s) URL", c.ExternalURL)
	}
	c.ExternalURL = strings.TrimRight(c.ExternalURL, "/")
	if c.PollInterval == 0 {
		c.PollInterval = 5 * time.Second
	}
	if c.ClaimTimeout == 0 {
		c.ClaimTimeout = 2 * time.Minute
	}
	if c.PollInterval < 0 || c.ClaimTimeout < 0 {
		return fmt.Errorf("poll_interval and claim_timeout must be positive")
	}
	seen := map[string]bool{}
	for i := range c.Receivers {
		r := &c.Receivers[i]
		if err := r.validate(); err != nil {
			return fmt.Errorf("receivers[%d]: %w", i, err)
		}
		if seen[r.Name] {
			return fmt.Errorf("receivers[%d].name: %q is used twice", i, r.Name)
		}
		seen[r.Name] = true
		if r.Timeout*2 > c.ClaimTimeout {
			return fmt.Errorf("receivers[%d].timeout: %s is more than half of claim_timeout (%s): a slow request could outlive its claim",
				i, r.Timeout, c.ClaimTimeout)
		}
	}
	return nil
}

func readSecretFile(key, path string, into *secret.String) error {
	if path == "" {
		return nil
	}
	if *into != "" {
		return fmt.Errorf("%s: set it or %s_file, not both", strings.TrimSuffix(key, "_file"), strings.TrimSuffix(key, "_file"))
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	*into = secret.String(strings.TrimSpace(string(b)))
	return nil
}

func (r *ReceiverConfig) validate() error {
	if !nameRe.MatchString(r.Name) {
		return fmt.Errorf("name: %q must match %s", r.Name, nameRe)
	}
	if r.Type != TypeWebhook && r.Type != TypeAlertmanager && r.Type != TypeSlack {
		return fmt.Errorf("type: %q is not webhook, alertmanager or slack", r.Type)
	}
	for _, f := range []struct {
		key  string
		path string
		into *secret.String
	}{
		{"url_file", r.URLFile, &r.URL}, {"bearer_token_file", r.BearerTokenFile, &r.BearerToken},
		{"secret_file", r.SecretFile, &r.Secret}, {"basic_auth.password_file", r.BasicAuth.PasswordFile, &r.BasicAuth.Password},
	} {
		if err := readSecretFile(f.key, f.path, f.into); err != nil {
			return err
		}
	}
	// The URL is a secret: errors name what is wrong, not the URL.
	u, err := url.Parse(r.URL.Reveal())
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("url: not an http(s) URL (value not shown)")
	}
	for _, d := range r.Detectors {
		if !slices.Contains(detect.Names, d) {
			return fmt.Errorf("detectors: unknown detector %q (detectors: %s)", d, strings.Join(detect.Names, ", "))
		}
	}
	if r.MinSeverity != "" && r.MinSeverity.Rank() == 0 {
		return fmt.Errorf("min_severity: %q is not one of critical, high, medium, low", r.MinSeverity)
	}
	for _, rec := range r.Recommendations {
		if !slices.Contains(detect.Recommendations, rec) {
			return fmt.Errorf("recommendations: %q is not one of %s", rec, recommendationList())
		}
	}
	if r.GroupBy == "" {
		r.GroupBy = GroupByAlert
	}
	if r.GroupBy != GroupByAlert && r.GroupBy != GroupByCase {
		return fmt.Errorf("group_by: %q is not alert or case", r.GroupBy)
	}
	if r.SendResolved == nil {
		t := true
		r.SendResolved = &t
	}
	if r.Timeout == 0 {
		r.Timeout = 15 * time.Second
	}
	if r.Concurrency == 0 {
		r.Concurrency = 4
	}
	if r.MaxAge == 0 {
		r.MaxAge = 72 * time.Hour
	}
	if r.MaxAlerts == 0 {
		r.MaxAlerts = 1
		if r.Type == TypeAlertmanager {
			r.MaxAlerts = 64
		}
	}
	if len(r.Backoff) == 0 {
		r.Backoff = []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour}
	}
	if r.ResendInterval == 0 {
		r.ResendInterval = time.Minute
	}
	switch {
	case r.Timeout < 0:
		return fmt.Errorf("timeout: %s must be positive", r.Timeout)
	case r.Concurrency < 1 || r.Concurrency > 256:
		return fmt.Errorf("concurrency: %d is out of range 1..256", r.Concurrency)
	case r.MaxAge < time.Minute:
		return fmt.Errorf("max_age: %s is under a minute", r.MaxAge)
	case r.MaxAlerts < 1 || r.MaxAlerts > 1000:
		return fmt.Errorf("max_alerts: %d is out of range 1..1000", r.MaxAlerts)
	case r.Type == TypeSlack && r.MaxAlerts > 10:
		return fmt.Errorf("max_alerts: %d; a Slack message shows at most 10 changes in full", r.MaxAlerts)
	case r.MaxPerSecond < 0:
		return fmt.Errorf("max_per_second: %v must not be negative", r.MaxPerSecond)
	case r.ResendInterval < time.Second:
		return fmt.Errorf("resend_interval: %s is under a second", r.ResendInterval)
	}
	for i, b := range r.Backoff {
		if b <= 0 {
			return fmt.Errorf("backoff[%d]: %s must be positive", i, b)
		}
	}
	if r.Type == TypeWebhook {
		if r.Secret == "" {
			return fmt.Errorf("secret: a webhook receiver needs a signing secret (whsec_<base64>), in secret or secret_file")
		}
		for key, s := range map[string]secret.String{"secret": r.Secret, "previous_secret": r.PreviousSecret} {
			if s == "" {
				continue
			}
			if _, err := DecodeSecret(s); err != nil {
				return fmt.Errorf("%s: %w", key, err)
			}
		}
	} else if r.Secret != "" || r.PreviousSecret != "" {
		return fmt.Errorf("secret: only webhook receivers sign their deliveries")
	}
	if r.BearerToken != "" && (r.BasicAuth.Username != "" || r.BasicAuth.Password != "") {
		return fmt.Errorf("bearer_token and basic_auth: set one, not both")
	}
	if (r.TLS.CertFile == "") != (r.TLS.KeyFile == "") {
		return fmt.Errorf("tls: cert_file and key_file go together")
	}
	if _, err := r.tlsConfig(); err != nil {
		return err
	}
	return nil
}

// DecodeSecret returns the key of a Standard Webhooks secret, whsec_<base64>.
func DecodeSecret(s secret.String) ([]byte, error) {
	b64, ok := strings.CutPrefix(s.Reveal(), "whsec_")
	if !ok {
		return nil, fmt.Errorf("must start with whsec_ (value not shown)")
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(key) < 16 {
		return nil, fmt.Errorf("must be whsec_ and the base64 of at least 16 bytes (value not shown)")
	}
	return key, nil
}

// Endpoint is the receiver's URL without its path and query, for logs and listings:
// the rest may be a secret.
func (r *ReceiverConfig) Endpoint() string {
	u, err := url.Parse(r.URL.Reveal())
	if err != nil {
		return "(invalid url)"
	}
	return u.Scheme + "://" + u.Host
}

func (r *ReceiverConfig) tlsConfig() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if r.TLS.CAFile != "" {
		pool, err := pemfile.CertPool("tls.ca_file", r.TLS.CAFile)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = pool
	}
	if r.TLS.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(r.TLS.CertFile, r.TLS.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls.cert_file, tls.key_file: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// HTTPClient returns the receiver's client: its TLS settings and timeout, redirects
// not followed (a 3xx is an answer, and a failed delivery).
func (r *ReceiverConfig) HTTPClient() (*http.Client, error) {
	tc, err := r.tlsConfig()
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tc
	tr.MaxIdleConnsPerHost = r.Concurrency
	return &http.Client{
		Transport:     tr,
		Timeout:       r.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, nil
}

// RequestHeaders are the headers every request to the receiver carries: its own
// headers and its authentication.
func (r *ReceiverConfig) RequestHeaders() http.Header {
	h := http.Header{}
	for k, v := range r.Headers {
		h.Set(k, v.Reveal())
	}
	switch {
	case r.BearerToken != "":
		h.Set("Authorization", "Bearer "+r.BearerToken.Reveal())
	case r.BasicAuth.Username != "" || r.BasicAuth.Password != "":
		h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(r.BasicAuth.Username+":"+r.BasicAuth.Password.Reveal())))
	}
	h.Set("User-Agent", "trackwatch")
	return h
}

// AlertURL is the link to an alert.
func (c *Config) AlertURL(alertID string) string {
	return c.ExternalURL + "/api/v1/alerts/" + url.PathEscape(alertID)
}

// recommendationList is detect.Recommendations, comma-separated, for messages.
func recommendationList() string {
	var out []string
	for _, r := range detect.Recommendations {
		out = append(out, string(r))
	}
	return strings.Join(out, ", ")
}
