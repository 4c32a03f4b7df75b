package feeds

import (
	"encoding/json"
	"strings"
)

// AfterShip signs every webhook with the account's webhook secret: the header
// aftership-hmac-sha256 holds base64(HMAC-SHA256(secret, body))
// (aftership.com/docs/tracking/webhook/webhook-signature). Nothing in the signed bytes
// is a timestamp a retry would renew, so there is no tolerance to check.

// afterShipBody is a tracking webhook ({"event", "msg": tracking, "ts"}) or a tracking
// API response ({"data": {"tracking": tracking}} or {"data": tracking}).
type afterShipBody struct {
	Event string             `json:"event"`
	Msg   *afterShipTracking `json:"msg"`
	Data  json.RawMessage    `json:"data"`
}

type afterShipTracking struct {
	TrackingNumber         string                `json:"tracking_number"`
	Slug                   string                `json:"slug"`
	DestinationCountryISO3 string                `json:"destination_country_iso3"`
	DestinationCountry     string                `json:"destination_country_region"`
	DestinationCity        string                `json:"destination_city"`
	DestinationPostalCode  string                `json:"destination_postal_code"`
	Checkpoints            []afterShipCheckpoint `json:"checkpoints"`
}

// afterShipCheckpoint reads a checkpoint of either naming: API 2024-04's zip and
// country_iso3 (AfterShip/tracking-sdk-go, model/checkpoint.go) and later versions'
// postal_code and country_region (aftership-tracking-sdk, Checkpoint).
type afterShipCheckpoint struct {
	Slug           string `json:"slug"`
	CheckpointTime string `json:"checkpoint_time"`
	Message        string `json:"message"`
	Location       string `json:"location"`
	City           string `json:"city"`
	State          string `json:"state"`
	Zip            string `json:"zip"`
	PostalCode     string `json:"postal_code"`
	CountryISO3    string `json:"country_iso3"`
	CountryRegion  string `json:"country_region"`
	CountryName    string `json:"country_name"`
	Tag            string `json:"tag"`
	Subtag         string `json:"subtag"`
}

func parseAfterShip(body []byte, _ Source) (Events, error) {
	var b afterShipBody
	if err := decode(body, &b); err != nil {
		return Events{}, err
	}
	t := b.Msg
	if t == nil && len(b.Data) > 0 {
		var d struct {
			Tracking *afterShipTracking `json:"tracking"`
		}
		if err := json.Unmarshal(b.Data, &d); err == nil && d.Tracking != nil {
			t = d.Tracking
		} else if err := json.Unmarshal(b.Data, &t); err != nil {
			t = nil
		}
	}
	if t == nil || t.TrackingNumber == "" {
		return Events{}, unmappable(ReasonUnknownShape, "no tracking with a tracking_number in msg or data")
	}
	dest := place(first(t.DestinationCountry, t.DestinationCountryISO3), t.DestinationCity, t.DestinationPostalCode)
	cps := make([]checkpoint, 0, len(t.Checkpoints))
	for i, c := range t.Checkpoints {
		at, ok := parseTime(c.CheckpointTime, "")
		if !ok {
			return Events{}, unmappable(ReasonBadTimestamp, "checkpoints[%d].checkpoint_time %q is not a time", i, c.CheckpointTime)
		}
		city := first(c.City, c.Location)
		cps = append(cps, checkpoint{
			number: t.TrackingNumber, carrier: carrierSlug(first(c.Slug, t.Slug)), raw: c.Message,
			status: afterShipStatus(c.Tag, c.Subtag), at: at,
			// the carrier's own time, words and place: not the city AfterShip parses out
			// of them, which a later re-sent history may fill in
			identity: c.CheckpointTime + "|" + c.Message + "|" + c.Location,
			location: place(first(c.CountryRegion, c.CountryISO3, c.CountryName), city, first(c.PostalCode, c.Zip)), destination: dest,
		})
	}
	return Events{Tracking: trackingEvents(AfterShip, cps)}, nil
}

// afterShipStatus reads AfterShip's tag and subtag (aftership.com/docs/tracking/others/
// delivery-status) as a trackwatch sub-status; Pending and Expired say nothing.
func afterShipStatus(tag, subtag string) string {
	switch subtag {
	case "InTransit_002": // acceptance scan
		return "picked_up/accepted"
	case "InTransit_003": // arrival scan
		return "in_transit/arrived"
	case "InTransit_007": // departure scan
		return "in_transit/departed"
	case "InTransit_005", "InTransit_006": // customs clearance completed, started
		return "in_transit/customs"
	case "Delivered_002": // picked up by the customer
		return "delivered/collected"
	}
	switch tag {
	case "InfoReceived":
		return "info_received/pre_advice"
	case "InTransit":
		return "in_transit/in_transit"
	case "OutForDelivery":
		return "out_for_delivery/on_route"
	case "AvailableForPickup":
		return "out_for_delivery/pickup"
	case "AttemptFail":
		return "failed_attempt/attempted"
	case "Delivered":
		return "delivered/delivered"
	case "Exception":
		return "exception/other"
	}
	return ""
}

// first returns the first non-blank value.
func first(vs ...string) string {
	for _, v := range vs {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}
