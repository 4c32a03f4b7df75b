package lookup

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// Step is one moment of an order's journey as the workspace shows it: an order event
// (placed, paid, a cancellation request, the shipment, dispute milestones, a refund) or
// a carrier event of its number, in time order.
type Step struct {
	At time.Time `json:"at"`
	// Kind is "order" or "carrier"; Phase groups the order's steps: order, cancellation,
	// shipment, carrier, dispute, refund, outcome.
	Kind  string `json:"kind"`
	Phase string `json:"phase"`
	// What happened: the order status or the carrier's sub-status, and the details
	// (tracking number, payment method, refund amount, reason, carrier words, place).
	What   string `json:"what"`
	Detail string `json:"detail"`
	// Physical: a carrier event that is a physical scan.
	Physical bool `json:"physical"`
}

// phases name the part of the journey each order status belongs to.
var phases = map[string]string{
	"placed": "order", "paid": "order", "awaiting_shipment": "order",
	"cancel_requested": "cancellation", "cancel_rejected": "cancellation", "cancelled": "cancellation",
	"shipped": "shipment", "delivered": "outcome", "confirmed": "outcome", "completed": "outcome",
	"disputed": "dispute", "dispute_responded": "dispute", "dispute_escalated": "dispute",
	"refund_approved": "refund", "refund_completed": "refund", "refunded": "refund",
}

// Journey merges an order's history and its number's carrier timeline into one list of
// steps in time order (an order event first between events at the same moment).
func Journey(order []OrderEvent, carrier []Event) []Step {
	out := make([]Step, 0, len(order)+len(carrier))
	for _, e := range order {
		detail := ""
		add := func(s string) {
			if s == "" {
				return
			}
			if detail != "" {
				detail += " · "
			}
			detail += s
		}
		if e.TrackingNumber != "" {
			add(e.TrackingNumber + " (" + e.Carrier + ")")
		}
		if e.PaymentMethod != "" {
			add("paid by " + e.PaymentMethod)
		}
		if e.RefundAmount != "" {
			add("amount " + e.RefundAmount)
		}
		if e.Reason != "" {
			add(fmt.Sprintf("%q", e.Reason))
		}
		phase := phases[e.Status]
		if phase == "" {
			phase = "order"
		}
		out = append(out, Step{At: e.At, Kind: "order", Phase: phase, What: e.Status, Detail: detail})
	}
	for _, e := range carrier {
		detail := e.RawStatus
		if e.City != "" || e.Country != "" {
			detail += " · " + e.City + " " + e.Country
		}
		out = append(out, Step{At: e.At, Kind: "carrier", Phase: "carrier", What: e.SubStatus, Detail: detail, Physical: e.Physical == 1})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].At.Equal(out[j].At) {
			return out[i].At.Before(out[j].At)
		}
		return out[i].Kind == "order" && out[j].Kind != "order"
	})
	return out
}

// JourneyStats are the stats page's figures of the buyer's journey over a recent period:
// how long refunds take by payment method, and how many disputes stall.
type JourneyStats struct {
	Since    time.Time         `json:"since"`
	Refunds  []RefundTimes     `json:"refunds_by_payment_method"`
	Disputes DisputeStallShare `json:"disputes"`
}

// RefundTimes is one payment method's refunds: how many became due, how many were
// completed, and the days from due to completed (quartiles and the 90th percentile;
// nil when none was completed).
type RefundTimes struct {
	Method    string   `ch:"payment_method" json:"payment_method"`
	Due       uint64   `ch:"due" json:"due"`
	Completed uint64   `ch:"completed" json:"completed"`
	P25       *float64 `ch:"p25_days" json:"p25_days"`
	Median    *float64 `ch:"median_days" json:"median_days"`
	P75       *float64 `ch:"p75_days" json:"p75_days"`
	P90       *float64 `ch:"p90_days" json:"p90_days"`
}

// DisputeStallShare counts the disputes opened at least AnswerDays ago and those of them
// that stalled: no answer, escalation or outcome within AnswerDays.
type DisputeStallShare struct {
	AnswerDays int     `json:"answer_days"`
	Opened     uint64  `ch:"opened" json:"opened"`
	Stalled    uint64  `ch:"stalled" json:"stalled"`
	Share      float64 `json:"stalled_share"`
}

// JourneyStats reads the journey's figures of the orders with events in the 90 days
// before now; a dispute stalls when nothing answers it within answerDays.
func (r *Reader) JourneyStats(ctx context.Context, now time.Time, answerDays int) (JourneyStats, error) {
	st := JourneyStats{Since: now.UTC().AddDate(0, 0, -90), Refunds: []RefundTimes{}, Disputes: DisputeStallShare{AnswerDays: answerDays}}
	args := []any{clickhouse.Named("since", st.Since), clickhouse.Named("now", now.UTC()), clickhouse.Named("answer_days", uint16(answerDays))}
	if err := r.Conn.Select(ctx, &st.Refunds, r.sql("refund_times"), args...); err != nil {
		return st, fmt.Errorf("refund times: %w", err)
	}
	var d []DisputeStallShare
	if err := r.Conn.Select(ctx, &d, r.sql("dispute_stalls"), args...); err != nil {
		return st, fmt.Errorf("dispute stalls: %w", err)
	}
	if len(d) == 1 {
		st.Disputes.Opened, st.Disputes.Stalled = d[0].Opened, d[0].Stalled
	}
	if st.Disputes.Opened > 0 {
		st.Disputes.Share = float64(st.Disputes.Stalled) / float64(st.Disputes.Opened)
	}
	return st, nil
}
