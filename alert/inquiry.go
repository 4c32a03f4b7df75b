package alert

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/shopspring/decimal"

	"github.com/trackwatch/trackwatch/detect"
)

// OrderView is everything known about an order as of a moment.
type OrderView struct {
	OrderID string       `json:"order_id"`
	AsOf    time.Time    `json:"as_of"`
	State   string       `json:"state"` // the latest status as of AsOf
	History []OrderEvent `json:"history"`
	// Carrier is the timeline of the number the order shipped with, as of AsOf.
	Carrier []Event  `json:"carrier_timeline"`
	Alerts  []Listed `json:"alerts"`
}

// TrackingView is everything known about a tracking number as of a moment.
type TrackingView struct {
	TrackingNumber string       `json:"tracking_number"`
	AsOf           time.Time    `json:"as_of"`
	Carrier        []Event      `json:"carrier_timeline"`
	Orders         []OrderEvent `json:"orders"` // events of every order carrying the number
	Alerts         []Listed     `json:"alerts"`
}

// ErrUnknown is returned for an order or a number nothing is known of.
var ErrUnknown = fmt.Errorf("nothing is known of it")

const (
	eventCols = "occurred_at, status, sub_status, physical, raw_status, carrier, location_country, location_city, dest_country, dest_city, dest_postal"
	orderCols = "occurred_at, order_id, status, seller_id, buyer_id, tracking_number, carrier, ship_to_country, ship_to_city, ship_to_postal"
)

// Order returns an order's history, its number's carrier timeline and its alerts, as
// of asOf.
func (s *Store) Order(ctx context.Context, orderID string, asOf time.Time) (OrderView, error) {
	v := OrderView{OrderID: orderID, AsOf: asOf.UTC(), History: []OrderEvent{}, Carrier: []Event{}}
	at := clickhouse.Named("as_of", asOf.UTC())
	if err := s.Conn.Select(ctx, &v.History, "SELECT "+orderCols+" FROM "+s.table("order_events")+" FINAL WHERE order_id = {o:String} "+
		"AND occurred_at <= {as_of:DateTime64(3, 'UTC')} ORDER BY occurred_at LIMIT 1000", clickhouse.Named("o", orderID), at); err != nil {
		return v, fmt.Errorf("order history: %w", err)
	}
	if len(v.History) == 0 {
		return v, ErrUnknown
	}
	tn := ""
	for _, e := range v.History {
		v.State = e.Status
		if e.Status == "shipped" && e.TrackingNumber != "" {
			tn = e.TrackingNumber
		}
	}
	if tn != "" {
		if err := s.Conn.Select(ctx, &v.Carrier, "SELECT "+eventCols+" FROM "+s.table("tracking_events")+" FINAL WHERE tracking_number = {tn:String} "+
			"AND occurred_at <= {as_of:DateTime64(3, 'UTC')} ORDER BY occurred_at LIMIT 500", clickhouse.Named("tn", tn), at); err != nil {
			return v, fmt.Errorf("carrier timeline: %w", err)
		}
	}
	p, err := s.Query(ctx, Query{OrderID: orderID, Sort: "recency", Limit: 100})
	v.Alerts = p.Alerts
	return v, err
}

// Tracking returns a number's carrier timeline, the orders carrying it and its alerts,
// as of asOf.
func (s *Store) Tracking(ctx context.Context, number string, asOf time.Time) (TrackingView, error) {
	number = strings.ToUpper(strings.NewReplacer(" ", "", "-", "").Replace(strings.TrimSpace(number)))
	v := TrackingView{TrackingNumber: number, AsOf: asOf.UTC(), Carrier: []Event{}, Orders: []OrderEvent{}}
	args := []any{clickhouse.Named("tn", number), clickhouse.Named("as_of", asOf.UTC())}
	if err := s.Conn.Select(ctx, &v.Carrier, "SELECT "+eventCols+" FROM "+s.table("tracking_events")+" FINAL WHERE tracking_number = {tn:String} "+
		"AND occurred_at <= {as_of:DateTime64(3, 'UTC')} ORDER BY occurred_at LIMIT 500", args...); err != nil {
		return v, fmt.Errorf("carrier timeline: %w", err)
	}
	if err := s.Conn.Select(ctx, &v.Orders, "SELECT "+orderCols+" FROM "+s.table("order_events")+" FINAL WHERE order_id IN ("+
		"SELECT DISTINCT order_id FROM "+s.table("order_events")+" WHERE tracking_number = {tn:String} LIMIT 200) "+
		"AND occurred_at <= {as_of:DateTime64(3, 'UTC')} ORDER BY order_id, occurred_at LIMIT 2000", args...); err != nil {
		return v, fmt.Errorf("orders: %w", err)
	}
	if len(v.Carrier) == 0 && len(v.Orders) == 0 {
		return v, ErrUnknown
	}
	p, err := s.Query(ctx, Query{TrackingNumber: number, Sort: "recency", Limit: 100})
	v.Alerts = p.Alerts
	return v, err
}

