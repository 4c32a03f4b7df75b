package ingest

import (
	"fmt"
	"unicode"
	"unicode/utf8"

	"github.com/trackwatch/trackwatch/schemas"
)

// Limits bound the length, in bytes, of every string field of the contract. Producers
// are outside trackwatch and sellers write tracking numbers: a 10,000-character number
// or a control character is refused (dead letter, reason invalid_value) instead of
// stored. The zero value is usable: defaults beside each field.
type Limits struct {
	// TrackingNumber bounds tracking numbers. Default 64 (UPU S10 is 13, the longest
	// courier numbers about 34).
	TrackingNumber int `yaml:"tracking_number"`
	// ID bounds event_id, order_id, seller_id and buyer_id. Default 128.
	ID int `yaml:"id"`
	// Code bounds carrier, marketplace, status and currency. Default 64.
	Code int `yaml:"code"`
	// Text bounds raw_status, the carrier's own words, and an order event's reason.
	// Default 512.
	Text int `yaml:"text"`
	// Place bounds country, city and postal_code. Default 128.
	Place int `yaml:"place"`
}

// Validate fills defaults and checks the values, naming the offending key.
func (l *Limits) Validate() error {
	for _, f := range []struct {
		key  string
		v    *int
		def  int
		most int
	}{{"tracking_number", &l.TrackingNumber, 64, 1024}, {"id", &l.ID, 128, 4096}, {"code", &l.Code, 64, 1024},
		{"text", &l.Text, 512, 65536}, {"place", &l.Place, 128, 4096}} {
		if *f.v == 0 {
			*f.v = f.def
		}
		if *f.v < 8 || *f.v > f.most {
			return fmt.Errorf("limits.%s: %d is out of range 8..%d", f.key, *f.v, f.most)
		}
	}
	return nil
}

// checkField refuses a value over its limit, with a control character, or not UTF-8.
// It runs on every field of every message: ASCII is checked byte by byte, and nothing
// is allocated unless the value is refused.
func checkField(name, v string, max int) *Rejection {
	if len(v) > max {
		return reject(ReasonInvalidValue, "%s is %d bytes, over the limit of %d", name, len(v), max)
	}
	for i := 0; i < len(v); {
		if c := v[i]; c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return reject(ReasonInvalidValue, "%s holds the control character %U", name, rune(c))
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(v[i:])
		if r == utf8.RuneError && size == 1 {
			return reject(ReasonInvalidValue, "%s is not UTF-8", name)
		}
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Bidi_Control, r) {
			return reject(ReasonInvalidValue, "%s holds the control character %U", name, r)
		}
		i += size
	}
	return nil
}

// checkPlace checks a place's fields (their names given whole: nothing is built for a
// place that passes).
func checkPlace(p *schemas.Place, max int, country, city, postal string) *Rejection {
	if p == nil {
		return nil
	}
	return first(checkField(country, p.Country, max), checkField(city, p.City, max), checkField(postal, p.PostalCode, max))
}

// first returns the first refusal of a sequence of checks.
func first(rs ...*Rejection) *Rejection {
	for _, r := range rs {
		if r != nil {
			return r
		}
	}
	return nil
}

func (l Limits) tracking(e *schemas.TrackingEvent) *Rejection {
	return first(checkField("event_id", e.EventID, l.ID), checkField("tracking_number", e.TrackingNumber, l.TrackingNumber),
		checkField("carrier", e.Carrier, l.Code), checkField("status", e.Status, l.Code), checkField("raw_status", e.RawStatus, l.Text),
		checkPlace(e.Location, l.Place, "location.country", "location.city", "location.postal_code"),
		checkPlace(e.Destination, l.Place, "destination.country", "destination.city", "destination.postal_code"))
}

func (l Limits) order(e *schemas.OrderEvent) *Rejection {
	return first(checkField("event_id", e.EventID, l.ID), checkField("order_id", e.OrderID, l.ID), checkField("seller_id", e.SellerID, l.ID),
		checkField("buyer_id", e.BuyerID, l.ID), checkField("marketplace", e.Marketplace, l.Code), checkField("status", e.Status, l.Code),
		checkField("carrier", e.Carrier, l.Code), checkField("currency", e.Currency, l.Code),
		checkField("payment_method", e.PaymentMethod, l.Code), checkField("reason", e.Reason, l.Text),
		checkField("tracking_number", e.TrackingNumber, l.TrackingNumber), checkPlace(e.ShipTo, l.Place, "ship_to.country", "ship_to.city", "ship_to.postal_code"))
}
