package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/trackwatch/trackwatch/carrier"

	fastjson "github.com/segmentio/encoding/json"
	"github.com/shopspring/decimal"

	"github.com/trackwatch/trackwatch/schemas"
	"github.com/trackwatch/trackwatch/trackingnumber"
)

// Dead-letter reasons, stored in dead_letters.reason and counted in metrics.
const (
	ReasonNotJSON      = "not_json"
	ReasonMissingField = "missing_field"
	ReasonBadTimestamp = "bad_timestamp"
	ReasonInvalidValue = "invalid_value"
	ReasonTooLarge     = "too_large"
	// ReasonBadRecord: a backfill file's record could not be read as an event at all
	// (a CSV row with the wrong number of fields, an over-long line).
	ReasonBadRecord = "bad_record"
)

// Rejection is why a message cannot be accepted. It is permanent: the same bytes are
// rejected again, so the message goes to the dead-letter table instead of being retried.
type Rejection struct {
	Reason string // one of the Reason constants
	Detail string // names the field and the problem
}

func (r *Rejection) Error() string { return r.Reason + ": " + r.Detail }

func reject(reason, format string, args ...any) *Rejection {
	return &Rejection{Reason: reason, Detail: fmt.Sprintf(format, args...)}
}

// PlaceCols is a place in stored form: ISO country, and city and postal code both as
// given and normalised for comparison.
type PlaceCols struct {
	Country, City, CityNorm, Postal, PostalNorm string
}

func placeCols(p *schemas.Place) PlaceCols {
	if p == nil {
		return PlaceCols{}
	}
	return PlaceCols{
		Country: countryMemo.get(p.Country), City: strings.TrimSpace(p.City), CityNorm: cityMemo.get(p.City),
		Postal: strings.TrimSpace(p.PostalCode), PostalNorm: NormalisePostalCode(p.PostalCode),
	}
}

// TrackingRow is one tracking_events row.
type TrackingRow struct {
	EventID, TrackingNumber, TrackingNumberRaw, Carrier, Status, RawStatus string
	// SubStatus is what exactly happened (carrier.SubStatus): from the carrier's words,
	// or the least specific one of a status the producer gave without them.
	SubStatus carrier.SubStatus
	// StatusGiven: the producer sent the status; otherwise it was derived from raw_status
	// and a later `trackwatch phrases renormalise` may change it.
	StatusGiven           bool
	OccurredAt            time.Time
	Location, Destination PlaceCols
	// Provider and ProviderStatus are a tracking aggregator's reading of the event
	// (package feeds), stored beside the carrier's words; empty without one.
	Provider       string
	ProviderStatus carrier.SubStatus
	// Disagrees: a phrase table knows the words and reads another status than the
	// provider does; SubStatus keeps the phrase table's reading.
	Disagrees bool
	// Decided: no phrase table knew the words, and the provider's reading was taken.
	Decided bool
}

// OrderRow is one order_events row.
type OrderRow struct {
	EventID, OrderID, Marketplace, SellerID, BuyerID, Status string
	OccurredAt                                               time.Time
	TrackingNumber, TrackingNumberRaw, Carrier               string
	ShipTo                                                   PlaceCols
	ProtectionDays, ProtectionExtendedDays                   *uint16
	Amount                                                   *decimal.Decimal
	Currency                                                 string
	// PaymentMethod (on paid), RefundAmount (refund_approved: due; refund_completed:
	// refunded in all) and Reason follow the buyer's journey after the order.
	PaymentMethod string
	RefundAmount  *decimal.Decimal
	Reason        string
	// Number is the verdict on TrackingNumber for Carrier (JudgeOrders), stored with
	// the row; zero when there is nothing to say.
	Number NumberVerdict
}

// NumberVerdict is what order_events.number_* hold: a finding on the tracking number's
// shape, or the couriers of a number whose carrier is undeclared (package trackingnumber).
type NumberVerdict struct {
	Verdict            string
	Couriers           []string
	Problem, ProblemJA string
	Spec               string
}

// wire types decode occurred_at as text, so that a bad timestamp is told apart from bad
// JSON, and keep the rest as the contract's types.
type trackingWire struct {
	schemas.TrackingEvent
	OccurredAt *string `json:"occurred_at"`
}

