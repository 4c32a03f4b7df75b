package ingest

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestHostileFieldsAreRefusedNamingTheField(t *testing.T) {
	long := strings.Repeat("A", 10_000)
	for _, tc := range []struct {
		name, msg, want string
	}{
		{"a 10,000-character tracking number", `{"event_id":"e","tracking_number":"` + long + `","raw_status":"x","occurred_at":"2026-10-01T00:00:00Z"}`,
			"tracking_number is 10000 bytes, over the limit of 64"},
		{"a newline in a city", `{"event_id":"e","tracking_number":"RR1","raw_status":"x","occurred_at":"2026-10-01T00:00:00Z","location":{"city":"Tok\nyo"}}`,
			"location.city holds the control character U+000A"},
		{"a right-to-left override in the carrier's words", `{"event_id":"e","tracking_number":"RR1","raw_status":"Deliv\u202eered","occurred_at":"2026-10-01T00:00:00Z"}`,
			"raw_status holds the control character U+202E"},
		{"a NUL in an event id", `{"event_id":"e\u0000","tracking_number":"RR1","raw_status":"x","occurred_at":"2026-10-01T00:00:00Z"}`,
			"event_id holds the control character U+0000"},
	} {
		_, rej := DecodeTracking([]byte(tc.msg))
		if rej == nil || rej.Reason != ReasonInvalidValue || !strings.Contains(rej.Detail, tc.want) {
			t.Errorf("%s: %v, want invalid_value %q", tc.name, rej, tc.want)
		}
	}
	_, rej := DecodeOrder([]byte(`{"event_id":"e","order_id":"o","seller_id":"` + long[:200] + `","buyer_id":"b","status":"placed","occurred_at":"2026-10-01T00:00:00Z"}`))
	if rej == nil || !strings.Contains(rej.Detail, "seller_id is 200 bytes, over the limit of 128") {
		t.Errorf("a long seller id: %v", rej)
	}
	if _, rej := DecodeTracking([]byte(`{"event_id":"e","tracking_number":"RR1","raw_status":"【深圳市】快件已揽收 お届け済み","occurred_at":"2026-10-01T00:00:00Z"}`)); rej != nil {
		t.Errorf("ordinary Chinese and Japanese words refused: %v", rej)
	}
	d := NewDecoder(defaultDecoder.phrases, Limits{TrackingNumber: 8})
	if _, rej := d.DecodeTracking([]byte(`{"event_id":"e","tracking_number":"RR123456785CN","raw_status":"x","occurred_at":"2026-10-01T00:00:00Z"}`)); rej == nil {
		t.Error("a configured limit of 8 let a 13-character number through")
	}
	if err := (&Limits{Text: 3}).Validate(); err == nil || !strings.Contains(err.Error(), "limits.text") {
		t.Errorf("a limit under 8: %v", err)
	}
}

// What either decoder accepts is within the limits and free of control characters;
// nothing makes them panic. CI runs these for a bounded time (.ci/run).
func FuzzDecodeTracking(f *testing.F) {
	f.Add([]byte(`{"event_id":"e1","tracking_number":"rr 1234-5678 5cn","carrier":"china-post","raw_status":"Electronic information received","occurred_at":"2026-10-02T08:15:00+08:00","location":{"country":"China","city":"SHENZHEN"},"destination":{"country":"JP","postal_code":"100-0001"}}`))
	f.Add([]byte(`{"event_id":"e2","tracking_number":"1Z999","status":"delivered","occurred_at":"2026-10-02T08:15:00Z"}`))
	f.Add([]byte(`{"event_id":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, rej := DecodeTracking(b)
		if rej != nil {
			return
		}
		for _, s := range []string{r.EventID, r.TrackingNumber, r.Carrier, r.Status, r.RawStatus, r.Location.City, r.Destination.Postal} {
			if len(s) > 512 || !utf8.ValidString(s) || strings.ContainsAny(s, "\x00\n\r\t") {
				t.Fatalf("accepted %q from %q", s, b)
			}
		}
		if r.TrackingNumber == "" || len(r.TrackingNumber) > 64 || r.OccurredAt.IsZero() {
			t.Fatalf("accepted row %+v", r)
		}
	})
}

func FuzzDecodeOrder(f *testing.F) {
	f.Add([]byte(`{"event_id":"o1","order_id":"8041","seller_id":"s","buyer_id":"b","status":"shipped","occurred_at":"2026-10-02T08:15:00Z","tracking_number":"RR123456785CN","ship_to":{"country":"Japan","city":"Tokyo","postal_code":"100-0001"},"amount":25.5,"currency":"USD","protection_days":60}`))
	f.Add([]byte(`{"event_id":"o2","order_id":"x","seller_id":"s","buyer_id":"b","status":"placed","occurred_at":"2026-10-02T08:15:00Z","amount":"1e400"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, rej := DecodeOrder(b)
		if rej != nil {
			return
		}
		for _, s := range []string{r.EventID, r.OrderID, r.SellerID, r.BuyerID, r.Marketplace, r.Status, r.TrackingNumber, r.ShipTo.City} {
			if len(s) > 128 || !utf8.ValidString(s) || strings.ContainsAny(s, "\x00\n\r\t") {
				t.Fatalf("accepted %q from %q", s, b)
			}
		}
		if r.OrderID == "" || r.OccurredAt.IsZero() {
			t.Fatalf("accepted row %+v", r)
		}
	})
}
