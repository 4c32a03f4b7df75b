package ingest

import (
	"strings"
	"testing"
	"time"

	"github.com/trackwatch/trackwatch/carrier"
)

func TestTrackingEventFromContractIsNormalised(t *testing.T) {
	row, rej := DecodeTracking([]byte(`{"event_id":" e1 ","tracking_number":"rr 1234-5678 5cn","carrier":"China-Post",
	  "raw_status":"Electronic information received","occurred_at":"2026-10-02T08:15:00.1234+08:00",
	  "location":{"country":"China","city":"SHENZHEN"},"destination":{"country":"Japan","city":"Tokyo","postal_code":"100-0001"},
	  "unknown_field":{"ignored":true}}`))
	if rej != nil {
		t.Fatal(rej)
	}
	want := TrackingRow{
		EventID: "e1", TrackingNumber: "RR123456785CN", TrackingNumberRaw: "rr 1234-5678 5cn", Carrier: "china-post",
		Status: "info_received", RawStatus: "Electronic information received", SubStatus: carrier.PreAdvice,
		OccurredAt:  time.Date(2026, 10, 2, 0, 15, 0, 123_000_000, time.UTC),
		Location:    PlaceCols{Country: "CN", City: "SHENZHEN", CityNorm: "shenzhen"},
		Destination: PlaceCols{Country: "JP", City: "Tokyo", CityNorm: "tokyo", Postal: "100-0001", PostalNorm: "1000001"},
	}
	if row != want {
		t.Fatalf("got  %+v\nwant %+v", row, want)
	}
	if row.OccurredAt.Location() != time.UTC {
		t.Fatal("occurred_at not in UTC")
	}
}

func TestExplicitStatusWinsAndUnknownPhraseIsKept(t *testing.T) {
	row, rej := DecodeTracking([]byte(`{"event_id":"e","tracking_number":"X1","status":"in_transit","raw_status":"Label created","occurred_at":"2026-10-02T08:15:00Z"}`))
	if rej != nil || row.Status != "in_transit" {
		t.Fatalf("status = %q, %v", row.Status, rej)
	}
	row, rej = DecodeTracking([]byte(`{"event_id":"e","tracking_number":"X1","raw_status":"Zorgled at hub","occurred_at":"2026-10-02T08:15:00Z"}`))
	if rej != nil || row.Status != StatusUnknown {
		t.Fatalf("status = %q, %v", row.Status, rej)
	}
}