type orderWire struct {
	schemas.OrderEvent
	OccurredAt   *string         `json:"occurred_at"`
	Amount       json.RawMessage `json:"amount"` // parsed here, to name the field when it is not a number
	RefundAmount json.RawMessage `json:"refund_amount"`
}

// Decoder decodes tracking events with a carrier phrase table. The zero value is not
// usable; NewDecoder makes one.
type Decoder struct {
	phrases *carrier.Table
	limits  Limits
	bySlug  sync.Map     // carrier slug -> *memo of raw_status -> sub-status
	slugs   atomic.Int64 // memos made; past maxSlugMemos words are classified each time
	// detected names the courier of an event that declares none, from its number's
	// format (package trackingnumber), so that its words are read with that courier's
	// phrase table; nil detects none.
	detected *memo
}

// detectCouriers makes d read the words of an event without a carrier with the phrase
// table of the one courier whose formats its number fits (none when several or none fit).
func (d *Decoder) detectCouriers(c *trackingnumber.Checker) {
	if c == nil {
		d.detected = nil
		return
	}
	d.detected = newMemo(20_000, func(tn string) string {
		if cs := c.Detect(tn); len(cs) == 1 {
			return cs[0]
		}
		return ""
	})
}

// maxSlugMemos bounds the per-carrier memos: producers name the carriers, and a hostile
// one could name millions.
const maxSlugMemos = 1000

// sub classifies a carrier's words, remembering the answer per carrier.
func (d *Decoder) sub(slug, raw string) carrier.SubStatus {
	m, ok := d.bySlug.Load(slug)
	if !ok {
		if d.slugs.Load() >= maxSlugMemos {
			return d.phrases.Classify(slug, raw)
		}
		var loaded bool
		m, loaded = d.bySlug.LoadOrStore(slug, newMemo(20_000, func(raw string) string { return string(d.phrases.Classify(slug, raw)) }))
		if !loaded {
			d.slugs.Add(1)
		}
	}
	return carrier.SubStatus(m.(*memo).get(raw))
}

// NewDecoder returns a decoder classifying carrier wording with t and refusing fields
// over limits (zero fields: the defaults).
func NewDecoder(t *carrier.Table, limits Limits) *Decoder {
	_ = limits.Validate() // fills defaults; a config's limits were validated with it
	return &Decoder{phrases: t, limits: limits}
}

// defaultDecoder uses the embedded phrase tables.
var defaultDecoder = func() *Decoder {
	t, err := carrier.Default()
	if err != nil {
		panic(err) // the embedded tables are checked by carrier's tests
	}
	return NewDecoder(t, Limits{})
}()

// DecodeTracking validates and normalises one tracking-events message with the
// embedded phrase tables.
func DecodeTracking(raw []byte) (TrackingRow, *Rejection) { return defaultDecoder.DecodeTracking(raw) }

// DecodeTracking validates and normalises one tracking-events message.
func (d *Decoder) DecodeTracking(raw []byte) (TrackingRow, *Rejection) {
	var w trackingWire
	if rej := unmarshal(raw, &w); rej != nil {
		return TrackingRow{}, rej
	}
	e := &w.TrackingEvent
	if rej := required("event_id", e.EventID, "tracking_number", e.TrackingNumber); rej != nil {
		return TrackingRow{}, rej
	}
	if rej := d.limits.tracking(e); rej != nil {
		return TrackingRow{}, rej
	}
	at, rej := timestamp(w.OccurredAt)
	if rej != nil {
		return TrackingRow{}, rej
	}
	slug := strings.ToLower(strings.TrimSpace(e.Carrier))
	status := strings.TrimSpace(e.Status)
	var sub carrier.SubStatus
	if strings.TrimSpace(e.RawStatus) != "" {
		phrases := slug
		if slug == "" && d.detected != nil {
			phrases = d.detected.get(NormaliseTrackingNumber(e.TrackingNumber))
		}
		sub = d.sub(phrases, e.RawStatus)
	}
	provider, providerSub, rej := d.providerReading(e)
	if rej != nil {
		return TrackingRow{}, rej
	}
	disagrees, decided := false, false
	switch {
	case status == "" && strings.TrimSpace(e.RawStatus) == "" && providerSub == "":
		return TrackingRow{}, reject(ReasonMissingField, "status or raw_status is required")
	case status == "" && providerSub != "" && (sub == "" || sub == carrier.Unknown):
		// no phrase table knows the words: the aggregator's reading decides
		sub, status, decided = providerSub, providerSub.Status(), true
	case status == "":
		// both know the words: trackwatch's reading stays, a disagreement is counted
		disagrees = providerSub != "" && providerSub.Status() != sub.Status()
		status = sub.Status()
	case !slices.Contains(schemas.TrackingStatuses, status):
		return TrackingRow{}, reject(ReasonInvalidValue, "status %q is not one of %s", status, strings.Join(schemas.TrackingStatuses, ", "))
	case sub.Status() != status: // the producer's status wins; its words may say more
		sub = carrier.ForStatus(status)
	}
	tn := NormaliseTrackingNumber(e.TrackingNumber)
	if tn == "" {
		return TrackingRow{}, reject(ReasonInvalidValue, "tracking_number %q has no characters besides separators", e.TrackingNumber)
	}
	return TrackingRow{
		EventID: strings.TrimSpace(e.EventID), TrackingNumber: tn, TrackingNumberRaw: e.TrackingNumber,
		Carrier: slug, Status: status, RawStatus: e.RawStatus, SubStatus: sub, StatusGiven: strings.TrimSpace(e.Status) != "",
		OccurredAt: at, Location: placeCols(e.Location), Destination: placeCols(e.Destination),
		Provider: provider, ProviderStatus: providerSub, Disagrees: disagrees, Decided: decided,
	}, nil
}

