package feeds

import (
	"crypto/sha256"
	"net/http"
	"strconv"
	"time"
)

// 17TRACK (API v2.2) signs a webhook push with the account's API key: the header sign
// holds the hex SHA-256 of the body, a slash and the key (sha256(body + "/" + key)).
// The signed bytes hold no timestamp a retry would renew.
func verify17Track(h http.Header, body []byte, key string, _ time.Time, _ time.Duration) error {
	got := h.Get("sign")
	sum := sha256.New()
	sum.Write(body)
	sum.Write([]byte("/" + key))
	if got == "" || !equal(got, []byte(hexString(sum.Sum(nil)))) {
		return errSignature
	}
	return nil
}

// track17Body is a push ({"event": "TRACKING_UPDATED", "data": one number}) or a
// gettrackinfo response ({"code": 0, "data": {"accepted": [numbers]}}).
type track17Body struct {
	Event string `json:"event"`
	Data  struct {
		track17Number
		Accepted []track17Number `json:"accepted"`
	} `json:"data"`
}

type track17Number struct {
	Number    string `json:"number"`
	Carrier   int    `json:"carrier"`
	TrackInfo *struct {
		ShippingInfo struct {
			RecipientAddress track17Address `json:"recipient_address"`
		} `json:"shipping_info"`
		Tracking struct {
			Providers []struct {
				Provider struct {
					Key  int    `json:"key"`
					Name string `json:"name"`
				} `json:"provider"`
				Events []struct {
					TimeISO     string         `json:"time_iso"`
					TimeUTC     string         `json:"time_utc"`
					Description string         `json:"description"`
					Location    string         `json:"location"`
					Stage       string         `json:"stage"`
					SubStatus   string         `json:"sub_status"`
					Address     track17Address `json:"address"`
				} `json:"events"`
			} `json:"providers"`
		} `json:"tracking"`
	} `json:"track_info"`
}

type track17Address struct {
	Country    string `json:"country"`
	City       string `json:"city"`
	PostalCode string `json:"postal_code"`
}

func parse17Track(body []byte, _ Source) (Events, error) {
	var b track17Body
	if err := decode(body, &b); err != nil {
		return Events{}, err
	}
	if b.Event == "TRACKING_STOPPED" {
		return Events{}, nil // the number is no longer tracked: nothing happened to it
	}
	numbers := b.Data.Accepted
	if b.Data.Number != "" {
		numbers = append(numbers, b.Data.track17Number)
	}
	if len(numbers) == 0 {
		return Events{}, unmappable(ReasonUnknownShape, "no data.number or data.accepted")
	}
	var cps []checkpoint
	for _, n := range numbers {
		if n.TrackInfo == nil {
			continue // registered, not yet tracked
		}
		r := n.TrackInfo.ShippingInfo.RecipientAddress
		dest := place(r.Country, r.City, r.PostalCode)
		for pi, p := range n.TrackInfo.Tracking.Providers {
			slug := carrierSlug(p.Provider.Name)
			if slug == "" {
				slug = "17track-" + strconv.Itoa(p.Provider.Key)
			}
			for ei, e := range p.Events {
				at, ok := parseTime(e.TimeISO, "")
				if !ok {
					if at, ok = parseTime(e.TimeUTC, ""); !ok {
						return Events{}, unmappable(ReasonBadTimestamp, "%s providers[%d].events[%d]: time_iso %q is not a time", n.Number, pi, ei, e.TimeISO)
					}
				}
				cps = append(cps, checkpoint{
					number: n.Number, carrier: slug, raw: e.Description, status: track17Status(e.Stage, e.SubStatus), at: at,
					identity: strconv.Itoa(p.Provider.Key) + "|" + first(e.TimeUTC, e.TimeISO) + "|" + e.Description + "|" + e.Location,
					location: place(e.Address.Country, first(e.Address.City, e.Location), e.Address.PostalCode), destination: dest,
				})
			}
		}
	}
	return Events{Tracking: trackingEvents(SeventeenTrack, cps)}, nil
}

// track17Status reads an event's 17TRACK stage and sub-status (api.17track.net docs,
// "Status" and "Sub-status") as a trackwatch sub-status; NotFound and Expired say
// nothing.
func track17Status(stage, sub string) string {
	switch sub {
	case "InfoReceived":
		return "info_received/pre_advice"
	case "InTransit_PickedUp":
		return "picked_up/accepted"
	case "InTransit_Departure":
		return "in_transit/departed"
	case "InTransit_Arrival":
		return "in_transit/arrived"
	case "InTransit_CustomsProcessing", "InTransit_CustomsReleased":
		return "in_transit/customs"
	case "InTransit_CustomsRequiringInformation":
		return "exception/customs_held"
	case "Exception_Returning":
		return "returned/returning"
	case "Exception_Returned":
		return "returned/returned"
	case "Exception_Damage":
		return "exception/damaged"
	case "Exception_Rejected", "DeliveryFailure_Rejected":
		return "exception/refused"
	case "Exception_Delayed":
		return "exception/delayed"
	case "Exception_Lost":
		return "exception/lost"
	case "Exception_Destroyed":
		return "exception/destroyed"
	case "Exception_Cancel":
		return "cancelled/label_voided"
	case "DeliveryFailure_InvalidAddress":
		return "exception/address_issue"
	}
	switch stage {
	case "InfoReceived":
		return "info_received/pre_advice"
	case "PickedUp":
		return "picked_up/accepted"
	case "Departure":
		return "in_transit/departed"
	case "Arrival":
		return "in_transit/arrived"
	case "AvailableForPickup":
		return "out_for_delivery/pickup"
	case "OutForDelivery":
		return "out_for_delivery/on_route"
	case "Delivered":
		return "delivered/delivered"
	case "Returning":
		return "returned/returning"
	case "Returned":
		return "returned/returned"
	}
	switch {
	case len(sub) > 9 && sub[:9] == "InTransit":
		return "in_transit/in_transit"
	case len(sub) > 9 && sub[:9] == "Delivered":
		return "delivered/delivered"
	case len(sub) > 9 && sub[:9] == "Exception":
		return "exception/other"
	case len(sub) > 15 && sub[:15] == "DeliveryFailure":
		return "failed_attempt/attempted"
	case len(sub) > 14 && sub[:14] == "OutForDelivery":
		return "out_for_delivery/on_route"
	case len(sub) > 18 && sub[:18] == "AvailableForPickup":
		return "out_for_delivery/pickup"
	}
	return ""
}
