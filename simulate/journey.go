package simulate

import (
	"slices"
	"time"

	carrierpkg "github.com/trackwatch/trackwatch/carrier"
)

// scenarios: every detector's positive cases and the traps it must not flag.
var scenarios = slices.Concat(numberScenarios, journeyScenarios)

// refundDays are the guides' upper bounds, in business days, of a refund by payment
// method ("" unknown): the simulator's own copy of the defaults it tests.
var refundDays = map[string]int{"paypal": 5, "wallet": 5, "card_debit": 10, "card_credit": 15,
	"bank_transfer": 20, "convenience_store": 20, "other": 20, "": 20}

var paymentMethods = []string{"paypal", "wallet", "card_debit", "card_credit", "bank_transfer", "convenience_store", "other", ""}

// calendarDays is a span of whole days that holds n business days whatever the weekday
// it starts on, with a day to spare at each end.
func calendarDays(n int) float64 { return float64(n + 2*((n+4)/5) + 2) }

// refund picks a payment method and the moment its refund became due: long enough ago
// that its window has passed (overdue), or so recently that it cannot have.
func (s *sim) refund(overdue bool) (string, time.Time) {
	m := paymentMethods[s.rng.IntN(len(paymentMethods))]
	n := refundDays[m]
	if overdue {
		return m, s.daysAgo(s.between(calendarDays(n)+1, calendarDays(n)+8))
	}
	return m, s.daysAgo(s.between(0.3, float64(n)-1.5))
}