// ProviderReading is how an aggregator's reading fared: "disagreed" (the phrase table
// read another status, and was kept), "decided" (no phrase knew the words), "agreed".
func (r *TrackingRow) ProviderReading() string {
	switch {
	case r.Disagrees:
		return "disagreed"
	case r.Decided:
		return "decided"
	}
	return "agreed"
}

// providerReading checks an aggregator's reading of an event (provider and
// provider_status, contract v1's optional fields that package feeds fills).
func (d *Decoder) providerReading(e *schemas.TrackingEvent) (string, carrier.SubStatus, *Rejection) {
	provider := strings.ToLower(strings.TrimSpace(e.Provider))
	ps := strings.TrimSpace(e.ProviderStatus)
	if ps == "" {
		return provider, "", nil
	}
	sub, ok := carrier.Parse(ps)
	if !ok {
		return "", "", reject(ReasonInvalidValue, "provider_status %q is not a status or a status/detail sub-status", ps)
	}
	return provider, sub, nil
}

// DecodeOrder validates and normalises one order-events message with the default limits.
func DecodeOrder(raw []byte) (OrderRow, *Rejection) { return defaultDecoder.DecodeOrder(raw) }

// DecodeOrder validates and normalises one order-events message.
func (d *Decoder) DecodeOrder(raw []byte) (OrderRow, *Rejection) {
	var w orderWire
	if rej := unmarshal(raw, &w); rej != nil {
		return OrderRow{}, rej
	}
	e := &w.OrderEvent
	if rej := required("event_id", e.EventID, "order_id", e.OrderID, "seller_id", e.SellerID, "buyer_id", e.BuyerID, "status", e.Status); rej != nil {
		return OrderRow{}, rej
	}
	if rej := d.limits.order(e); rej != nil {
		return OrderRow{}, rej
	}
	at, rej := timestamp(w.OccurredAt)
	if rej != nil {
		return OrderRow{}, rej
	}
	status := strings.TrimSpace(e.Status)
	if !slices.Contains(schemas.OrderStatuses, status) {
		return OrderRow{}, reject(ReasonInvalidValue, "status %q is not one of %s", status, strings.Join(schemas.OrderStatuses, ", "))
	}
	tn := NormaliseTrackingNumber(e.TrackingNumber)
	if status == "shipped" && tn == "" {
		return OrderRow{}, reject(ReasonMissingField, "tracking_number is required with status shipped")
	}
	if status == "placed" && (e.ShipTo == nil || strings.TrimSpace(e.ShipTo.Country) == "") {
		return OrderRow{}, reject(ReasonMissingField, "ship_to with a country is required with status placed")
	}
	row := OrderRow{
		EventID: strings.TrimSpace(e.EventID), OrderID: strings.TrimSpace(e.OrderID),
		Marketplace: strings.ToLower(strings.TrimSpace(e.Marketplace)),
		SellerID:    strings.TrimSpace(e.SellerID), BuyerID: strings.TrimSpace(e.BuyerID), Status: status,
		OccurredAt: at, TrackingNumber: tn, TrackingNumberRaw: e.TrackingNumber,
		Carrier: strings.ToLower(strings.TrimSpace(e.Carrier)), ShipTo: placeCols(e.ShipTo),
		Currency: strings.ToUpper(strings.TrimSpace(e.Currency)),
	}
	var err *Rejection
	if row.ProtectionDays, err = days("protection_days", e.ProtectionDays); err != nil {
		return OrderRow{}, err
	}
	if row.ProtectionExtendedDays, err = days("protection_extended_days", e.ProtectionExtendedDays); err != nil {
		return OrderRow{}, err
	}
	if row.Amount, err = money("amount", w.Amount); err != nil {
		return OrderRow{}, err
	}
	if row.RefundAmount, err = money("refund_amount", w.RefundAmount); err != nil {
		return OrderRow{}, err
	}
	if pm := strings.ToLower(strings.TrimSpace(e.PaymentMethod)); pm != "" {
		if !slices.Contains(schemas.PaymentMethods, pm) {
			return OrderRow{}, reject(ReasonInvalidValue, "payment_method %q is not one of %s", e.PaymentMethod, strings.Join(schemas.PaymentMethods, ", "))
		}
		row.PaymentMethod = pm
	}
	row.Reason = strings.TrimSpace(e.Reason)
	return row, nil
}

