package lookup

import (
	"context"
	"fmt"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/trackwatch/trackwatch/alert"
)

// CaseView is everything the workspace shows for one case: the case in full (its
// alerts, actions, dispute text and linked cases) with its order's history, the carrier
// timeline of each of its numbers, and the journey they make. A seller's case (alerts
// without an order) has no history and no timeline.
type CaseView struct {
	alert.CaseDetail
	Order   []OrderEvent `json:"order_history"`
	Carrier []Event      `json:"carrier_timeline"`
	Journey []Step       `json:"journey"`
}

// Case returns a case with its order's history and its numbers' carrier timelines, or
// alert.ErrNotFound.
func (r *Reader) Case(ctx context.Context, caseID string) (CaseView, error) {
	d, err := r.alerts().GetCase(ctx, caseID)
	if err != nil {
		return CaseView{}, err
	}
	v := CaseView{CaseDetail: d, Order: []OrderEvent{}, Carrier: []Event{}}
	if d.OrderID != "" {
		if err := r.Conn.Select(ctx, &v.Order, r.sql("order_history"), clickhouse.Named("o", d.OrderID)); err != nil {
			return CaseView{}, fmt.Errorf("order history: %w", err)
		}
	}
	for _, tn := range d.TrackingNumbers {
		var evs []Event
		if err := r.Conn.Select(ctx, &evs, r.sql("carrier_timeline"), clickhouse.Named("tn", tn)); err != nil {
			return CaseView{}, fmt.Errorf("carrier timeline: %w", err)
		}
		v.Carrier = append(v.Carrier, evs...)
	}
	v.Journey = Journey(v.Order, v.Carrier)
	if v.Journey == nil {
		v.Journey = []Step{}
	}
	return v, nil
}
