// Package simulate provides labelled traffic in the v1 event contract: orders across
// marketplaces, carriers and countries, in scenarios that each detector must flag and in
// the traps it must not (domain.md), with duplicates, out-of-order delivery and
// timestamps in several offsets. Every order carries its ground truth: the set of
// detectors that should flag it as of the simulation's moment.
package simulate

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	carrierpkg "github.com/trackwatch/trackwatch/carrier"
)

// Message is one event as a producer would send it.
type Message struct {
	Topic string          `json:"topic"`
	Key   string          `json:"key"`
	Value json.RawMessage `json:"value"`
}

// Options configure a simulation. The zero value is usable.
type Options struct {
	// Wording gives a carrier's words for a sub-status: the simulator says one of them
	// (at random) where it makes such an event. Nil, or no words for a carrier and
	// sub-status: the simulator's own English phrases (see say). Set it to speak the
	// carriers' tables (carrier.Table.Phrases) or wording held out from them.
	Wording func(carrierSlug string, sub carrierpkg.SubStatus) []string
	Seed    uint64    // default 1
	Orders  int       // scenario orders (reuse and combined parcels add a few); default 1000
	AsOf    time.Time // the moment the labels hold for; default 2026-11-20T12:00:00Z
	// Batch distinguishes runs that feed the same topics (trackwatch run --demo): ids,
	// event ids and tracking numbers of different batches never collide.
	Batch int
	// Sellers adds the labelled sellers (70 orders of their own) to a simulation of
	// fewer than 200 orders, which has none otherwise (the demo's first batch).
	Sellers bool
}

// Result is the traffic and its ground truth.
type Result struct {
	Messages []Message
	// Truth maps each order to the detectors that should flag it as of AsOf; orders
	// that should be left alone map to an empty list.
	Truth map[string][]string
	// Scenario names the case each order was generated for.
	Scenario map[string]string
	// SellerTruth maps each labelled seller ("seller_id@marketplace") to the detectors
	// of sellers that should flag it as of AsOf (seller_valid_tracking_rate); the other
	// sellers (seller-N, whose orders the scenarios draw at random) are not labelled.
	SellerTruth map[string][]string
	AsOf        time.Time
}

type place struct{ country, city, postal string }

// Each destination in a canonical spelling and in the variants producers send.
var places = []struct {
	canonical place
	variants  []place
}{
	{place{"JP", "Tokyo", "100-0001"}, []place{{"Japan", "TOKYO", "1000001"}, {"jp", "tokyo", "100 0001"}}},
	{place{"US", "Austin", "73301"}, []place{{"United States", "AUSTIN", "73301"}, {"USA", "Austin", "73301"}}},
	{place{"DE", "Berlin", "10115"}, []place{{"Germany", "BERLIN", "10115"}, {"Deutschland", "Berlin", "10115"}}},
	{place{"FR", "Paris", "75001"}, []place{{"France", "PARIS", "75001"}}},
	{place{"GB", "London", "SW1A 1AA"}, []place{{"United Kingdom", "LONDON", "SW1A1AA"}, {"UK", "London", "sw1a-1aa"}}},
	{place{"BR", "Sao Paulo", "01000-000"}, []place{{"Brazil", "SAO PAULO", "01000000"}}},
}

var zones = []*time.Location{time.UTC, time.FixedZone("+08", 8*3600), time.FixedZone("-05", -5*3600), time.FixedZone("+09", 9*3600), time.FixedZone("+0530", 5*3600+1800)}

// englishWording is the simulator's own wording: the phrases of the domain's rules.
var englishWording = map[carrierpkg.SubStatus][]string{
	carrierpkg.PreAdvice: {"Electronic information received", "Shipping information received", "Label created",
		"Pre-shipment info sent to carrier", "Shipment information sent to carrier", "Order information received"},
	carrierpkg.Accepted:       {"Accepted"},
	carrierpkg.Departed:       {"Departed from sorting center"},
	carrierpkg.InTransit:      {"In transit"},
	carrierpkg.Arrived:        {"Arrived at destination country"},
	carrierpkg.CustomsPending: {"Customs clearance completed"},
	carrierpkg.OutForDelivery: {"Out for delivery"},
	carrierpkg.Delivered:      {"Delivered"},
	carrierpkg.LabelVoided:    {"Shipment cancelled by sender", "Package cancelled", "Label voided", "Shipment canceled"},
	carrierpkg.ReturnedSender: {"Returned to sender", "Return to sender: refused"},
	carrierpkg.Lost:           {"Item lost"},
	carrierpkg.CustomsHeld:    {"Held by customs"},
	carrierpkg.Refused:        {"Refused by addressee"},
}

// wontArrive are the sub-statuses of a parcel that will not arrive.
var wontArrive = []carrierpkg.SubStatus{carrierpkg.ReturnedSender, carrierpkg.Lost, carrierpkg.CustomsHeld, carrierpkg.Refused}