// SellerWindow bounds a seller's figures: orders shipped in [From, To), and a number
// counts as valid when the carrier scanned it within ScanDays of the shipment (the
// Valid Tracking Rate's definition: at least one physical scan).
type SellerWindow struct {
	From, To time.Time
	ScanDays int // default 5
}

// SellerStats are one seller's figures over a window.
type SellerStats struct {
	SellerID string `ch:"seller_id" json:"seller_id"`
	// Shipped counts orders shipped in the window at least ScanDays before its end;
	// Valid those whose number had a physical scan within ScanDays of shipment.
	Shipped uint64 `ch:"shipped" json:"shipped"`
	Valid   uint64 `ch:"valid" json:"valid"`
	// ValidTrackingRate is Valid / Shipped (target 0.95); 1 when nothing shipped.
	ValidTrackingRate float64 `ch:"vtr" json:"valid_tracking_rate"`
	// Firing alerts by detector; Confirmed are closed as confirmed fakes.
	Firing           uint64            `ch:"firing" json:"firing"`
	FiringByDetector map[string]uint64 `ch:"by_detector" json:"firing_by_detector"`
	Confirmed        uint64            `ch:"confirmed" json:"confirmed_fake"`
	DisputesAdvised  uint64            `ch:"disputes" json:"disputes_recommended"`
	MoneyAtStake     decimal.Decimal   `ch:"money" json:"money_at_stake"`
	Weeks            []SellerWeek      `json:"weeks,omitempty"`
}

// SellerWeek is one week of a seller's valid tracking rate.
type SellerWeek struct {
	Week    time.Time `ch:"week" json:"week"`
	Shipped uint64    `ch:"shipped" json:"shipped"`
	Valid   uint64    `ch:"valid" json:"valid"`
}

// shippedSQL is every order shipped in the window (latest shipment wins) with whether its
// number had a physical scan from a day before to ScanDays after the shipment.
const shippedSQL = `SELECT o.last_seller AS seller_id, o.order_id AS order_id, o.shipped_at AS shipped_at,
    arrayExists(x -> x >= o.shipped_at - toIntervalDay(1) AND x <= o.shipped_at + toIntervalDay({scan_days:UInt16}), ifNull(t.scans, [])) AS valid
FROM (
    SELECT order_id, argMax(seller_id, occurred_at) AS last_seller, argMaxIf(tracking_number, occurred_at, status = 'shipped') AS tn,
        maxIf(occurred_at, status = 'shipped') AS shipped_at
    FROM $db.order_events
    WHERE ({seller:String} = '' OR seller_id = {seller:String}) AND occurred_at < {to:DateTime64(3, 'UTC')}
    GROUP BY order_id
    HAVING countIf(status = 'shipped') > 0 AND shipped_at >= {from:DateTime64(3, 'UTC')}
       AND shipped_at <= {to:DateTime64(3, 'UTC')} - toIntervalDay({scan_days:UInt16})
) AS o
LEFT JOIN (
    SELECT tracking_number, groupArray(occurred_at) AS scans FROM $db.tracking_events
    WHERE physical AND occurred_at >= {from:DateTime64(3, 'UTC')} - toIntervalDay(1)
      -- one seller: only its numbers (the table is sorted by number, so this reads little)
      AND ({seller:String} = '' OR tracking_number IN (
          SELECT tracking_number FROM $db.order_events WHERE seller_id = {seller:String} AND status = 'shipped'))
    GROUP BY tracking_number
) AS t ON t.tracking_number = o.tn
SETTINGS join_use_nulls = 1`

