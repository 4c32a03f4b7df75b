package feeds

import (
	"net/http"
	"strings"
	"time"
)

// Ship24 signs nothing: every webhook carries the account's webhook secret as
// "Authorization: Bearer <secret>" (docs.ship24.com/webhooks/authentication), compared
// here in constant time. Only HTTPS keeps it secret on the way.
func verifyShip24(h http.Header, _ []byte, key string, _ time.Time, _ time.Duration) error {
	got, ok := strings.CutPrefix(h.Get("Authorization"), "Bearer ")
	if !ok || !equal(got, []byte(key)) {
		return errSignature
	}
	return nil
}

// ship24Body is a webhook ({"trackings": [...]}) or a tracking API response
// ({"data": {"trackings": [...]}}).
type ship24Body struct {
	Trackings []ship24Tracking `json:"trackings"`
	Data      struct {
		Trackings []ship24Tracking `json:"trackings"`
	} `json:"data"`
}

type ship24Tracking struct {
	Tracker struct {
		TrackingNumber string `json:"trackingNumber"`
	} `json:"tracker"`
	Shipment struct {
		DestinationCountryCode string `json:"destinationCountryCode"`
		Recipient              struct {
			PostCode string `json:"postCode"`
			City     string `json:"city"`
		} `json:"recipient"`
	} `json:"shipment"`
	Events []struct {
		EventID            string `json:"eventId"`
		TrackingNumber     string `json:"trackingNumber"`
		Status             string `json:"status"`
		OccurrenceDatetime string `json:"occurrenceDatetime"`
		UTCOffset          string `json:"utcOffset"`
		Location           string `json:"location"`
		CourierCode        string `json:"courierCode"`
		StatusCode         string `json:"statusCode"`
		StatusMilestone    string `json:"statusMilestone"`
	} `json:"events"`
}

func parseShip24(body []byte, _ Source) (Events, error) {
	var b ship24Body
	if err := decode(body, &b); err != nil {
		return Events{}, err
	}
	trackings := append(b.Trackings, b.Data.Trackings...)
	if len(trackings) == 0 {
		return Events{}, unmappable(ReasonUnknownShape, "no trackings")
	}
	var cps []checkpoint
	for _, t := range trackings {
		s := t.Shipment
		dest := place(s.DestinationCountryCode, s.Recipient.City, s.Recipient.PostCode)
		for i, e := range t.Events {
			number := first(e.TrackingNumber, t.Tracker.TrackingNumber)
			if number == "" {
				return Events{}, unmappable(ReasonMissingField, "events[%d]: no trackingNumber", i)
			}
			at, ok := parseTime(e.OccurrenceDatetime, e.UTCOffset)
			if !ok {
				return Events{}, unmappable(ReasonBadTimestamp, "events[%d].occurrenceDatetime %q is not a time", i, e.OccurrenceDatetime)
			}
			id := e.EventID
			if id == "" {
				id = e.OccurrenceDatetime + "|" + e.Status + "|" + e.Location
			}
			cps = append(cps, checkpoint{
				number: number, carrier: carrierSlug(e.CourierCode), raw: e.Status,
				status: ship24Status(e.StatusMilestone, e.StatusCode), at: at, identity: id,
				location: place("", e.Location, ""), destination: dest,
			})
		}
	}
	return Events{Tracking: trackingEvents(Ship24, cps)}, nil
}

// ship24Status reads Ship24's status milestone and status code (docs.ship24.com,
// "Status"); pending says nothing.
func ship24Status(milestone, code string) string {
	switch code {
	case "transit_pickup":
		return "picked_up/accepted"
	case "transit_departure":
		return "in_transit/departed"
	case "transit_arrival":
		return "in_transit/arrived"
	case "transit_customs":
		return "in_transit/customs"
	case "delivery_delivered":
		return "delivered/delivered"
	case "exception_return":
		return "returned/returning"
	case "exception_lost":
		return "exception/lost"
	case "exception_cancel":
		return "cancelled/label_voided"
	}
	switch milestone {
	case "info_received":
		return "info_received/pre_advice"
	case "in_transit":
		return "in_transit/in_transit"
	case "out_for_delivery":
		return "out_for_delivery/on_route"
	case "available_for_pickup":
		return "out_for_delivery/pickup"
	case "failed_attempt":
		return "failed_attempt/attempted"
	case "delivered":
		return "delivered/delivered"
	case "exception":
		return "exception/other"
	}
	return ""
}
