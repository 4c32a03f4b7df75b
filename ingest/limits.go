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
	// Text bounds raw_status, the carrier's own words. Default 512.
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

// field is one string of a message with its limit.
type field struct {
	name, value string
	max         int
}

// checkFields refuses a value over its limit, with a control character, or not UTF-8.
func checkFields(fs ...field) *Rejection {
	for _, f := range fs {
		if len(f.value) > f.max {
			return reject(ReasonInvalidValue, "%s is %d bytes, over the limit of %d", f.name, len(f.value), f.max)
		}
		if !utf8.ValidString(f.value) {
			return reject(ReasonInvalidValue, "%s is not UTF-8", f.name)
		}
		for _, r := range f.value {
			if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Bidi_Control, r) {
				return reject(ReasonInvalidValue, "%s holds the control character %U", f.name, r)
			}
		}
	}
	return nil
}

func placeFields(name string, p *schemas.Place, max int) []field {
	if p == nil {
		return nil
	}
	return []field{{name + ".country", p.Country, max}, {name + ".city", p.City, max}, {name + ".postal_code", p.PostalCode, max}}
}

func (l Limits) tracking(e *schemas.TrackingEvent) *Rejection {
	fs := []field{{"event_id", e.EventID, l.ID}, {"tracking_number", e.TrackingNumber, l.TrackingNumber}, {"carrier", e.Carrier, l.Code},
		{"status", e.Status, l.Code}, {"raw_status", e.RawStatus, l.Text}}
	fs = append(fs, placeFields("location", e.Location, l.Place)...)
	fs = append(fs, placeFields("destination", e.Destination, l.Place)...)
	return checkFields(fs...)
}

func (l Limits) order(e *schemas.OrderEvent) *Rejection {
	fs := []field{{"event_id", e.EventID, l.ID}, {"order_id", e.OrderID, l.ID}, {"seller_id", e.SellerID, l.ID}, {"buyer_id", e.BuyerID, l.ID},
		{"marketplace", e.Marketplace, l.Code}, {"status", e.Status, l.Code}, {"carrier", e.Carrier, l.Code}, {"currency", e.Currency, l.Code},
		{"tracking_number", e.TrackingNumber, l.TrackingNumber}}
	return checkFields(append(fs, placeFields("ship_to", e.ShipTo, l.Place)...)...)
}