// say returns words for an event of sub-status sub by carrierSlug.
func (s *sim) say(carrierSlug string, sub carrierpkg.SubStatus) string {
	var words []string
	if s.wording != nil {
		words = s.wording(carrierSlug, sub)
	}
	if len(words) == 0 {
		words = englishWording[sub]
	}
	return words[s.rng.IntN(len(words))]
}

type sim struct {
	wording func(string, carrierpkg.SubStatus) []string
	rng     *rand.Rand
	asOf    time.Time
	res     *Result
	n       int // order counter
	serial  int // tracking number serial
	events  int
	batch   int
}

// Run generates the traffic.
func Run(o Options) *Result {
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Orders == 0 {
		o.Orders = 1000
	}
	if o.AsOf.IsZero() {
		o.AsOf = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	}
	s := &sim{wording: o.Wording, rng: rand.New(rand.NewPCG(o.Seed, uint64(11+o.Batch))), asOf: o.AsOf.UTC(), batch: o.Batch, serial: o.Batch * 20_000,
		res: &Result{Truth: map[string][]string{}, Scenario: map[string]string{}, SellerTruth: map[string][]string{}, AsOf: o.AsOf.UTC()}}
	for range o.Orders {
		sc := scenarios[s.rng.IntN(len(scenarios))]
		sc.gen(s, sc.name)
	}
	if o.Orders >= minOrdersForSellers || o.Sellers {
		s.sellerCases()
	}
	// Out of order: producers deliver late and interleaved; the detectors must not care.
	s.rng.Shuffle(len(s.res.Messages), func(i, j int) { s.res.Messages[i], s.res.Messages[j] = s.res.Messages[j], s.res.Messages[i] })
	return s.res
}

type scenario struct {
	name string
	gen  func(s *sim, name string)
}

// daysAgo is a moment d days (plus some hours) before the simulation's moment.
func (s *sim) daysAgo(d float64) time.Time {
	return s.asOf.Add(-time.Duration(d*24*float64(time.Hour)) - time.Duration(s.rng.IntN(3600))*time.Second)
}

func (s *sim) between(lo, hi float64) float64 { return lo + s.rng.Float64()*(hi-lo) }

// s10 returns a valid UPU S10 number for a postal carrier.
func (s *sim) s10() string {
	s.serial++
	n := s.serial % 100_000_000 // unique across 5000 batches of up to 20000 numbers
	d := fmt.Sprintf("%08d", n)
	w := []int{8, 6, 4, 2, 3, 5, 9, 7}
	sum := 0
	for i := range 8 {
		sum += int(d[i]-'0') * w[i]
	}
	c := 11 - sum%11
	if c == 10 {
		c = 0
	} else if c == 11 {
		c = 5
	}
	return fmt.Sprintf("%s%s%d%s", []string{"RR", "RB", "LX", "RA"}[s.rng.IntN(4)], d, c, []string{"CN", "JP", "KR"}[s.rng.IntN(3)])
}

// number returns a valid number and its carrier, from a carrier mix.
// badS10 is a China Post S10 number with its check digit one off.
func (s *sim) badS10() string {
	tn := s.s10()
	return tn[:10] + string('0'+(tn[10]-'0'+1)%10) + tn[11:]
}

func (s *sim) number() (string, string) {
	s.serial++
	switch s.rng.IntN(4) {
	case 0:
		return fmt.Sprintf("LP%014d", s.serial), "cainiao"
	case 1:
		return fmt.Sprintf("YT%016d", s.serial), "yunexpress"
	default:
		return s.s10(), []string{"china-post", "japan-post"}[s.rng.IntN(2)]
	}
}

func (s *sim) at(t time.Time) string { return t.In(zones[s.rng.IntN(len(zones))]).Format(time.RFC3339) }

func (s *sim) emit(topic, key string, v map[string]any) {
	b, _ := json.Marshal(v)
	s.res.Messages = append(s.res.Messages, Message{Topic: topic, Key: key, Value: b})
	if s.rng.IntN(20) == 0 { // the producer sends it twice
		s.res.Messages = append(s.res.Messages, Message{Topic: topic, Key: key, Value: b})
	}
}

func pj(p place) map[string]string {
	return map[string]string{"country": p.country, "city": p.city, "postal_code": p.postal}
}

// order emits placed and shipped events and records the truth.
type orderSpec struct {
	name, buyer     string
	to              place
	placed, shipped time.Time
	tn, carrier     string
	protection      int
	later           []string // statuses after shipment
	truth           []string
	// the buyer's journey: how the buyer paid ("" unknown), and order events besides
	// placed, paid and shipped (an order with no tn is never shipped)
	payment string
	steps   []step
	// seller and marketplace, for a labelled seller's order; "" draws them at random
	seller, marketplace string
}

// step is one order event of the buyer's journey, with the contract's other fields.
type step struct {
	status string
	at     time.Time
	fields map[string]any
}

