// Package bench provides trackwatch's benchmarks: reproducible loads on the embedded
// stack, measured beside the references a user would compare trackwatch with, so every
// number comes with its baseline from the same run.
package bench

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/segmentio/kafka-go"
)

// Load is a generated mix of tracking and order events in the v1 contract.
type Load struct {
	Tracking, Orders []kafka.Message
	Bytes            int64
}

var (
	carriers = []struct{ slug, prefix, suffix string }{
		{"china-post", "RR", "CN"}, {"china-post", "LP", ""}, {"cainiao", "LP", ""}, {"yunexpress", "YT", ""},
		{"japan-post", "EJ", "JP"}, {"ups", "1Z", ""},
	}
	rawStatuses = []string{
		"Electronic information received", "Shipping information received", "Accepted by carrier",
		"Departed from sorting center", "In transit", "Arrived at destination country", "Customs clearance completed",
		"Out for delivery", "Delivered",
	}
	places = []struct{ country, city, postal string }{
		{"JP", "Tokyo", "100-0001"}, {"Japan", "OSAKA", "530-0001"}, {"US", "New York", "10001"}, {"United States", "Austin", "73301"},
		{"DE", "Berlin", "10115"}, {"France", "Paris", "75001"}, {"GB", "London", "SW1A 1AA"}, {"BR", "São Paulo", "01000-000"},
	}
	zones = []*time.Location{time.UTC, time.FixedZone("+08", 8*3600), time.FixedZone("-05", -5*3600), time.FixedZone("+09", 9*3600)}
)

// Generate makes n events, about 80% tracking and 20% order events, 250-400 bytes each,
// deterministic for a seed. Keys are tracking numbers and order ids, as producers key them.
func Generate(seed uint64, n int) *Load {
	rng := rand.New(rand.NewPCG(seed, 7))
	l := &Load{}
	base := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	parcels := max(n/6, 1)
	for i := range n {
		parcel := rng.IntN(parcels)
		c := carriers[parcel%len(carriers)]
		tn := fmt.Sprintf("%s%09d%s", c.prefix, parcel, c.suffix)
		dest := places[parcel%len(places)]
		at := base.Add(time.Duration(rng.IntN(60*24*3600)) * time.Second).In(zones[rng.IntN(len(zones))])
		var v []byte
		var key string
		if rng.IntN(5) > 0 {
			key = tn
			v, _ = json.Marshal(map[string]any{
				"event_id": fmt.Sprintf("te-%d-%d", seed, i), "tracking_number": tn, "carrier": c.slug,
				"raw_status": rawStatuses[rng.IntN(len(rawStatuses))], "occurred_at": at.Format(time.RFC3339),
				"location":    map[string]string{"country": "CN", "city": "Shenzhen", "postal_code": "518000"},
				"destination": map[string]string{"country": dest.country, "city": dest.city, "postal_code": dest.postal},
			})
			l.Tracking = append(l.Tracking, kafka.Message{Key: []byte(key), Value: v})
		} else {
			order := fmt.Sprintf("800%09d", parcel)
			key = order
			v, _ = json.Marshal(map[string]any{
				"event_id": fmt.Sprintf("oe-%d-%d", seed, i), "order_id": order, "marketplace": "aliexpress",
				"seller_id": fmt.Sprintf("seller-%d", parcel%997), "buyer_id": fmt.Sprintf("buyer-%d", parcel%7919),
				"status": "shipped", "occurred_at": at.Format(time.RFC3339), "tracking_number": tn, "carrier": c.slug,
				"ship_to":         map[string]string{"country": dest.country, "city": dest.city, "postal_code": dest.postal},
				"protection_days": 60, "amount": float64(rng.IntN(20000)) / 100, "currency": "USD",
			})
			l.Orders = append(l.Orders, kafka.Message{Key: []byte(key), Value: v})
		}
		l.Bytes += int64(len(v))
	}
	return l
}
