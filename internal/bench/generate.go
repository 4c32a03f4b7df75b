// Package bench provides trackwatch's benchmarks: reproducible loads on the embedded
// stack, measured beside the references a user would compare trackwatch with, so every
// number comes with its baseline from the same run.
package bench

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/trackwatch/trackwatch/trackingnumber"
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

// The tracking numbers a load's parcels carry (IngestOptions.Numbers).
const (
	// SyntheticNumbers: a carrier's prefix and suffix around the parcel's number, so
	// that two thirds are malformed for their declared carrier (UPS's 1Z with nine
	// digits, S10 shapes with a check digit that verifies one time in eleven, LP numbers
	// declared as China Post): the worst case for judging them at ingest, every such
	// order a finding with its problem stored.
	SyntheticNumbers = "synthetic"
	// RealisticNumbers: each carrier's real format, valid for the declared carrier (S10
	// with its check digit, UPS 1Z with its check digit, Cainiao's and YunExpress's
	// shapes), except one parcel in 50 of the formats with a check digit, whose check
	// digit is wrong (1.4% of the orders): a marketplace's mix, where a few percent of
	// numbers are findings.
	RealisticNumbers = "realistic"
)

// badNumberEvery is how often a realistic parcel's number has a wrong check digit.
const badNumberEvery = 50

// generateFor makes o's load.
func generateFor(o IngestOptions) (*Load, error) {
	if o.Numbers != RealisticNumbers {
		return Generate(o.Seed, o.Events), nil
	}
	checker, err := trackingnumber.Load(trackingnumber.Config{})
	if err != nil {
		return nil, fmt.Errorf("realistic numbers: %w", err)
	}
	numbers, err := realisticNumbers(checker, max(o.Events/6, 1))
	if err != nil {
		return nil, err
	}
	return generate(o.Seed, o.Events, func(parcel int) string { return numbers[parcel] }), nil
}

// realisticTemplates are each carrier's format (the carriers list's order), %0Nd the
// parcel's digits and X its check digit, which realisticNumbers picks with the checker.
var realisticTemplates = []string{"RR%08dXCN", "CP%08dXCN", "LP%014d", "YT%016d", "EJ%08dXJP", "1Z5R8939%09dX"}

// realisticNumbers makes the numbers of parcels 0..n-1: each its carrier's template
// with the check digit the specification verifies (checker), or, for one parcel in
// badNumberEvery, one it does not.
func realisticNumbers(checker *trackingnumber.Checker, n int) ([]string, error) {
	out := make([]string, n)
	for parcel := range n {
		c := carriers[parcel%len(carriers)]
		tn := fmt.Sprintf(realisticTemplates[parcel%len(carriers)], parcel%100_000_000)
		if strings.Contains(tn, "X") {
			var good, bad string
			for d := '0'; d <= '9'; d++ {
				try := strings.Replace(tn, "X", string(d), 1)
				if checker.Check(try, c.slug).Verdict == trackingnumber.Valid {
					good = try
				} else if bad == "" {
					bad = try
				}
			}
			if good == "" {
				return nil, fmt.Errorf("realistic numbers: no check digit makes %s valid for %s", tn, c.slug)
			}
			tn = good
			if parcel%badNumberEvery == badNumberEvery-1 {
				tn = bad
			}
		}
		out[parcel] = tn
	}
	return out, nil
}

// Generate makes n events, about 80% tracking and 20% order events, 250-400 bytes each,
// deterministic for a seed, with SyntheticNumbers. Keys are tracking numbers and order
// ids, as producers key them.
func Generate(seed uint64, n int) *Load {
	return generate(seed, n, nil)
}

// generate is Generate with the parcels' numbers from number (nil: synthetic).
func generate(seed uint64, n int, number func(parcel int) string) *Load {
	rng := rand.New(rand.NewPCG(seed, 7))
	l := &Load{}
	base := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	parcels := max(n/6, 1)
	for i := range n {
		parcel := rng.IntN(parcels)
		c := carriers[parcel%len(carriers)]
		tn := fmt.Sprintf("%s%09d%s", c.prefix, parcel, c.suffix)
		if number != nil {
			tn = number(parcel)
		}
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
