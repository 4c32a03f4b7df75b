package lookup

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/shopspring/decimal"

	"github.com/trackwatch/trackwatch/alert"
	"github.com/trackwatch/trackwatch/detect"
	"github.com/trackwatch/trackwatch/sqlfile"
)

// OrderView is everything known about an order as of a moment.
type OrderView struct {
	OrderID string       `json:"order_id"`
	AsOf    time.Time    `json:"as_of"`
	State   string       `json:"state"` // the latest status as of AsOf
	History []OrderEvent `json:"history"`
	// Carrier is the timeline of the number the order shipped with, as of AsOf.
	Carrier []Event        `json:"carrier_timeline"`
	Alerts  []alert.Listed `json:"alerts"`
	// Journey is the history and the carrier timeline merged in time order (Journey).
	Journey []Step `json:"journey"`
}

// TrackingView is everything known about a tracking number as of a moment.
type TrackingView struct {
	TrackingNumber string         `json:"tracking_number"`
	AsOf           time.Time      `json:"as_of"`
	Carrier        []Event        `json:"carrier_timeline"`
	Orders         []OrderEvent   `json:"orders"` // events of every order carrying the number
	Alerts         []alert.Listed `json:"alerts"`
}

// Order returns an order's history, its number's carrier timeline and its alerts, as
// of asOf.
func (r *Reader) Order(ctx context.Context, orderID string, asOf time.Time) (OrderView, error) {
	v := OrderView{OrderID: orderID, AsOf: asOf.UTC(), History: []OrderEvent{}, Carrier: []Event{}}
	at := clickhouse.Named("as_of", asOf.UTC())
	if err := r.Conn.Select(ctx, &v.History, r.sql("order_history_as_of"), clickhouse.Named("o", orderID), at); err != nil {
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
		if err := r.Conn.Select(ctx, &v.Carrier, r.sql("carrier_timeline_as_of"), clickhouse.Named("tn", tn), at); err != nil {
			return v, fmt.Errorf("carrier timeline: %w", err)
		}
	}
	v.Journey = Journey(v.History, v.Carrier)
	p, err := r.alerts().Query(ctx, alert.Query{OrderID: orderID, Sort: "recency", Limit: 100})
	v.Alerts = p.Alerts
	return v, err
}

// Tracking returns a number's carrier timeline, the orders carrying it and its alerts,
// as of asOf.
func (r *Reader) Tracking(ctx context.Context, number string, asOf time.Time) (TrackingView, error) {
	number = strings.ToUpper(strings.NewReplacer(" ", "", "-", "").Replace(strings.TrimSpace(number)))
	v := TrackingView{TrackingNumber: number, AsOf: asOf.UTC(), Carrier: []Event{}, Orders: []OrderEvent{}}
	args := []any{clickhouse.Named("tn", number), clickhouse.Named("as_of", asOf.UTC())}
	if err := r.Conn.Select(ctx, &v.Carrier, r.sql("carrier_timeline_as_of"), args...); err != nil {
		return v, fmt.Errorf("carrier timeline: %w", err)
	}
	if err := r.Conn.Select(ctx, &v.Orders, r.sql("orders_of_number_as_of"), args...); err != nil {
		return v, fmt.Errorf("orders: %w", err)
	}
	if len(v.Carrier) == 0 && len(v.Orders) == 0 {
		return v, ErrUnknown
	}
	p, err := r.alerts().Query(ctx, alert.Query{TrackingNumber: number, Sort: "recency", Limit: 100})
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

// Sellers returns the figures of one seller (sellerID) or of every seller, sorted by
// sort: "vtr" (lowest valid tracking rate first), "money" (most at stake first) or
// "alerts" (most firing first); at most limit sellers.
func (r *Reader) Sellers(ctx context.Context, sellerID string, w SellerWindow, sort string, limit int) ([]SellerStats, error) {
	if w.ScanDays == 0 {
		w.ScanDays = 5
	}
	if !slices.Contains(sellerSorts, sort) {
		return nil, fmt.Errorf("%w: sort %q is not vtr, money or alerts", alert.ErrBadQuery, sort)
	}
	if limit < 1 || limit > 1000 {
		return nil, fmt.Errorf("%w: limit %d is out of range 1..1000", alert.ErrBadQuery, limit)
	}
	args := []any{clickhouse.Named("seller", sellerID), clickhouse.Named("from", w.From.UTC()), clickhouse.Named("to", w.To.UTC()),
		clickhouse.Named("scan_days", uint16(w.ScanDays)), clickhouse.Named("limit", uint32(limit))}
	if sellerID != "" {
		return r.seller(ctx, sellerID, args)
	}
	var out []SellerStats
	if err := r.Conn.Select(ctx, &out, statements.Text("sellers", sqlfile.DB(r.DB).With("Sort", sort)), args...); err != nil {
		return nil, fmt.Errorf("seller figures: %w", err)
	}
	return out, nil
}

// sellerSorts are Sellers' orders; the statement sellers (sql/sellers.sql) has the
// columns each sorts by.
var sellerSorts = []string{"vtr", "money", "alerts"}

// seller is Sellers for one seller: its shipped orders once, totals and weeks counted
// here, and its alerts.
func (r *Reader) seller(ctx context.Context, sellerID string, args []any) ([]SellerStats, error) {
	var orders []struct {
		ShippedAt time.Time `ch:"shipped_at"`
		Valid     bool      `ch:"valid"`
	}
	if err := r.Conn.Select(ctx, &orders, r.sql("seller_orders"), args...); err != nil {
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
	if err := r.Conn.Select(ctx, &al, r.sql("seller_alerts"), args...); err != nil {
		return nil, fmt.Errorf("seller alerts: %w", err)
	}
	for _, a := range al {
		if a.Outcome == string(alert.OutcomeConfirmedFake) {
			st.Confirmed++
		}
		if a.Status != string(alert.StatusFiring) {
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
