package ingest

import "testing"

func TestCarrierPhrasingsMapToContractStatuses(t *testing.T) {
	for raw, want := range map[string]string{
		"Electronic information received":            "info_received",
		"Shipping information received":              "info_received",
		"Label created":                              "info_received",
		"Shipping Label Created, USPS Awaiting Item": "info_received",
		"Pre-shipment info sent to carrier":          "info_received",
		"Shipment information sent to carrier":       "info_received",
		"Order information received":                 "info_received",
		"Picked up":                                  "picked_up",
		"Accepted at USPS Origin Facility":           "picked_up",
		"Posting/Collection":                         "picked_up",
		"In transit":                                 "in_transit",
		"Departed from facility":                     "in_transit",
		"Arrived at destination country":             "in_transit",
		"Out for delivery":                           "out_for_delivery",
		"Delivered":                                  "delivered",
		"Delivered, In/At Mailbox":                   "delivered",
		"Picked up by recipient at post office":      "delivered",
		"Delivery attempted - no access":             "failed_attempt",
		"Returned to sender":                         "returned",
		"Held by customs":                            "exception",
		"Undelivered: address unknown":               "exception",
		"Package cancelled":                          "cancelled",
		"Almost there":                               StatusUnknown,
		"Something new the carrier invented":         StatusUnknown,
		"":                                           StatusUnknown,
	} {
		if got := StatusFromRaw("", raw); got != want {
			t.Errorf("StatusFromRaw(%q) = %q, want %q", raw, got, want)
		}
	}
}

func TestSpellingsOfOnePlaceCompareEqual(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b string
		norm func(string) string
	}{
		{"country code and name", "JP", "Japan", NormaliseCountry},
		{"lower-case code", "jp", "JP", NormaliseCountry},
		{"alpha-3 code", "USA", "United States", NormaliseCountry},
		{"UK and GB", "UK", "GB", NormaliseCountry},
		{"city case", "TOKYO", "Tokyo", NormaliseCity},
		{"city spacing and punctuation", "  New-York ", "new york", NormaliseCity},
		{"postal code with dash", "100-0001", "1000001", NormalisePostalCode},
		{"postal code with space", "sw1a 1aa", "SW1A1AA", NormalisePostalCode},
		{"tracking number spacing and case", "rr 1234-5678 5cn", "RR123456785CN", NormaliseTrackingNumber},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.norm(tc.a) != tc.norm(tc.b) {
				t.Fatalf("%q -> %q, %q -> %q", tc.a, tc.norm(tc.a), tc.b, tc.norm(tc.b))
			}
		})
	}
	if NormaliseCountry("Japan") != "JP" || NormaliseCountry("Atlantis") != "ATLANTIS" {
		t.Fatalf("Japan -> %q, Atlantis -> %q", NormaliseCountry("Japan"), NormaliseCountry("Atlantis"))
	}
	if NormaliseCountry("JP") == NormaliseCountry("CN") {
		t.Fatal("different countries compare equal")
	}
}
