package httpapi_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trackwatch/trackwatch/httpapi"
)

// pki is a CA the test makes, with a server certificate for 127.0.0.1 and a client one.
type pki struct {
	dir                       string
	caFile, certFile, keyFile string
	clientCert                tls.Certificate
	pool                      *x509.CertPool
	otherClient               tls.Certificate // signed by another CA
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	dir := t.TempDir()
	ca, caKey, caPEM := makeCA(t, "test ca")
	p := &pki{dir: dir, pool: x509.NewCertPool()}
	p.pool.AddCert(ca)
	p.caFile = writePEM(t, dir, "ca.pem", caPEM)
	serverPEM, serverKey := makeLeaf(t, ca, caKey, "server", []net.IP{net.ParseIP("127.0.0.1")}, x509.ExtKeyUsageServerAuth)
	p.certFile = writePEM(t, dir, "server.pem", serverPEM)
	p.keyFile = writePEM(t, dir, "server-key.pem", serverKey)
	var err error
	clientPEM, clientKey := makeLeaf(t, ca, caKey, "client", nil, x509.ExtKeyUsageClientAuth)
	if p.clientCert, err = tls.X509KeyPair(clientPEM, clientKey); err != nil {
		t.Fatal(err)
	}
	other, otherKey, _ := makeCA(t, "another ca")
	otherPEM, otherKeyPEM := makeLeaf(t, other, otherKey, "intruder", nil, x509.ExtKeyUsageClientAuth)
	if p.otherClient, err = tls.X509KeyPair(otherPEM, otherKeyPEM); err != nil {
		t.Fatal(err)
	}
	return p
}

func makeCA(t *testing.T, name string) (*x509.Certificate, *ecdsa.PrivateKey, []byte) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return cert, key, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func makeLeaf(t *testing.T, ca *x509.Certificate, caKey *ecdsa.PrivateKey, name string, ips []net.IP, usage x509.ExtKeyUsage) (certPEM, keyPEM []byte) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IPAddresses: ips, ExtKeyUsage: []x509.ExtKeyUsage{usage}, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
}

func writePEM(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

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
	p := newPKI(t)
	addr := serveTLS(t, httpapi.TLSConfig{CertFile: p.certFile, KeyFile: p.keyFile})
	if code, err := get("https://"+addr+"/healthz", &tls.Config{RootCAs: p.pool}); err != nil || code != 200 {
		t.Fatalf("https with the CA: %d %v", code, err)
	}
	// Go's TLS server answers a plain HTTP request with 400 and nothing else.
	if code, err := get("http://"+addr+"/healthz", nil); err == nil && code != http.StatusBadRequest {
		t.Fatalf("plain http on the TLS listener: %d", code)
	}
	if _, err := get("https://"+addr+"/healthz", &tls.Config{}); err == nil {
		t.Fatal("a client that does not trust the CA got through")
	}

	mtls := serveTLS(t, httpapi.TLSConfig{CertFile: p.certFile, KeyFile: p.keyFile, ClientCAFile: p.caFile})
	if code, err := get("https://"+mtls+"/healthz", &tls.Config{RootCAs: p.pool, Certificates: []tls.Certificate{p.clientCert}}); err != nil || code != 200 {
		t.Fatalf("mutual TLS with the client certificate: %d %v", code, err)
	}
	for name, certs := range map[string][]tls.Certificate{"no client certificate": nil, "a certificate of another CA": {p.otherClient}} {
		if code, err := get("https://"+mtls+"/healthz", &tls.Config{RootCAs: p.pool, Certificates: certs}); err == nil {
			t.Errorf("%s was let in (%d)", name, code)
		}
	}
}

func TestBadTLSConfigNamesTheKey(t *testing.T) {
	p := newPKI(t)
	for _, c := range []struct {
		name string
		tls  httpapi.TLSConfig
		want string
	}{
		{"a certificate without its key", httpapi.TLSConfig{CertFile: p.certFile}, "cert_file and key_file go together"},
		{"a missing key file", httpapi.TLSConfig{CertFile: p.certFile, KeyFile: filepath.Join(p.dir, "nope.pem")}, "tls.cert_file/key_file"},
		{"a client CA file without certificates", httpapi.TLSConfig{CertFile: p.certFile, KeyFile: p.keyFile, ClientCAFile: p.keyFile}, "tls.client_ca_file"},
	} {
		cfg := httpapi.Config{TLS: c.tls}
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error naming %q", c.name, err, c.want)
		}
	}
}
