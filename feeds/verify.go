package feeds

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// errSignature is every verification failure: the answer (401) says no more, so that
// a caller learns nothing about which part was wrong.
var errSignature = errors.New("signature missing or wrong")

// verifier checks one request of a provider with one secret, before its body is read
// as anything but bytes. now is the time signed timestamps are compared with.
type verifier func(h http.Header, body []byte, key string, now time.Time, tolerance time.Duration) error

func hmacSHA256(key string, parts ...[]byte) []byte {
	m := hmac.New(sha256.New, []byte(key))
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

// equal compares a received signature with the expected one in constant time.
func equal(got string, want []byte) bool {
	return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), want) == 1
}

// base64HMAC verifies header = base64(HMAC-SHA256(key, body)): AfterShip and Shopify.
func base64HMAC(header string) verifier {
	return func(h http.Header, body []byte, key string, _ time.Time, _ time.Duration) error {
		got := h.Get(header)
		want := base64.StdEncoding.EncodeToString(hmacSHA256(key, body))
		if got == "" || !equal(got, []byte(want)) {
			return errSignature
		}
		return nil
	}
}

// withinTolerance checks a signed Unix timestamp (seconds) against now.
func withinTolerance(ts string, now time.Time, tolerance time.Duration) bool {
	sec, err := strconv.ParseInt(strings.TrimSpace(ts), 10, 64)
	if err != nil {
		return false
	}
	d := now.Sub(time.Unix(sec, 0))
	return d <= tolerance && d >= -tolerance
}

func hexString(b []byte) string { return hex.EncodeToString(b) }
