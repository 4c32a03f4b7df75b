package feeds

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strconv"
	"time"
)

// sign sets the headers provider sends with body, computed as each provider's
// documentation shows, independently of the verifiers. Where each scheme was checked
// (feeds/testdata/README.md lists the pages):
//   - AfterShip: aftership.com/docs/tracking/webhook/webhook-signature (no test vector
//     published);
//   - Shopify: shopify.dev's webhook headers and Shopify/shopify-api-js
//     lib/webhooks/validate.ts, checkWebhookHmac (base64 HMAC-SHA256 of the raw body
//     under the API secret key; no test vector);
//   - TrackingMore and EasyPost: also against their published vector and client
//     (reference_test.go);
//   - Ship24: the webhook's Authorization parameter in Ship24's OpenAPI description
//     (ship24/ship24-node spec/ship24-tracking-api.yaml);
//   - 17TRACK: no 17TRACK page or client was readable; the scheme is as remembered.
func sign(provider string, h http.Header, body []byte, key string, now time.Time) {
	mac := func(msg []byte) []byte {
		m := hmac.New(sha256.New, []byte(key))
		m.Write(msg)
		return m.Sum(nil)
	}
	switch provider {
	case AfterShip:
		h.Set("aftership-hmac-sha256", base64.StdEncoding.EncodeToString(mac(body)))
	case Shopify:
		h.Set("X-Shopify-Hmac-Sha256", base64.StdEncoding.EncodeToString(mac(body)))
	case SeventeenTrack:
		sum := sha256.Sum256([]byte(string(body) + "/" + key))
		h.Set("sign", hex.EncodeToString(sum[:]))
	case TrackingMore:
		ts := strconv.FormatInt(now.Unix(), 10)
		h.Set("timestamp", ts)
		h.Set("signature", hex.EncodeToString(mac([]byte(ts))))
	case EasyPost:
		h.Set("X-Hmac-Signature", "hmac-sha256-hex="+hex.EncodeToString(mac(body)))
	case Ship24:
		h.Set("Authorization", "Bearer "+key)
	}
}
