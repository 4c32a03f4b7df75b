package simulate

import (
	"fmt"
	"time"

	carrierpkg "github.com/trackwatch/trackwatch/carrier"
)

func hours(h float64) time.Duration { return time.Duration(h * float64(time.Hour)) }

// numberScenarios: the positive cases of the detectors of a fake or misused number, and
// the traps of domain.md (truth empty).
// Timings keep labels exact: e.g. a stalled parcel is shipped 10-35 days ago, so its
// 60-day protection does not end within the 7-day window; where two conditions hold at
// once (a stuck parcel whose protection is ending) the truth lists both detectors.
var numberScenarios = []scenario{
	{"stalled_eir", func(s *sim, name string) {
		to, _ := s.dest()
		tn, carrier := s.number()
		shipped := s.daysAgo(s.between(10, 35))
		s.order(orderSpec{name: name, to: to, placed: shipped.Add(-hours(s.between(12, 60))), shipped: shipped, tn: tn, carrier: carrier, protection: 60, truth: []string{"stalled_eir"}})
		s.scan(tn, carrier, s.say(carrier, carrierpkg.PreAdvice), shipped.Add(hours(s.between(1, 20))), &to, nil)
	}},
	{"label_voided", func(s *sim, name string) {
		to, _ := s.dest()
		tn, carrier := s.number()
		shipped := s.daysAgo(s.between(3, 30))
		s.order(orderSpec{name: name, to: to, placed: shipped.Add(-hours(s.between(12, 60))), shipped: shipped, tn: tn, carrier: carrier, protection: 60, truth: []string{"label_voided"}})
		label := shipped.Add(hours(s.between(1, 20)))
		if s.rng.IntN(3) > 0 { // most voided labels had pre-advice first; some only the cancellation
			s.scan(tn, carrier, s.say(carrier, carrierpkg.PreAdvice), label, &to, nil)
		}
		s.scan(tn, carrier, s.say(carrier, carrierpkg.LabelVoided), label.Add(hours(s.between(24, 60))), &to, nil)
	}},
	{"expiring_returned", func(s *sim, name string) {
		to, seen := s.dest()
		tn, carrier := s.number()
		shipped := s.daysAgo(s.between(54, 58))
		s.order(orderSpec{name: name, to: to, placed: shipped.Add(-hours(30)), shipped: shipped, tn: tn, carrier: carrier, protection: 60, truth: []string{"protection_expiry"}})
		s.journey(tn, carrier, shipped.Add(hours(10)), &seen, 3, nil)
		s.scan(tn, carrier, s.say(carrier, wontArrive[s.rng.IntN(len(wontArrive))]), s.daysAgo(s.between(1, 3)), &seen, nil)
	}},
	{"went_silent", func(s *sim, name string) {
		to, seen := s.dest()
		tn, carrier := s.number()
		shipped := s.daysAgo(s.between(36, 48)) // moves for a few days, then nothing for 30 days or more
		s.order(orderSpec{name: name, to: to, placed: shipped.Add(-hours(30)), shipped: shipped, tn: tn, carrier: carrier, protection: 60, truth: []string{"went_silent"}})
		s.journey(tn, carrier, shipped.Add(hours(10)), &seen, 2, nil)
	}},
	{"never_scanned", func(s *sim, name string) {
		to, _ := s.dest()
		tn, carrier := s.number()
		shipped := s.daysAgo(s.between(10, 35))
		s.order(orderSpec{name: name, to: to, placed: shipped.Add(-hours(30)), shipped: shipped, tn: tn, carrier: carrier, protection: 60, truth: []string{"never_scanned"}})
	}},
	{"invalid_check_digit", func(s *sim, name string) {
		to, _ := s.dest()
		bad := s.badS10()
		shipped := s.daysAgo(s.between(0.2, 2.5))
		s.order(orderSpec{name: name, to: to, placed: shipped.Add(-hours(20)), shipped: shipped, tn: bad, carrier: "china-post", protection: 60, truth: []string{"invalid_tracking_number"}})
	}},
	{"invalid_postal_form", func(s *sim, name string) {
		to, _ := s.dest()
		shipped := s.daysAgo(s.between(0.2, 2.5))
		s.order(orderSpec{name: name, to: to, placed: shipped.Add(-hours(20)), shipped: shipped, tn: fmt.Sprintf("CP%d%07d", s.batch, s.rng.IntN(1e7)), carrier: "japan-post", protection: 60, truth: []string{"invalid_tracking_number"}})
	}},
	{"invalid_ups", func(s *sim, name string) {
		to, _ := s.dest()
		shipped := s.daysAgo(s.between(0.2, 2.5))
		s.order(orderSpec{name: name, to: to, placed: shipped.Add(-hours(20)), shipped: shipped, tn: fmt.Sprintf("1Z%d%08d", s.batch, s.rng.IntN(1e8)), carrier: "ups", protection: 60, truth: []string{"invalid_tracking_number"}})
	}},
	{"carrier_mismatch", func(s *sim, name string) {
		// a China Post number declared as UPS: another courier's shape, no scan yet
		to, _ := s.dest()
		shipped := s.daysAgo(s.between(0.2, 2.5))
		s.order(orderSpec{name: name, to: to, placed: shipped.Add(-hours(20)), shipped: shipped, tn: s.s10(), carrier: "ups", protection: 60, truth: []string{"carrier_mismatch"}})
	}},
	{"trap_scanned_bad_check_digit", func(s *sim, name string) {
		// the carrier scanned and delivered a number whose check digit does not verify:
		// it was issued, whatever its shape (real histories hold such numbers)
		to, seen := s.dest()
		bad := s.badS10()
		shipped := s.daysAgo(s.between(12, 40))
		s.order(orderSpec{name: name, to: to, placed: shipped.Add(-hours(30)), shipped: shipped, tn: bad, carrier: "china-post", protection: 60, later: []string{"delivered"}})
		s.journey(bad, "china-post", shipped.Add(hours(8)), &seen, 3, &seen)
	}},
	{"scan_before_order", func(s *sim, name string) {
		to, _ := s.dest()
		tn, carrier := s.number()
		placed := s.daysAgo(s.between(10, 30))
		s.order(orderSpec{name: name, to: to, placed: placed, shipped: placed.Add(hours(s.between(20, 50))), tn: tn, carrier: carrier, protection: 60, truth: []string{"scan_before_order"}})
		s.journey(tn, carrier, placed.Add(-hours(24*s.between(20, 60))), &to, 4, nil) // another parcel's scans, long before
	}},
	{"tracking_reuse", func(s *sim, name string) {
		a, _ := s.dest()
		b := s.otherDest(a)
		tn, carrier := s.number()
		shipped := s.daysAgo(s.between(5, 30))
		s.order(orderSpec{name: name, to: a, placed: shipped.Add(-hours(30)), shipped: shipped, tn: tn, carrier: carrier, protection: 60, truth: []string{"tracking_reuse"}})
		s.order(orderSpec{name: name, to: b, placed: shipped.Add(-hours(50)), shipped: shipped.Add(hours(6)), tn: tn, carrier: carrier, protection: 60, truth: []string{"tracking_reuse"}})
		s.journey(tn, carrier, shipped.Add(hours(10)), nil, 3, nil)
	}},
	{"wrong_destination", func(s *sim, name string) {
		to, _ := s.dest()
		other := s.otherDest(to)
		tn, carrier := s.number()
		shipped := s.daysAgo(s.between(5, 30))
		s.order(orderSpec{name: name, to: to, placed: shipped.Add(-hours(30)), shipped: shipped, tn: tn, carrier: carrier, protection: 60, truth: []string{"destination_mismatch"}})
		s.journey(tn, carrier, shipped.Add(hours(10)), &other, 3, nil)
	}},
	{"delivered_elsewhere", func(s *sim, name string) {
		to, _ := s.dest()
		other := s.otherDest(to)
		tn, carrier := s.number()
		shipped := s.daysAgo(s.between(12, 30))
		s.order(orderSpec{name: name, to: to, placed: shipped.Add(-hours(30)), shipped: shipped, tn: tn, carrier: carrier, protection: 60, truth: []string{"destination_mismatch"}})
		s.journey(tn, carrier, shipped.Add(hours(10)), nil, 3, &other)
	}},
	{"expiring_moving", func(s *sim, name string) {
		to, seen := s.dest()
		tn, carrier := s.number()
		shipped := s.daysAgo(s.between(54, 58))
		s.order(orderSpec{name: name, to: to, placed: shipped.Add(-hours(30)), shipped: shipped, tn: tn, carrier: carrier, protection: 60, truth: []string{"protection_expiry"}})
		s.journey(tn, carrier, shipped.Add(hours(10)), &seen, 5, nil)
	}},
	{"expiring_stuck", func(s *sim, name string) {
		to, _ := s.dest()
		tn, carrier := s.number()
		shipped := s.daysAgo(s.between(54, 58))
		s.order(orderSpec{name: name, to: to, placed: shipped.Add(-hours(30)), shipped: shipped, tn: tn, carrier: carrier, protection: 60, truth: []string{"protection_expiry", "stalled_eir"}})
		s.scan(tn, carrier, s.say(carrier, carrierpkg.PreAdvice), shipped.Add(hours(5)), &to, nil)
	}},
	{"expiring_never_scanned", func(s *sim, name string) {
		to, _ := s.dest()
		tn, carrier := s.number()
		shipped := s.daysAgo(s.between(54, 58))
		s.order(orderSpec{name: name, to: to, placed: shipped.Add(-hours(30)), shipped: shipped, tn: tn, carrier: carrier, protection: 60, truth: []string{"never_scanned", "protection_expiry"}})
	}},

	// Traps: each must flag nothing.
	{"trap_intercepted", func(s *sim, name string) {
		to, seen := s.dest()
		tn, carrier := s.number()
		shipped := s.daysAgo(s.between(5, 25))
		s.order(orderSpec{name: name, to: to, placed: shipped.Add(-hours(30)), shipped: shipped, tn: tn, carrier: carrier, protection: 60})
		s.journey(tn, carrier, shipped.Add(hours(8)), &seen, 2, nil)
		s.scan(tn, carrier, s.say(carrier, carrierpkg.LabelVoided), s.daysAgo(s.between(0.5, 2)), &seen, nil) // cancelled after it was scanned
	}},
	{"trap_in_transit", func(s *sim, name string) {
		to, seen := s.dest()
		tn, carrier := s.number()
		shipped := s.daysAgo(s.between(3, 20))
		s.order(orderSpec{name: name, to: to, placed: shipped.Add(-hours(30)), shipped: shipped, tn: tn, carrier: carrier, protection: 60})
		s.journey(tn, carrier, shipped.Add(hours(8)), &seen, 4, nil)
	}},
	{"trap_delivered_home", func(s *sim, name string) {
		to, seen := s.dest()
		tn, carrier := s.number()
		shipped := s.daysAgo(s.between(12, 40))
		later := [][]string{nil, {"delivered"}, {"delivered", "confirmed"}}[s.rng.IntN(3)]
		s.order(orderSpec{name: name, to: to, placed: shipped.Add(-hours(30)), shipped: shipped, tn: tn, carrier: carrier, protection: 60, later: later})
		s.journey(tn, carrier, shipped.Add(hours(8)), &seen, 3, &seen)
	}},
	{"trap_slow_seller", func(s *sim, name string) {
		to, seen := s.dest()
		tn, carrier := s.number()
		shipped := s.daysAgo(s.between(12, 30))
		s.order(orderSpec{name: name, to: to, placed: shipped.Add(-hours(30)), shipped: shipped, tn: tn, carrier: carrier, protection: 60})
		s.scan(tn, carrier, s.say(carrier, carrierpkg.PreAdvice), shipped.Add(hours(2)), &seen, nil)
		s.journey(tn, carrier, shipped.Add(hours(24*s.between(3, 6))), &seen, 3, nil) // it moved after days of EIR
	}},
	{"trap_young_eir", func(s *sim, name string) {
		to, seen := s.dest()
		tn, carrier := s.number()
		shipped := s.daysAgo(s.between(1, 5))
		s.order(orderSpec{name: name, to: to, placed: shipped.Add(-hours(30)), shipped: shipped, tn: tn, carrier: carrier, protection: 60})
		s.scan(tn, carrier, s.say(carrier, carrierpkg.PreAdvice), shipped.Add(hours(2)), &seen, nil)
	}},
	{"trap_combined_parcel", func(s *sim, name string) {
		p := places[s.rng.IntN(len(places))]
		tn, carrier := s.number()
		buyer := fmt.Sprintf("buyer-combined-%d-%d", s.batch, s.n)
		shipped := s.daysAgo(s.between(5, 25))
		for i := range 2 + s.rng.IntN(2) { // the same address, spelt differently on each order
			to := p.canonical
			if i > 0 {
				to = p.variants[s.rng.IntN(len(p.variants))]
			}
			s.order(orderSpec{name: name, buyer: buyer, to: to, placed: shipped.Add(-hours(40 + float64(i))), shipped: shipped.Add(hours(float64(i))), tn: tn, carrier: carrier, protection: 60})
		}
		s.journey(tn, carrier, shipped.Add(hours(8)), &p.canonical, 3, nil)
	}},
	{"trap_recycled_number", func(s *sim, name string) {
		to, seen := s.dest()
		old := s.otherDest(to)
		tn := s.s10()
		oldShipped := s.daysAgo(s.between(14*30, 16*30))
		s.order(orderSpec{name: name, to: old, placed: oldShipped.Add(-hours(30)), shipped: oldShipped, tn: tn, carrier: "china-post", protection: 60, later: []string{"delivered", "confirmed"}})
		s.journey(tn, "china-post", oldShipped.Add(hours(8)), &old, 3, &old)
		shipped := s.daysAgo(s.between(5, 20))
		s.order(orderSpec{name: name, to: to, placed: shipped.Add(-hours(30)), shipped: shipped, tn: tn, carrier: "china-post", protection: 60})
		s.journey(tn, "china-post", shipped.Add(hours(8)), &seen, 3, nil)
	}},
	{"trap_label_before_order", func(s *sim, name string) {
		to, seen := s.dest()
		tn, carrier := s.number()
		placed := s.daysAgo(s.between(5, 20))
		s.order(orderSpec{name: name, to: to, placed: placed, shipped: placed.Add(hours(20)), tn: tn, carrier: carrier, protection: 60})
		s.journey(tn, carrier, placed.Add(-hours(s.between(2, 20))), &seen, 3, nil) // label made hours before the order
	}},
	{"trap_delivered_near_expiry", func(s *sim, name string) {
		to, seen := s.dest()
		tn, carrier := s.number()
		shipped := s.daysAgo(s.between(54, 58))
		s.order(orderSpec{name: name, to: to, placed: shipped.Add(-hours(30)), shipped: shipped, tn: tn, carrier: carrier, protection: 60})
		s.journey(tn, carrier, shipped.Add(hours(8)), &seen, 4, &seen)
	}},
	{"trap_confirmed_near_expiry", func(s *sim, name string) {
		to, seen := s.dest()
		tn, carrier := s.number()
		shipped := s.daysAgo(s.between(54, 58))
		s.order(orderSpec{name: name, to: to, placed: shipped.Add(-hours(30)), shipped: shipped, tn: tn, carrier: carrier, protection: 60, later: []string{"confirmed"}})
		s.journey(tn, carrier, shipped.Add(hours(8)), &seen, 2, nil)
	}},
	{"trap_long_protection", func(s *sim, name string) { // not expiring; silent for 45 days and more, though
		to, _ := s.dest()
		tn, carrier := s.number()
		shipped := s.daysAgo(s.between(54, 58))
		s.order(orderSpec{name: name, to: to, placed: shipped.Add(-hours(30)), shipped: shipped, tn: tn, carrier: carrier, protection: 90, truth: []string{"went_silent"}})
		s.journey(tn, carrier, shipped.Add(hours(8)), &to, 5, nil)
	}},
}