// journeyScenarios follow the buyer past the shipment: a cancellation the seller dodged
// with a shipment, disputes left unanswered, refunds that do not arrive, and the traps
// of each (a seller who did ship, an answered dispute, a refund completed in time).
var journeyScenarios = []scenario{
	{"cancel_dodged", func(s *sim, name string) {
		to, _ := s.dest()
		tn, carrier := s.number()
		placed := s.daysAgo(s.between(12, 28))
		asked := placed.Add(hours(s.between(2, 30)))
		shipped := asked.Add(hours(s.between(1, 46)))
		steps := []step{{status: "cancel_requested", at: asked, fields: map[string]any{"reason": "changed my mind"}}}
		if s.rng.IntN(3) == 0 { // the seller rejected it first, then shipped
			steps = append(steps, step{status: "cancel_rejected", at: asked.Add(shipped.Sub(asked) / 2)})
		}
		truth := []string{"cancel_dodged", "never_scanned"}
		if s.rng.IntN(2) == 0 { // a label, never a parcel
			truth = []string{"cancel_dodged", "stalled_eir"}
			s.scan(tn, carrier, s.say(carrier, carrierpkg.PreAdvice), shipped.Add(hours(s.between(1, 20))), &to, nil)
		}
		s.order(orderSpec{name: name, to: to, placed: placed, shipped: shipped, tn: tn, carrier: carrier, protection: 60, steps: steps, truth: truth})
	}},
	{"trap_cancel_then_shipped_for_real", func(s *sim, name string) {
		to, seen := s.dest()
		tn, carrier := s.number()
		placed := s.daysAgo(s.between(12, 26))
		asked := placed.Add(hours(s.between(2, 30)))
		shipped := asked.Add(hours(s.between(1, 46)))
		s.order(orderSpec{name: name, to: to, placed: placed, shipped: shipped, tn: tn, carrier: carrier, protection: 60,
			steps: []step{{status: "cancel_requested", at: asked}}})
		s.journey(tn, carrier, shipped.Add(hours(s.between(2, 30))), &seen, 3, nil)
	}},
	{"trap_cancel_then_shipped_days_later", func(s *sim, name string) {
		// shipped three days and more after the request: not an answer to it (and never
		// scanned, which never_scanned reports)
		to, _ := s.dest()
		tn, carrier := s.number()
		placed := s.daysAgo(s.between(14, 28))
		asked := placed.Add(hours(s.between(2, 20)))
		s.order(orderSpec{name: name, to: to, placed: placed, shipped: asked.Add(hours(s.between(55, 100))), tn: tn, carrier: carrier, protection: 60,
			steps: []step{{status: "cancel_requested", at: asked}}, truth: []string{"never_scanned"}})
	}},
	{"dispute_unanswered", func(s *sim, name string) {
		to, seen := s.dest()
		tn, carrier := s.number()
		shipped := s.daysAgo(s.between(12, 25))
		s.order(orderSpec{name: name, to: to, placed: shipped.Add(-hours(30)), shipped: shipped, tn: tn, carrier: carrier, protection: 60,
			steps: []step{{status: "disputed", at: s.daysAgo(s.between(5.5, 10)), fields: map[string]any{"reason": "not received"}}}, truth: []string{"dispute_unanswered"}})
		s.journey(tn, carrier, shipped.Add(hours(10)), &seen, 3, nil)
	}},
	{"trap_dispute_answered", func(s *sim, name string) {
		to, seen := s.dest()
		tn, carrier := s.number()
		shipped := s.daysAgo(s.between(12, 25))
		opened := s.daysAgo(s.between(5.5, 10))
		answer := []string{"dispute_responded", "dispute_responded", "dispute_escalated"}[s.rng.IntN(3)]
		s.order(orderSpec{name: name, to: to, placed: shipped.Add(-hours(30)), shipped: shipped, tn: tn, carrier: carrier, protection: 60,
			steps: []step{{status: "disputed", at: opened}, {status: answer, at: opened.Add(hours(24 * s.between(0.5, 4.5)))}}})
		s.journey(tn, carrier, shipped.Add(hours(10)), &seen, 3, nil)
	}},
	{"trap_dispute_young", func(s *sim, name string) {
		to, seen := s.dest()
		tn, carrier := s.number()
		shipped := s.daysAgo(s.between(8, 25))
		s.order(orderSpec{name: name, to: to, placed: shipped.Add(-hours(30)), shipped: shipped, tn: tn, carrier: carrier, protection: 60,
			steps: []step{{status: "disputed", at: s.daysAgo(s.between(0.5, 4.5))}}})
		s.journey(tn, carrier, shipped.Add(hours(10)), &seen, 3, nil)
	}},
	{"refund_overdue_cancelled", func(s *sim, name string) {
		// a cancellation the seller approved before shipping; the money never came back
		to, _ := s.dest()
		method, due := s.refund(true)
		placed := due.Add(-hours(s.between(30, 70)))
		s.order(orderSpec{name: name, to: to, placed: placed, payment: method, truth: []string{"refund_overdue"},
			steps: []step{{status: "cancel_requested", at: placed.Add(hours(s.between(2, 20)))}, {status: "cancelled", at: due}}})
	}},
	{"refund_overdue_dispute", func(s *sim, name string) {
		// a dispute won after delivery (not as described); the refund approved never came
		to, seen := s.dest()
		tn, carrier := s.number()
		method, due := s.refund(true)
		shipped := due.Add(-hours(24 * s.between(6, 12)))
		steps := []step{{status: "disputed", at: shipped.Add(hours(24 * s.between(4.5, 5.5)))}, {status: "refund_approved", at: due}}
		if s.rng.IntN(2) == 0 { // refunded in part, in time
			steps[1].fields = map[string]any{"refund_amount": 250.0}
			steps = append(steps, step{status: "refund_completed", at: due.Add(hours(24 * s.between(0.2, 3))), fields: map[string]any{"refund_amount": 100.0}})
		}
		s.order(orderSpec{name: name, to: to, placed: shipped.Add(-hours(30)), shipped: shipped, tn: tn, carrier: carrier, protection: 60,
			payment: method, steps: steps, truth: []string{"refund_overdue"}})
		s.journey(tn, carrier, shipped.Add(hours(10)), &seen, 3, &seen)
	}},
	{"trap_refund_completed_in_time", func(s *sim, name string) {
		to, _ := s.dest()
		method, due := s.refund(true)
		placed := due.Add(-hours(s.between(30, 70)))
		done := due.Add(hours(24 * s.between(0.2, float64(refundDays[method])-1)))
		s.order(orderSpec{name: name, to: to, placed: placed, payment: method, steps: []step{
			{status: "cancel_requested", at: placed.Add(hours(s.between(2, 20)))}, {status: "cancelled", at: due},
			{status: "refund_completed", at: done}}}) // no amount: all of it
	}},
	{"trap_refund_not_yet_due", func(s *sim, name string) {
		to, _ := s.dest()
		method, due := s.refund(false)
		placed := due.Add(-hours(s.between(30, 70)))
		s.order(orderSpec{name: name, to: to, placed: placed, payment: method, steps: []step{
			{status: "cancel_requested", at: placed.Add(hours(s.between(2, 20)))}, {status: "cancelled", at: due}}})
	}},
	{"trap_cancelled_unasked", func(s *sim, name string) {
		// the marketplace cancelled an order nobody asked to cancel: not followed
		to, _ := s.dest()
		placed := s.daysAgo(s.between(30, 50))
		s.order(orderSpec{name: name, to: to, placed: placed, payment: paymentMethods[s.rng.IntN(len(paymentMethods))],
			steps: []step{{status: "cancelled", at: placed.Add(hours(s.between(20, 100)))}}})
	}},
}