func TestBadMessagesAreRejectedWithReason(t *testing.T) {
	for _, tc := range []struct {
		name, topic, msg, reason, detail string
	}{
		{"not JSON", "t", `{"event_id":`, ReasonNotJSON, ""},
		{"plain text", "t", `hello`, ReasonNotJSON, ""},
		{"two JSON values", "t", `{} {}`, ReasonNotJSON, "more than one"},
		{"missing event_id", "t", `{"tracking_number":"X","raw_status":"x","occurred_at":"2026-10-02T08:15:00Z"}`, ReasonMissingField, "event_id"},
		{"blank tracking number", "t", `{"event_id":"e","tracking_number":"  ","raw_status":"x","occurred_at":"2026-10-02T08:15:00Z"}`, ReasonMissingField, "tracking_number"},
		{"neither status nor raw_status", "t", `{"event_id":"e","tracking_number":"X","occurred_at":"2026-10-02T08:15:00Z"}`, ReasonMissingField, "status or raw_status"},
		{"status outside the contract", "t", `{"event_id":"e","tracking_number":"X","status":"teleported","occurred_at":"2026-10-02T08:15:00Z"}`, ReasonInvalidValue, "teleported"},
		{"timestamp without offset", "t", `{"event_id":"e","tracking_number":"X","raw_status":"x","occurred_at":"2026-10-02 08:15:00"}`, ReasonBadTimestamp, "RFC 3339"},
		{"timestamp missing", "t", `{"event_id":"e","tracking_number":"X","raw_status":"x"}`, ReasonMissingField, "occurred_at"},
		{"timestamp as number", "t", `{"event_id":"e","tracking_number":"X","raw_status":"x","occurred_at":1700000000}`, ReasonInvalidValue, "occurred_at"},
		{"tracking number as number", "t", `{"event_id":"e","tracking_number":123,"raw_status":"x","occurred_at":"2026-10-02T08:15:00Z"}`, ReasonInvalidValue, "tracking_number"},
		{"order without buyer", "o", `{"event_id":"e","order_id":"o","seller_id":"s","status":"paid","occurred_at":"2026-10-02T08:15:00Z"}`, ReasonMissingField, "buyer_id"},
		{"shipped without tracking number", "o", `{"event_id":"e","order_id":"o","seller_id":"s","buyer_id":"b","status":"shipped","occurred_at":"2026-10-02T08:15:00Z"}`, ReasonMissingField, "tracking_number"},
		{"placed without ship_to", "o", `{"event_id":"e","order_id":"o","seller_id":"s","buyer_id":"b","status":"placed","occurred_at":"2026-10-02T08:15:00Z"}`, ReasonMissingField, "ship_to"},
		{"unknown order status", "o", `{"event_id":"e","order_id":"o","seller_id":"s","buyer_id":"b","status":"lost","occurred_at":"2026-10-02T08:15:00Z"}`, ReasonInvalidValue, "lost"},
		{"fractional protection days", "o", `{"event_id":"e","order_id":"o","seller_id":"s","buyer_id":"b","status":"paid","occurred_at":"2026-10-02T08:15:00Z","protection_days":1.5}`, ReasonInvalidValue, "protection_days"},
		{"negative protection days", "o", `{"event_id":"e","order_id":"o","seller_id":"s","buyer_id":"b","status":"paid","occurred_at":"2026-10-02T08:15:00Z","protection_days":-1}`, ReasonInvalidValue, "protection_days"},
		{"payment method outside the contract", "o", `{"event_id":"e","order_id":"o","seller_id":"s","buyer_id":"b","status":"paid","occurred_at":"2026-10-02T08:15:00Z","payment_method":"cheque"}`, ReasonInvalidValue, "payment_method"},
		{"negative refund amount", "o", `{"event_id":"e","order_id":"o","seller_id":"s","buyer_id":"b","status":"refund_completed","occurred_at":"2026-10-02T08:15:00Z","refund_amount":-3}`, ReasonInvalidValue, "refund_amount"},
		{"refund amount as text", "o", `{"event_id":"e","order_id":"o","seller_id":"s","buyer_id":"b","status":"refund_approved","occurred_at":"2026-10-02T08:15:00Z","refund_amount":"all"}`, ReasonInvalidValue, "refund_amount"},
		{"reason with a control character", "o", `{"event_id":"e","order_id":"o","seller_id":"s","buyer_id":"b","status":"cancel_requested","occurred_at":"2026-10-02T08:15:00Z","reason":"no\u0007"}`, ReasonInvalidValue, "reason"},
		{"amount as text", "o", `{"event_id":"e","order_id":"o","seller_id":"s","buyer_id":"b","status":"paid","occurred_at":"2026-10-02T08:15:00Z","amount":"ten"}`, ReasonInvalidValue, "amount"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rej *Rejection
			if tc.topic == "t" {
				_, rej = DecodeTracking([]byte(tc.msg))
			} else {
				_, rej = DecodeOrder([]byte(tc.msg))
			}
			if rej == nil {
				t.Fatal("accepted")
			}
			if rej.Reason != tc.reason || !strings.Contains(rej.Detail, tc.detail) {
				t.Fatalf("rejection = %v, want reason %s with %q", rej, tc.reason, tc.detail)
			}
		})
	}
}

func TestOrderEventFromContract(t *testing.T) {
	row, rej := DecodeOrder([]byte(`{"event_id":"oe1","order_id":"A-1","marketplace":"AliExpress","seller_id":"s1","buyer_id":"b1",
	  "status":"placed","occurred_at":"2026-09-01T10:00:00-05:00","ship_to":{"country":"jp","city":"TOKYO","postal_code":"100 0001"},
	  "protection_days":75,"amount":12.34567,"currency":"usd"}`))
	if rej != nil {
		t.Fatal(rej)
	}
	if row.OccurredAt != time.Date(2026, 9, 1, 15, 0, 0, 0, time.UTC) || row.ShipTo.Country != "JP" || row.ShipTo.PostalNorm != "1000001" ||
		*row.ProtectionDays != 75 || row.ProtectionExtendedDays != nil || row.Amount.String() != "12.3457" || row.Currency != "USD" || row.Marketplace != "aliexpress" {
		t.Fatalf("row = %+v", row)
	}
}

