package feeds

import (
	"net/http"
	"strings"
	"time"
)

// TrackingMore (API v4) sends the headers timestamp (Unix seconds) and signature, the
// hex HMAC-SHA256 of the timestamp under the account's webhook secret
// (trackingmore.com's v4 webhook docs). Only the timestamp is signed, not the body:
// trackwatch also refuses a timestamp outside timestamp_tolerance, which bounds how long
// a captured signature can be replayed, and the docs recommend HTTPS for the body.
func verifyTrackingMore(h http.Header, _ []byte, key string, now time.Time, tolerance time.Duration) error {
	ts, got := h.Get("timestamp"), h.Get("signature")
	if ts == "" || got == "" || !equal(got, []byte(hexString(hmacSHA256(key, []byte(strings.TrimSpace(ts)))))) {
		return errSignature
	}
	if !withinTolerance(ts, now, tolerance) {
		return errSignature
	}
	return nil
}

// trackingMoreBody is a v4 webhook or get-trackings response: {"code", "data": one
// tracking} or {"data": [trackings]}.
type trackingMoreBody struct {
	Data rawOneOrMany[trackingMoreTracking] `json:"data"`
}

type trackingMoreTracking struct {
	TrackingNumber     string           `json:"tracking_number"`
	CourierCode        string           `json:"courier_code"`
	DestinationCountry string           `json:"destination_country"`
	DestinationCity    string           `json:"destination_city"`
	DestinationPostal  string           `json:"destination_postal_code"`
	OriginInfo         trackingMoreInfo `json:"origin_info"`
	DestinationInfo    trackingMoreInfo `json:"destination_info"`
}

// trackingMoreInfo is origin_info or destination_info, as TrackingMore's v4 Go client
// declares them (TrackingMore-API/trackingmore-sdk-go, trackings.go, Tracking).
type trackingMoreInfo struct {
	CourierCode string `json:"courier_code"`
	TrackInfo   []struct {
		CheckpointDate              string `json:"checkpoint_date"`
		TrackingDetail              string `json:"tracking_detail"`
		Location                    string `json:"location"`
		CheckpointDeliveryStatus    string `json:"checkpoint_delivery_status"`
		CheckpointDeliverySubstatus string `json:"checkpoint_delivery_substatus"`
		CountryISO2                 string `json:"country_iso2"`
		City                        string `json:"city"`
		Zip                         string `json:"zip"`
	} `json:"trackinfo"`
}

func parseTrackingMore(body []byte, _ Source) (Events, error) {
	var b trackingMoreBody
	if err := decode(body, &b); err != nil {
		return Events{}, err
	}
	if len(b.Data) == 0 {
		return Events{}, unmappable(ReasonUnknownShape, "no tracking in data")
	}
	var cps []checkpoint
	for _, t := range b.Data {
		if t.TrackingNumber == "" {
			return Events{}, unmappable(ReasonMissingField, "data.tracking_number is empty")
		}
		dest := place(t.DestinationCountry, t.DestinationCity, t.DestinationPostal)
		for _, info := range []trackingMoreInfo{t.OriginInfo, t.DestinationInfo} {
			slug := carrierSlug(first(info.CourierCode, t.CourierCode))
			for i, c := range info.TrackInfo {
				at, ok := parseTime(c.CheckpointDate, "")
				if !ok {
					return Events{}, unmappable(ReasonBadTimestamp, "trackinfo[%d].checkpoint_date %q is not a time", i, c.CheckpointDate)
				}
				cps = append(cps, checkpoint{
					number: t.TrackingNumber, carrier: slug, raw: c.TrackingDetail,
					status: trackingMoreStatus(c.CheckpointDeliveryStatus, c.CheckpointDeliverySubstatus), at: at,
					identity: slug + "|" + c.CheckpointDate + "|" + c.TrackingDetail + "|" + c.Location,
					location: place(c.CountryISO2, first(c.City, c.Location), c.Zip), destination: dest,
				})
			}
		}
	}
	return Events{Tracking: trackingEvents(TrackingMore, cps)}, nil
}

// trackingMoreStatus reads TrackingMore's delivery status and sub-status as a trackwatch
// sub-status; pending, notfound and expired say nothing.
func trackingMoreStatus(status, sub string) string {
	switch sub {
	case "delivered002": // picked up by the customer
		return "delivered/collected"
	}
	switch status {
	case "inforeceived":
		return "info_received/pre_advice"
	case "transit":
		return "in_transit/in_transit"
	case "pickup":
		return "out_for_delivery/on_route"
	case "delivered":
		return "delivered/delivered"
	case "undelivered":
		return "failed_attempt/attempted"
	case "exception":
		return "exception/other"
	}
	return ""
}

// rawOneOrMany decodes a JSON object or an array of them.
type rawOneOrMany[T any] []T

func (r *rawOneOrMany[T]) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	if strings.HasPrefix(s, "[") {
		var many []T
		if err := jsonUnmarshal(b, &many); err != nil {
			return err
		}
		*r = many
		return nil
	}
	if s == "null" {
		return nil
	}
	var one T
	if err := jsonUnmarshal(b, &one); err != nil {
		return err
	}
	*r = []T{one}
	return nil
}
