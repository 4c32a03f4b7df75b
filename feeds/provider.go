package feeds

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	fastjson "github.com/segmentio/encoding/json"

	"github.com/trackwatch/trackwatch/schemas"
)

// Provider names, the {provider} of /ingest/v1/{provider} and backfill's --format.
const (
	AfterShip      = "aftership"
	SeventeenTrack = "17track"
	TrackingMore   = "trackingmore"
	EasyPost       = "easypost"
	Ship24         = "ship24"
	Shopify        = "shopify"
)

// Events are what one webhook body or API response maps to, in contract v1.
type Events struct {
	Tracking []schemas.TrackingEvent
	Orders   []schemas.OrderEvent
}

// Len is the number of events.
func (e Events) Len() int { return len(e.Tracking) + len(e.Orders) }

// Source is what a mapping knows besides the body: the request's headers (nil for a
// backfill file) and the configured marketplace.
type Source struct {
	Header      http.Header
	Marketplace string
}

// Unmappable is a verified body that cannot become contract events: it is dead-lettered
// with the provider as its source and Reason, not retried.
type Unmappable struct {
	Reason string // not_json, unknown_shape, missing_field, bad_timestamp
	Detail string
}

func (u *Unmappable) Error() string { return u.Reason + ": " + u.Detail }

func unmappable(reason, format string, args ...any) *Unmappable {
	return &Unmappable{Reason: reason, Detail: fmt.Sprintf(format, args...)}
}

// Reasons of Unmappable.
const (
	ReasonNotJSON      = "not_json"
	ReasonUnknownShape = "unknown_shape"
	ReasonMissingField = "missing_field"
	ReasonBadTimestamp = "bad_timestamp"
)

type provider struct {
	verify verifier
	// parse maps a verified body; it returns *Unmappable for bodies it cannot map.
	parse func(body []byte, src Source) (Events, error)
}

var providers = map[string]provider{
	AfterShip:      {verify: base64HMAC("aftership-hmac-sha256"), parse: parseAfterShip},
	SeventeenTrack: {verify: verify17Track, parse: parse17Track},
	TrackingMore:   {verify: verifyTrackingMore, parse: parseTrackingMore},
	EasyPost:       {verify: verifyEasyPost, parse: parseEasyPost},
	Ship24:         {verify: verifyShip24, parse: parseShip24},
	Shopify:        {verify: base64HMAC("X-Shopify-Hmac-Sha256"), parse: parseShopify},
}

// Known reports whether name is a provider.
func Known(name string) bool {
	_, ok := providers[name]
	return ok
}

// Map maps one verified body of provider (a webhook body, or a line of a backfill file
// holding one webhook body or API response) into contract v1 events. A body that
// cannot be mapped returns *Unmappable.
func Map(providerName string, body []byte, src Source) (Events, error) {
	p, ok := providers[providerName]
	if !ok {
		return Events{}, fmt.Errorf("feeds: unknown provider %q", providerName)
	}
	return p.parse(body, src)
}

// decode unmarshals a verified body into a provider's shape: JSON that is not JSON is
// not_json, JSON of another shape unknown_shape. It uses segmentio/encoding/json, a
// drop-in for encoding/json several times faster (as the ingest's decoder does).
func decode(body []byte, v any) error {
	if err := fastjson.Unmarshal(body, v); err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) || !fastjson.Valid(body) {
			return unmappable(ReasonNotJSON, "%v", err)
		}
		return unmappable(ReasonUnknownShape, "%v", err)
	}
	return nil
}

// checkpoint is one carrier event as a provider reports it.
type checkpoint struct {
	number, carrier, raw string
	// status is the provider's reading as a trackwatch sub-status ("" when it has none).
	status string
	at     time.Time
	// identity tells this checkpoint apart from the number's others: the provider's
	// own id where it has one, else its time, words and place.
	identity              string
	location, destination *schemas.Place
}

// eventID derives a checkpoint's event_id from the provider, the number and the
// checkpoint's identity: the same checkpoint re-sent gets the same id.
func eventID(providerName, number, identity string) string {
	sum := sha256.Sum256([]byte(providerName + "\x00" + strings.ToUpper(strings.Join(strings.Fields(number), "")) + "\x00" + identity))
	return providerName + ":" + hexString(sum[:16])
}

// trackingEvents turns checkpoints into contract events.
func trackingEvents(providerName string, cps []checkpoint) []schemas.TrackingEvent {
	out := make([]schemas.TrackingEvent, 0, len(cps))
	for _, c := range cps {
		if strings.TrimSpace(c.raw) == "" && c.status == "" {
			continue // nothing to say: a checkpoint without words or a reading
		}
		out = append(out, schemas.TrackingEvent{
			EventID: eventID(providerName, c.number, c.identity), TrackingNumber: c.number, Carrier: c.carrier,
			RawStatus: c.raw, OccurredAt: c.at, Location: c.location, Destination: c.destination,
			Provider: providerName, ProviderStatus: c.status,
		})
	}
	return out
}

// place returns nil for an empty place.
func place(country, city, postal string) *schemas.Place {
	p := schemas.Place{Country: strings.TrimSpace(country), City: strings.TrimSpace(city), PostalCode: strings.TrimSpace(postal)}
	if p == (schemas.Place{}) {
		return nil
	}
	return &p
}

// parseTime reads a provider's timestamp: RFC 3339 with an offset, or a local time
// without one (then offset, "+08:00", when the provider gives it separately, else UTC).
func parseTime(s, offset string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, true
	}
	loc := time.UTC
	if offset = strings.TrimSpace(offset); offset != "" {
		if o, err := time.Parse("-07:00", offset); err == nil {
			_, sec := o.Zone()
			loc = time.FixedZone(offset, sec)
		}
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func jsonUnmarshal(b []byte, v any) error { return fastjson.Unmarshal(b, v) }
