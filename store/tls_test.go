package store_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trackwatch/trackwatch/devstack/devstacktest"
	"github.com/trackwatch/trackwatch/internal/testpki"
	"github.com/trackwatch/trackwatch/store"
)

// clickhouse.tls against a TLS listener: the native protocol of the embedded server
// behind a TLS-terminating proxy (libchdb refuses a secure native port; a ClickHouse
// server's tcp_port_secure is the same TLS around the same protocol). The configured CA
// is trusted and the system's alone is not; without TLS the listener is not reached; a
// listener that requires client certificates takes the configured one and no other.
func TestNativeProtocolOverTLS(t *testing.T) {
	devstacktest.RequireLib(t)
	ch := devstacktest.StartClickHouse(t, filepath.Join(t.TempDir(), "ch"))
	p := testpki.New(t)
	tlsAddr, mtlsAddr := p.Proxy(t, ch.Addr(), false), p.Proxy(t, ch.Addr(), true)
	ctx := context.Background()
	base := store.Config{Username: "default", DialTimeout: 5 * time.Second, MaxOpenConns: 2, TLS: true, TLSCAFile: p.CAFile}

	open := func(c store.Config, addr string) error {
		t.Helper()
		if err := c.Validate(); err != nil {
			t.Fatalf("validate: %v", err)
		}
		conn, err := store.Open(ctx, c, addr)
		if err != nil {
			return err
		}
		defer conn.Close()
		var n uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM numbers(1000)").Scan(&n); err != nil || n != 1000 {
			t.Fatalf("a query over TLS: %d, %v", n, err)
		}
		return nil
	}
	if err := open(base, tlsAddr); err != nil {
		t.Fatalf("TLS with the CA: %v", err)
	}
	systemRoots := base
	systemRoots.TLSCAFile = ""
	if err := open(systemRoots, tlsAddr); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("the system's CAs trusted the test CA's certificate: %v", err)
	}
	wrongName := base
	wrongName.TLSServerName = "clickhouse.example.com"
	if err := open(wrongName, tlsAddr); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("a certificate for another name was accepted: %v", err)
	}
	plain := store.Config{Username: "default", DialTimeout: 2 * time.Second, MaxOpenConns: 1}
	if err := open(plain, tlsAddr); err == nil {
		t.Fatal("the native protocol in the clear got through a TLS listener")
	}

	if err := open(base, mtlsAddr); err == nil {
		t.Fatal("a listener that requires a client certificate let one without in")
	}
	withCert := base
	withCert.TLSCertFile, withCert.TLSKeyFile = p.ClientCertFile, p.ClientKeyFile
	if err := open(withCert, mtlsAddr); err != nil {
		t.Fatalf("mutual TLS with the client certificate: %v", err)
	}
}

// TLS settings are checked at startup, naming the key.
func TestTLSSettingsAreChecked(t *testing.T) {
	p := testpki.New(t)
	notPEM := filepath.Join(p.Dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		c    store.Config
		want string
	}{
		"a CA without tls":     {store.Config{TLSCAFile: p.CAFile}, "tls_ca_file: set, but tls is off"},
		"a missing CA file":    {store.Config{TLS: true, TLSCAFile: filepath.Join(p.Dir, "none.pem")}, "tls_ca_file:"},
		"a CA file not PEM":    {store.Config{TLS: true, TLSCAFile: notPEM}, "holds no PEM certificate"},
		"a cert without key":   {store.Config{TLS: true, TLSCertFile: p.ClientCertFile}, "tls_cert_file and tls_key_file: set both"},
		"a key not the cert's": {store.Config{TLS: true, TLSCertFile: p.ClientCertFile, TLSKeyFile: p.KeyFile}, "tls_cert_file, tls_key_file:"},
	} {
		if err := tc.c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
}
