package ingest

import (
	"testing"

	"github.com/trackwatch/trackwatch/carrier"
	"github.com/trackwatch/trackwatch/trackingnumber"
)

// An event that declares no carrier is read with the phrase table of the one courier its
// number fits: UPS's "Order Processed: Ready for UPS" is pre-advice, which the generic
// table would take for a processing scan (a physical one).
func TestAnUndeclaredCarrierIsDetectedFromTheNumber(t *testing.T) {
	c, err := trackingnumber.Load(trackingnumber.Config{})
	if err != nil {
		t.Fatal(err)
	}
	w := NewWriter(nil, "db", Config{}, nil, nil, nil).CheckNumbers(c)
	ev := []byte(`{"event_id":"e1","tracking_number":"1Z5R89390357567127","raw_status":"Order Processed: Ready for UPS","occurred_at":"2026-10-01T10:00:00Z"}`)
	r, rej := w.dec.DecodeTracking(ev)
	if rej != nil {
		t.Fatal(rej)
	}
	if r.SubStatus != carrier.PreAdvice {
		t.Fatalf("sub-status %s, want %s (UPS's table, from the number)", r.SubStatus, carrier.PreAdvice)
	}
	if r.Carrier != "" {
		t.Fatalf("stored carrier %q: the declared one (none) is kept", r.Carrier)
	}
	// without the checker, the generic table reads it
	r, _ = NewWriter(nil, "db", Config{}, nil, nil, nil).dec.DecodeTracking(ev)
	if r.SubStatus == carrier.PreAdvice {
		t.Fatal("the generic table already reads it as pre-advice: the test shows nothing")
	}
	// a number that fits several couriers (Yamato's, Japan Post's and Sagawa's 12 digits
	// with the same check) is read with the generic table
	if got := w.dec.detected.get("123456789013"); got != "" {
		t.Errorf("an ambiguous number was given the courier %q", got)
	}
}

// Only what has something to say is stored: a valid number's verdict is not.
func TestOnlyFindingsAndDetectionsAreStored(t *testing.T) {
	c, err := trackingnumber.Load(trackingnumber.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		number, carrier string
		want            bool
	}{
		{"1Z5R89390357567127", "ups", false},
		{"1Z5R89390357567128", "ups", true},
		{"1Z5R89390357567127", "fedex", true},
		{"1Z5R89390357567127", "", true},
		{"XYZ", "", false},
		{"XYZ", "yunexpress", false},
		{"YT1234567890123456", "yunexpress", false},
		{"YT1234567890123456", "cainiao", true},
	} {
		if got := WorthStoring(c.Check(tc.number, tc.carrier)); got != tc.want {
			t.Errorf("%s as %q: stored %v, want %v", tc.number, tc.carrier, got, tc.want)
		}
	}
}