func (s *sim) order(o orderSpec) string {
	s.n++
	id := fmt.Sprintf("%s-%05d", o.name, s.n)
	if s.batch > 0 {
		id = fmt.Sprintf("b%d-%s", s.batch, id)
	}
	if o.buyer == "" {
		o.buyer = fmt.Sprintf("buyer-%d-%d", s.batch, s.n)
	}
	mk := []string{"aliexpress", "aliexpress", "aliexpress", "amazon"}[s.rng.IntN(4)]
	seller := fmt.Sprintf("seller-%d", s.rng.IntN(50))
	if o.seller != "" { // a labelled seller's order (sellerCases)
		seller, mk = o.seller, o.marketplace
	}
	base := map[string]any{"order_id": id, "marketplace": mk, "seller_id": seller, "buyer_id": o.buyer}
	with := func(extra map[string]any) map[string]any {
		m := map[string]any{}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	s.emit("order-events", id, with(map[string]any{"event_id": id + "-placed", "status": "placed", "occurred_at": s.at(o.placed), "ship_to": pj(o.to), "amount": float64(s.rng.IntN(20000)) / 100, "currency": "USD"}))
	paid := map[string]any{"event_id": id + "-paid", "status": "paid", "occurred_at": s.at(o.placed.Add(time.Hour))}
	if o.payment != "" {
		paid["payment_method"] = o.payment
	}
	s.emit("order-events", id, with(paid))
	if o.tn != "" {
		s.emit("order-events", id, with(map[string]any{"event_id": id + "-shipped", "status": "shipped", "occurred_at": s.at(o.shipped), "tracking_number": o.tn, "carrier": o.carrier, "protection_days": o.protection}))
	}
	for i, st := range o.later {
		s.emit("order-events", id, with(map[string]any{"event_id": fmt.Sprintf("%s-%s-%d", id, st, i), "status": st, "occurred_at": s.at(o.shipped.Add(time.Duration(i+1) * 36 * time.Hour))}))
	}
	for i, st := range o.steps {
		m := map[string]any{"event_id": fmt.Sprintf("%s-j%d-%s", id, i, st.status), "status": st.status, "occurred_at": s.at(st.at)}
		for k, v := range st.fields {
			m[k] = v
		}
		s.emit("order-events", id, with(m))
	}
	truth := slices.Clone(o.truth)
	slices.Sort(truth)
	if truth == nil {
		truth = []string{}
	}
	s.res.Truth[id] = truth
	s.res.Scenario[id] = o.name
	return id
}

// scan emits a carrier event for tn.
func (s *sim) scan(tn, carrier, raw string, at time.Time, dest, loc *place) {
	s.events++
	ev := map[string]any{"event_id": fmt.Sprintf("ev-%d-%d", s.batch, s.events), "tracking_number": s.spell(tn), "carrier": carrier, "raw_status": raw, "occurred_at": s.at(at)}
	if dest != nil {
		ev["destination"] = pj(*dest)
	}
	if loc != nil {
		ev["location"] = pj(*loc)
	}
	s.emit("tracking-events", tn, ev)
}

// spell prints a number the way carriers and people do: spaces, dashes, lower case.
func (s *sim) spell(tn string) string {
	switch s.rng.IntN(4) {
	case 0:
		return tn[:2] + " " + tn[2:]
	case 1:
		if len(tn) > 6 {
			return tn[:6] + "-" + tn[6:]
		}
	}
	return tn
}

// journey emits a normal parcel's scans from start, n moving events a day or two apart,
// optionally ending delivered at the given place.
func (s *sim) journey(tn, carrier string, start time.Time, dest *place, n int, deliveredAt *place) {
	origin := place{"CN", "Shenzhen", "518000"}
	s.scan(tn, carrier, s.say(carrier, carrierpkg.PreAdvice), start, dest, &origin)
	steps := []carrierpkg.SubStatus{carrierpkg.Accepted, carrierpkg.Departed, carrierpkg.InTransit, carrierpkg.Arrived, carrierpkg.CustomsPending, carrierpkg.OutForDelivery}
	t := start
	for i := range n {
		t = t.Add(time.Duration(s.between(20, 40) * float64(time.Hour)))
		if t.After(s.asOf) {
			return
		}
		s.scan(tn, carrier, s.say(carrier, steps[min(i, len(steps)-1)]), t, dest, nil)
	}
	if deliveredAt != nil {
		t = t.Add(time.Duration(s.between(10, 30) * float64(time.Hour)))
		if !t.After(s.asOf) {
			s.scan(tn, carrier, s.say(carrier, carrierpkg.Delivered), t, nil, deliveredAt)
		}
	}
}

func (s *sim) dest() (place, place) {
	p := places[s.rng.IntN(len(places))]
	v := p.canonical
	if s.rng.IntN(2) == 0 {
		v = p.variants[s.rng.IntN(len(p.variants))]
	}
	return p.canonical, v // ship-to spelling, and how the carrier may spell it
}

func (s *sim) otherDest(not place) place {
	for {
		p := places[s.rng.IntN(len(places))].canonical
		if p.country != not.country {
			return p
		}
	}
}
