package httpapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/trackwatch/trackwatch/secret"
)

// Roles of API tokens.
const (
	RoleViewer  = "viewer"  // reads
	RoleAnalyst = "analyst" // reads and acts on alerts
)

// Token is one API bearer token.
type Token struct {
	// Name identifies the holder; case actions record it as their actor.
	Name string `yaml:"name"`
	// Role is viewer or analyst.
	Role string `yaml:"role"`
	// Token (or TokenFile) is the secret the holder sends as Authorization: Bearer.
	Token     secret.String `yaml:"token"`
	TokenFile string        `yaml:"token_file"`
	// fromFile: Token was read from TokenFile by an earlier validation (the config is
	// validated when loaded and again by New), so it is read again, not refused.
	fromFile bool
}

var tokenNameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$`)

func (c *Config) validateTokens() error {
	names := map[string]bool{}
	for i := range c.Tokens {
		t := &c.Tokens[i]
		if !tokenNameRe.MatchString(t.Name) {
			return fmt.Errorf("tokens[%d].name: %q must match %s", i, t.Name, tokenNameRe)
		}
		if names[t.Name] {
			return fmt.Errorf("tokens[%d].name: %q is used twice", i, t.Name)
		}
		names[t.Name] = true
		if t.Role != RoleViewer && t.Role != RoleAnalyst {
			return fmt.Errorf("tokens[%d].role: %q is not viewer or analyst", i, t.Role)
		}
		if t.TokenFile != "" {
			if t.Token != "" && !t.fromFile {
				return fmt.Errorf("tokens[%d]: set token or token_file, not both", i)
			}
			b, err := os.ReadFile(t.TokenFile)
			if err != nil {
				return fmt.Errorf("tokens[%d].token_file: %w", i, err)
			}
			t.Token, t.fromFile = secret.String(strings.TrimSpace(string(b))), true
		}
		if len(t.Token.Reveal()) < 16 {
			return fmt.Errorf("tokens[%d].token: at least 16 characters are required (value not shown)", i)
		}
	}
	if len(c.Tokens) == 0 && !loopback(c.Listen) {
		return fmt.Errorf("listen: %s is not a loopback address and no tokens are configured: set http.tokens, or listen on 127.0.0.1", c.Listen)
	}
	return nil
}

// loopback reports whether a listen address serves this machine only.
func loopback(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// principal is who a request comes from.
type principal struct{ name, role string }

type principalKey struct{}

// caller returns the request's principal (set by auth).
func caller(ctx context.Context) principal {
	p, _ := ctx.Value(principalKey{}).(principal)
	return p
}

// hashedToken is a token as the server keeps it: its SHA-256, its name and role.
type hashedToken struct {
	sum  [32]byte
	name string
	role string
}

func hashTokens(ts []Token) *[]hashedToken {
	out := make([]hashedToken, 0, len(ts))
	for _, t := range ts {
		out = append(out, hashedToken{sha256.Sum256([]byte(t.Token.Reveal())), t.Name, t.Role})
	}
	return &out
}

// SetTokens replaces the API's tokens (a reload: trackwatch run re-reads token_file on
// SIGHUP). They are validated as at start: on an error the old ones stay.
func (s *Server) SetTokens(ts []Token) error {
	c := s.cfg
	c.Tokens = ts
	if err := c.validateTokens(); err != nil {
		return fmt.Errorf("http.%w", err)
	}
	s.tokens.Store(hashTokens(c.Tokens))
	return nil
}

// auth checks bearer tokens, comparing in constant time, and stores the caller. Without
// tokens configured (the listener is then loopback only) every request is the analyst
// "local". Open paths (/healthz, /metrics by default) need no token.
func (s *Server) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tokens := *s.tokens.Load()
		if slices.Contains(s.cfg.OpenPaths, r.URL.Path) || slices.Contains(uiOpenPaths, r.URL.Path) || s.webhookPath(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		// A form posted from another site never acts (the dashboard's cookie is SameSite
		// too): browsers say where a request comes from.
		if r.Method == http.MethodPost && crossSite(r) {
			writeError(w, http.StatusForbidden, "a request from another site")
			return
		}
		var who principal
		if len(tokens) == 0 {
			who = principal{"local", RoleAnalyst}
		} else {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if c, err := r.Cookie(tokenCookie); !ok && err == nil { // the dashboard, signed in
				got, ok = c.Value, true
			}
			sum := sha256.Sum256([]byte(strings.TrimSpace(got)))
			for _, t := range tokens { // every token is compared: the time says nothing of which matched
				if subtle.ConstantTimeCompare(sum[:], t.sum[:]) == 1 && ok {
					who = principal{t.name, t.role}
				}
			}
			if who.name == "" && r.Method == http.MethodGet && !strings.HasPrefix(r.URL.Path, "/api/") {
				http.Redirect(w, r, "/login", http.StatusFound) // a page: sign in first
				return
			}
			if who.name == "" {
				w.Header().Set("WWW-Authenticate", `Bearer realm="trackwatch"`)
				writeError(w, http.StatusUnauthorized, "a valid bearer token is required (http.tokens)")
				return
			}
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead && who.role != RoleAnalyst {
			writeError(w, http.StatusForbidden, "this needs an analyst token; "+who.name+" is a viewer")
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, who)))
	})
}

// crossSite reports whether a browser says a request comes from another site: by
// Sec-Fetch-Site where the browser sends it, else by an Origin that is not this host.
// Clients that are not browsers send neither.
func crossSite(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin", "none":
		return false
	case "cross-site", "same-site":
		return true
	}
	o := r.Header.Get("Origin")
	return o != "" && o != "http://"+r.Host && o != "https://"+r.Host
}