// money parses an amount field: a JSON number in 0..1e14, kept to 4 decimals; nil when
// absent or null.
func money(field string, raw json.RawMessage) (*decimal.Decimal, *Rejection) {
	a := bytes.TrimSpace(raw)
	if len(a) == 0 || string(a) == "null" {
		return nil, nil
	}
	d, err := decimal.NewFromString(string(a))
	if err != nil || a[0] == '"' || d.IsNegative() || d.GreaterThanOrEqual(decimal.New(1, 14)) {
		return nil, reject(ReasonInvalidValue, "%s %s is not a number in 0..1e14", field, a)
	}
	d = d.Round(4)
	return &d, nil
}

// unmarshal decodes one JSON object with the contract's exact field names. It uses
// segmentio/encoding/json, a drop-in for encoding/json that decodes these events about
// three times faster (BenchmarkDecodeTracking): decoding is most of ingest's CPU.
func unmarshal(raw []byte, v any) *Rejection {
	rest, err := fastjson.Parse(raw, v, fastjson.UseNumber|fastjson.DontMatchCaseInsensitiveStructFields)
	if err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return reject(ReasonInvalidValue, "%s: JSON %s where the contract has %s", typeErr.Field, typeErr.Value, typeErr.Type)
		}
		return reject(ReasonNotJSON, "%v", err)
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return reject(ReasonNotJSON, "more than one JSON value in the message")
	}
	return nil
}

// required checks name/value pairs for non-blank values.
func required(kv ...string) *Rejection {
	var missing []string
	for i := 0; i+1 < len(kv); i += 2 {
		if strings.TrimSpace(kv[i+1]) == "" {
			missing = append(missing, kv[i])
		}
	}
	if len(missing) > 0 {
		return reject(ReasonMissingField, "%s required", strings.Join(missing, ", "))
	}
	return nil
}

// timestamp parses occurred_at: RFC 3339 with an offset, stored in UTC at milliseconds.
func timestamp(s *string) (time.Time, *Rejection) {
	if s == nil || strings.TrimSpace(*s) == "" {
		return time.Time{}, reject(ReasonMissingField, "occurred_at required")
	}
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(*s))
	if err != nil {
		return time.Time{}, reject(ReasonBadTimestamp, "occurred_at %q is not RFC 3339 with an offset (e.g. 2026-10-02T08:15:00+08:00)", *s)
	}
	if t.Year() < 2000 || t.Year() > 2200 {
		return time.Time{}, reject(ReasonBadTimestamp, "occurred_at %q is outside 2000..2200", *s)
	}
	return t.UTC().Truncate(time.Millisecond), nil
}

func days(field string, v *int) (*uint16, *Rejection) {
	if v == nil {
		return nil, nil
	}
	if *v < 0 || *v > 3650 {
		return nil, reject(ReasonInvalidValue, "%s %d is outside 0..3650", field, *v)
	}
	d := uint16(*v)
	return &d, nil
}
