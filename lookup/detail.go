package lookup

import (
	"context"
	"fmt"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/trackwatch/trackwatch/alert"
)

// Detail is everything the workspace shows for one alert.
type Detail struct {
	alert.Listed
	Actions []alert.Action `json:"actions"`
	Carrier []Event        `json:"carrier_timeline"`
	Order   []OrderEvent   `json:"order_history"`
	// Sharing are the events of the other orders that carry the same tracking number.
	Sharing []OrderEvent `json:"orders_sharing_the_number"`
	// Journey is the order's history and the carrier timeline merged in time order:
	// the cancellation request, the shipment, the scans, the dispute, the refund.
	Journey []Step `json:"journey"`
}

// Detail returns an alert with its case history, its number's carrier timeline, its
// order's history and the other orders that carry its number.
func (r *Reader) Detail(ctx context.Context, alertID string) (Detail, error) {
	s := r.alerts()
	a, err := s.Get(ctx, alertID)
	if err != nil {
		return Detail{}, err
	}
	d := Detail{Listed: alert.Listed{Alert: a}, Actions: []alert.Action{}, Carrier: []Event{}, Order: []OrderEvent{}, Sharing: []OrderEvent{}}
	if d.Case, d.Actions, err = s.CaseOf(ctx, alertID); err != nil {
		return Detail{}, err
	}
	if d.Actions == nil {
		d.Actions = []alert.Action{}
	}
	tn := clickhouse.Named("tn", a.TrackingNumber)
	if err := r.Conn.Select(ctx, &d.Carrier, r.sql("carrier_timeline"), tn); err != nil {
		return Detail{}, fmt.Errorf("carrier timeline: %w", err)
	}
	if err := r.Conn.Select(ctx, &d.Order, r.sql("order_history"), clickhouse.Named("o", a.OrderID)); err != nil {
		return Detail{}, fmt.Errorf("order history: %w", err)
	}
	if a.TrackingNumber != "" {
		if err := r.Conn.Select(ctx, &d.Sharing, r.sql("orders_sharing"), tn, clickhouse.Named("o", a.OrderID)); err != nil {
			return Detail{}, fmt.Errorf("orders sharing the number: %w", err)
		}
	}
	d.Journey = Journey(d.Order, d.Carrier)
	return d, nil
}
