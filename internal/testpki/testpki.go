// Package testpki makes the certificates TLS tests need: a CA, a server certificate for
// 127.0.0.1, a client certificate, and a client certificate of another CA, written as
// PEM files in a test's temporary directory.
package testpki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// PKI is a CA with certificates it signed.
type PKI struct {
	Dir string
	// CAFile is the CA's certificate; CertFile and KeyFile the server's (for 127.0.0.1
	// and localhost); ClientCertFile and ClientKeyFile a client's.
	CAFile, CertFile, KeyFile, ClientCertFile, ClientKeyFile string
	// Pool trusts the CA.
	Pool *x509.CertPool
	// Server, Client and OtherClient (signed by another CA) as loaded pairs.
	Server, Client, OtherClient tls.Certificate
}

// New makes a PKI valid for an hour in t's temporary directory.
func New(t testing.TB) *PKI {
	t.Helper()
	p := &PKI{Dir: t.TempDir(), Pool: x509.NewCertPool()}
	ca, caKey, caPEM := makeCA(t, "trackwatch test CA")
	p.Pool.AddCert(ca)
	p.CAFile = p.write(t, "ca.pem", caPEM)
	serverPEM, serverKey := makeLeaf(t, ca, caKey, "server", x509.ExtKeyUsageServerAuth)
	p.CertFile, p.KeyFile = p.write(t, "server.pem", serverPEM), p.write(t, "server-key.pem", serverKey)
	clientPEM, clientKey := makeLeaf(t, ca, caKey, "client", x509.ExtKeyUsageClientAuth)
	p.ClientCertFile, p.ClientKeyFile = p.write(t, "client.pem", clientPEM), p.write(t, "client-key.pem", clientKey)
	other, otherKey, _ := makeCA(t, "another CA")
	otherPEM, otherKeyPEM := makeLeaf(t, other, otherKey, "intruder", x509.ExtKeyUsageClientAuth)
	var err error
	if p.Server, err = tls.X509KeyPair(serverPEM, serverKey); err != nil {
		t.Fatal(err)
	}
	if p.Client, err = tls.X509KeyPair(clientPEM, clientKey); err != nil {
		t.Fatal(err)
	}
	if p.OtherClient, err = tls.X509KeyPair(otherPEM, otherKeyPEM); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *PKI) write(t testing.TB, name string, b []byte) string {
	t.Helper()
	path := filepath.Join(p.Dir, name)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func makeCA(t testing.TB, name string) (*x509.Certificate, *ecdsa.PrivateKey, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func makeLeaf(t testing.TB, ca *x509.Certificate, caKey *ecdsa.PrivateKey, name string, usage x509.ExtKeyUsage) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		ExtKeyUsage: []x509.ExtKeyUsage{usage}, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
}

// Proxy listens on a loopback port with TLS (the server certificate; with requireClient,
// only clients with a certificate the CA signed get through) and forwards each
// connection's bytes to target, in the clear: a TLS listener in front of a server that
// cannot listen with TLS itself (libchdb's refuses a secure native port). It stops at
// the end of the test. It returns the TLS address.
func (p *PKI) Proxy(t testing.TB, target string, requireClient bool) string {
	t.Helper()
	cfg := &tls.Config{Certificates: []tls.Certificate{p.Server}, MinVersion: tls.VersionTLS12}
	if requireClient {
		cfg.ClientAuth, cfg.ClientCAs = tls.RequireAndVerifyClientCert, p.Pool
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer in.Close()
				if err := in.(*tls.Conn).Handshake(); err != nil {
					return // a client the listener refused
				}
				out, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer out.Close()
				done := make(chan struct{}, 2)
				go func() { _, _ = io.Copy(out, in); done <- struct{}{} }()
				go func() { _, _ = io.Copy(in, out); done <- struct{}{} }()
				<-done
			}()
		}
	}()
	return ln.Addr().String()
}
