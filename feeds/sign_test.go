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
// documentation shows, independently of the verifiers.
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