// Sellers returns the figures of one seller (sellerID) or of every seller, sorted by
// sort: "vtr" (lowest valid tracking rate first), "money" (most at stake first) or
// "alerts" (most firing first); at most limit sellers.
func (s *Store) Sellers(ctx context.Context, sellerID string, w SellerWindow, sort string, limit int) ([]SellerStats, error) {
	if w.ScanDays == 0 {
		w.ScanDays = 5
	}
	order := map[string]string{"vtr": "vtr ASC, shipped DESC", "money": "money DESC", "alerts": "firing DESC"}[sort]
	if order == "" {
		return nil, fmt.Errorf("%w: sort %q is not vtr, money or alerts", ErrBadQuery, sort)
	}
	if limit < 1 || limit > 1000 {
		return nil, fmt.Errorf("%w: limit %d is out of range 1..1000", ErrBadQuery, limit)
	}
	r := strings.NewReplacer("$cases", CaseSQL(s.DB), "$db", "`"+s.DB+"`")
	q := r.Replace(`SELECT seller_id, ifNull(v.shipped, 0) AS shipped, ifNull(v.valid, 0) AS valid,
    if(shipped = 0, 1, valid / shipped) AS vtr, ifNull(a.firing, 0) AS firing, ifNull(a.by_detector, map()) AS by_detector,
    ifNull(a.confirmed, 0) AS confirmed, ifNull(a.disputes, 0) AS disputes, ifNull(a.money, toDecimal128(0, 4)) AS money
FROM (SELECT seller_id, count() AS shipped, countIf(valid) AS valid FROM (` + shippedSQL + `) GROUP BY seller_id) AS v
FULL OUTER JOIN (
    SELECT al.seller_id AS seller_id, countIf(al.status = 'firing') AS firing,
        sumMap(map(al.detector, toUInt64(al.status = 'firing'))) AS by_detector,
        countIf(c.outcome = 'confirmed_fake') AS confirmed,
        countIf(al.status = 'firing' AND al.recommendation = 'open_dispute') AS disputes,
        toDecimal128(sumIf(ifNull(al.amount, 0), al.status = 'firing'), 4) AS money
    FROM (SELECT * FROM $db.alerts FINAL WHERE {seller:String} = '' OR seller_id = {seller:String}) AS al
    LEFT JOIN ($cases) AS c ON c.alert_id = al.alert_id
    GROUP BY al.seller_id
) AS a USING seller_id
ORDER BY ` + order + `, seller_id LIMIT {limit:UInt32}
SETTINGS join_use_nulls = 1`)
	args := []any{clickhouse.Named("seller", sellerID), clickhouse.Named("from", w.From.UTC()), clickhouse.Named("to", w.To.UTC()),
		clickhouse.Named("scan_days", uint16(w.ScanDays)), clickhouse.Named("limit", uint32(limit))}
	if sellerID != "" {
		return s.seller(ctx, r, sellerID, args)
	}
	var out []SellerStats
	if err := s.Conn.Select(ctx, &out, q, args...); err != nil {
		return nil, fmt.Errorf("seller figures: %w", err)
	}
	return out, nil
}

// seller is Sellers for one seller: its shipped orders once, totals and weeks counted
// here, and its alerts.
func (s *Store) seller(ctx context.Context, r *strings.Replacer, sellerID string, args []any) ([]SellerStats, error) {
	var orders []struct {
		ShippedAt time.Time `ch:"shipped_at"`
		Valid     bool      `ch:"valid"`
	}
	if err := s.Conn.Select(ctx, &orders, "SELECT shipped_at, valid FROM ("+r.Replace(shippedSQL)+") ORDER BY shipped_at", args...); err != nil {
		return nil, fmt.Errorf("seller figures: %w", err)
	}
	st := SellerStats{SellerID: sellerID, FiringByDetector: map[string]uint64{}}
	for _, o := range orders {
		st.Shipped++
		week := o.ShippedAt.UTC().Truncate(24 * time.Hour)
		week = week.AddDate(0, 0, -((int(week.Weekday()) + 6) % 7)) // Monday
		if n := len(st.Weeks); n == 0 || !st.Weeks[n-1].Week.Equal(week) {
			st.Weeks = append(st.Weeks, SellerWeek{Week: week})
		}
		st.Weeks[len(st.Weeks)-1].Shipped++
		if o.Valid {
			st.Valid++
			st.Weeks[len(st.Weeks)-1].Valid++
		}
	}
	st.ValidTrackingRate = 1
	if st.Shipped > 0 {
		st.ValidTrackingRate = float64(st.Valid) / float64(st.Shipped)
	}
	var al []struct {
		Detector       string           `ch:"detector"`
		Status         string           `ch:"status"`
		Recommendation string           `ch:"recommendation"`
		Amount         *decimal.Decimal `ch:"amount"`
		Outcome        string           `ch:"outcome"`
	}
	if err := s.Conn.Select(ctx, &al, r.Replace(`SELECT a.detector AS detector, a.status AS status, a.recommendation AS recommendation,
    a.amount AS amount, ifNull(c.outcome, '') AS outcome
FROM (SELECT alert_id, detector, status, recommendation, amount FROM $db.alerts FINAL WHERE seller_id = {seller:String}) AS a
LEFT JOIN ($cases) AS c ON c.alert_id = a.alert_id
SETTINGS join_use_nulls = 1`), args...); err != nil {
		return nil, fmt.Errorf("seller alerts: %w", err)
	}
	for _, a := range al {
		if a.Outcome == string(OutcomeConfirmedFake) {
			st.Confirmed++
		}
		if a.Status != string(StatusFiring) {
			continue
		}
		st.Firing++
		st.FiringByDetector[a.Detector]++
		if a.Recommendation == string(detect.RecommendOpenDispute) {
			st.DisputesAdvised++
		}
		if a.Amount != nil {
			st.MoneyAtStake = st.MoneyAtStake.Add(*a.Amount)
		}
	}
	if st.Shipped == 0 && len(al) == 0 {
		return nil, ErrUnknown
	}
	return []SellerStats{st}, nil
}