func TestAnAggregatorsStatusDecidesOnlyWhereNoPhraseKnowsTheWords(t *testing.T) {
	for _, tc := range []struct {
		name, raw, providerStatus string
		wantSub                   carrier.SubStatus
		wantReading               string
	}{
		{"words no phrase knows take the provider's pre-advice", "Zorgled at hub", "info_received/pre_advice", carrier.PreAdvice, "decided"},
		{"words no phrase knows take a plain provider status", "Zorgled at hub", "in_transit", carrier.InTransit, "decided"},
		{"known words that agree keep their detail", "Departed from facility", "in_transit", carrier.Departed, "agreed"},
		{"known words that disagree keep the phrase table's reading", "Electronic information received", "in_transit/in_transit", carrier.PreAdvice, "disagreed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			row, rej := DecodeTracking([]byte(`{"event_id":"e","tracking_number":"X1","raw_status":"` + tc.raw + `","occurred_at":"2026-10-02T08:15:00Z",
			  "provider":"AfterShip","provider_status":"` + tc.providerStatus + `"}`))
			if rej != nil {
				t.Fatal(rej)
			}
			if row.SubStatus != tc.wantSub || row.Status != tc.wantSub.Status() {
				t.Fatalf("sub-status %s, status %s; want %s", row.SubStatus, row.Status, tc.wantSub)
			}
			if got := row.ProviderReading(); got != tc.wantReading {
				t.Fatalf("reading %s, want %s", got, tc.wantReading)
			}
			if row.Provider != "aftership" || row.ProviderStatus == "" {
				t.Fatalf("provider %q %q not kept", row.Provider, row.ProviderStatus)
			}
		})
	}
	if _, rej := DecodeTracking([]byte(`{"event_id":"e","tracking_number":"X1","raw_status":"x","occurred_at":"2026-10-02T08:15:00Z","provider_status":"moving/fast"}`)); rej == nil || rej.Reason != ReasonInvalidValue {
		t.Fatalf("a provider_status outside the model: %v, want %s", rej, ReasonInvalidValue)
	}
}

// The buyer's journey after the order (issue 25): the new statuses and fields decode,
// and a v1 event without them decodes as before.
func TestJourneyEventsFromContract(t *testing.T) {
	for _, tc := range []struct {
		name, msg      string
		status, method string
		refund, reason string
	}{
		{"paid with a method", `{"event_id":"e","order_id":"o","seller_id":"s","buyer_id":"b","status":"paid","occurred_at":"2026-10-02T08:15:00Z","payment_method":" PayPal "}`, "paid", "paypal", "", ""},
		{"cancellation requested", `{"event_id":"e","order_id":"o","seller_id":"s","buyer_id":"b","status":"cancel_requested","occurred_at":"2026-10-02T08:15:00Z","reason":" changed my mind "}`, "cancel_requested", "", "", "changed my mind"},
		{"cancellation rejected", `{"event_id":"e","order_id":"o","seller_id":"s","buyer_id":"b","status":"cancel_rejected","occurred_at":"2026-10-02T08:15:00Z"}`, "cancel_rejected", "", "", ""},
		{"dispute answered", `{"event_id":"e","order_id":"o","seller_id":"s","buyer_id":"b","status":"dispute_responded","occurred_at":"2026-10-02T08:15:00Z"}`, "dispute_responded", "", "", ""},
		{"dispute escalated", `{"event_id":"e","order_id":"o","seller_id":"s","buyer_id":"b","status":"dispute_escalated","occurred_at":"2026-10-02T08:15:00Z"}`, "dispute_escalated", "", "", ""},
		{"refund approved", `{"event_id":"e","order_id":"o","seller_id":"s","buyer_id":"b","status":"refund_approved","occurred_at":"2026-10-02T08:15:00Z","refund_amount":20.5}`, "refund_approved", "", "20.5", ""},
		{"refund completed", `{"event_id":"e","order_id":"o","seller_id":"s","buyer_id":"b","status":"refund_completed","occurred_at":"2026-10-02T08:15:00Z","refund_amount":7}`, "refund_completed", "", "7", ""},
		{"a v1 event", `{"event_id":"e","order_id":"o","seller_id":"s","buyer_id":"b","status":"paid","occurred_at":"2026-10-02T08:15:00Z"}`, "paid", "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			row, rej := DecodeOrder([]byte(tc.msg))
			if rej != nil {
				t.Fatal(rej)
			}
			refund := ""
			if row.RefundAmount != nil {
				refund = row.RefundAmount.String()
			}
			if row.Status != tc.status || row.PaymentMethod != tc.method || refund != tc.refund || row.Reason != tc.reason {
				t.Fatalf("status %q, method %q, refund %q, reason %q", row.Status, row.PaymentMethod, refund, row.Reason)
			}
		})
	}
}
