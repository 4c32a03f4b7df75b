// Package pemfile reads the PEM files TLS settings name: a bundle of CA certificates to
// trust.
package pemfile

import (
	"crypto/x509"
	"fmt"
	"os"
)

// CertPool reads the CA certificates of the PEM bundle at path. key names the setting in
// errors ("tls_ca_file: open /x: no such file or directory").
func CertPool(key, path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: %s holds no PEM certificate", key, path)
	}
	return pool, nil
}
