package feeds

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"
)

// EasyPost signs every event with the webhook's webhook_secret: the header
// X-Hmac-Signature holds "hmac-sha256-hex=" and the hex HMAC-SHA256 of the body, keyed
// with the secret in Unicode NFKD form (docs.easypost.com, Webhooks; validate_webhook in
// EasyPost's client libraries). No timestamp is signed.
func verifyEasyPost(h http.Header, body []byte, key string, _ time.Time, _ time.Duration) error {
	got, ok := strings.CutPrefix(strings.TrimSpace(h.Get("X-Hmac-Signature")), "hmac-sha256-hex=")
	want := hexString(hmacSHA256(norm.NFKD.String(key), body))
	if !ok || !equal(strings.ToLower(got), []byte(want)) { // hex, in either case
		return errSignature
	}
	return nil
}

// easyPostBody is an Event ({"object": "Event", "description": "tracker.updated",
// "result": Tracker}) or a Tracker itself (an API response).
type easyPostBody struct {
	Object      string          `json:"object"`
	Description string          `json:"description"`
	Result      json.RawMessage `json:"result"`
}

type easyPostTracker struct {
	Object          string `json:"object"`
	TrackingCode    string `json:"tracking_code"`
	Carrier         string `json:"carrier"`
	TrackingDetails []struct {
		Message          string `json:"message"`
		Description      string `json:"description"`
		Status           string `json:"status"`
		StatusDetail     string `json:"status_detail"`
		Datetime         string `json:"datetime"`
		Source           string `json:"source"`
		TrackingLocation struct {
			City    string `json:"city"`
			State   string `json:"state"`
			Country string `json:"country"`
			Zip     string `json:"zip"`
		} `json:"tracking_location"`
	} `json:"tracking_details"`
}

func parseEasyPost(body []byte, _ Source) (Events, error) {
	var b easyPostBody
	if err := decode(body, &b); err != nil {
		return Events{}, err
	}
	raw := body
	if b.Object == "Event" {
		if !strings.HasPrefix(b.Description, "tracker.") {
			return Events{}, nil // an event about something else (a batch, a refund): nothing to track
		}
		raw = b.Result
	}
	var t easyPostTracker
	if err := decode(raw, &t); err != nil {
		return Events{}, err
	}
	if t.Object != "Tracker" || t.TrackingCode == "" {
		return Events{}, unmappable(ReasonUnknownShape, "no Tracker with a tracking_code")
	}
	slug := carrierSlug(t.Carrier)
	cps := make([]checkpoint, 0, len(t.TrackingDetails))
	for i, d := range t.TrackingDetails {
		at, ok := parseTime(d.Datetime, "")
		if !ok {
			return Events{}, unmappable(ReasonBadTimestamp, "tracking_details[%d].datetime %q is not a time", i, d.Datetime)
		}
		l := d.TrackingLocation
		cps = append(cps, checkpoint{
			number: t.TrackingCode, carrier: slug, raw: first(d.Message, d.Description),
			status: easyPostStatus(d.Status, d.StatusDetail), at: at,
			identity: d.Datetime + "|" + d.Message + "|" + l.City + "|" + l.State + "|" + l.Country + "|" + l.Zip,
			location: place(l.Country, l.City, l.Zip),
		})
	}
	return Events{Tracking: trackingEvents(EasyPost, cps)}, nil
}

// easyPostStatus reads a tracking detail's status and status_detail (docs.easypost.com,
// Trackers) as a trackwatch sub-status; unknown and error say nothing.
func easyPostStatus(status, detail string) string {
	switch detail {
	case "label_created":
		return "info_received/pre_advice"
	case "received_at_origin_facility":
		return "picked_up/accepted"
	case "departed_facility":
		return "in_transit/departed"
	case "arrived_at_facility", "arrived_at_destination":
		return "in_transit/arrived"
	case "arrived_at_pickup_location":
		return "out_for_delivery/pickup"
	}
	switch status {
	case "pre_transit":
		return "info_received/pre_advice"
	case "in_transit":
		return "in_transit/in_transit"
	case "out_for_delivery":
		return "out_for_delivery/on_route"
	case "available_for_pickup":
		return "out_for_delivery/pickup"
	case "delivered":
		return "delivered/delivered"
	case "return_to_sender":
		return "returned/returning"
	case "failure":
		return "exception/other"
	case "cancelled":
		return "cancelled/label_voided"
	}
	return ""
}