// minOrdersForSellers: a simulation of at least this many orders also has the labelled
// sellers (sellerCases); a smaller one is too small a marketplace to judge sellers by.
const minOrdersForSellers = 200

// sellerCases are the labelled sellers of seller_valid_tracking_rate, each on
// aliexpress with orders shipped 8 to 28 days before the moment (inside the 30-day
// window, past the 5 days a scan may take): one with 30 orders of which 12 never got a
// carrier event (a rate of 0.6: flagged; its unscanned orders are never_scanned's),
// and two traps: 30 orders that all moved, and 10 orders that never got a scan (under
// the 20 orders a seller is judged from).
func (s *sim) sellerCases() {
	for _, c := range []struct {
		name              string
		orders, unscanned int
		truth             []string
	}{
		{"seller_low_vtr", 30, 12, []string{"seller_valid_tracking_rate"}},
		{"trap_seller_all_scanned", 30, 0, []string{}},
		{"trap_seller_few_orders", 10, 10, []string{}},
	} {
		seller := fmt.Sprintf("%s-%d", c.name, s.batch)
		s.res.SellerTruth[seller+"@aliexpress"] = c.truth
		for i := range c.orders {
			to, seen := s.dest()
			tn, carrier := s.number()
			shipped := s.daysAgo(s.between(8, 28))
			spec := orderSpec{name: c.name, to: to, placed: shipped.Add(-hours(30)), shipped: shipped, tn: tn, carrier: carrier, protection: 60,
				seller: seller, marketplace: "aliexpress"}
			if i < c.unscanned {
				spec.truth = []string{"never_scanned"}
				s.order(spec)
				continue
			}
			s.order(spec)
			s.journey(tn, carrier, shipped.Add(hours(8)), &seen, 3, &seen)
		}
	}
}
