package backtest

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// EndedBadly are the order statuses that mean the buyer lost or had to fight for the
// money: a backtest measures how early the detectors flagged such orders.
var EndedBadly = []string{"disputed", "refunded", "cancelled"}

// LaterDisputeOrRefund are the order statuses that, after an order was first flagged,
// show the buyer went on to dispute or get money back: for cancel_dodged, the first
// field evidence that the signal works.
var LaterDisputeOrRefund = []string{"disputed", "dispute_escalated", "refund_approved", "refund_completed", "refunded"}

// DetectorReport is one detector's part of a backtest.
type DetectorReport struct {
	Detector string `ch:"detector" json:"detector"`
	// Alerts per step: the least, the median and the most.
	MinPerStep    uint64  `ch:"min_per_step" json:"min_per_step"`
	MedianPerStep float64 `ch:"median_per_step" json:"median_per_step"`
	MaxPerStep    uint64  `ch:"max_per_step" json:"max_per_step"`
	// Orders flagged at any step; for the sellers' detector (alerts without an order),
	// the sellers flagged.
	Orders uint64 `ch:"orders" json:"orders"`
	// EndedBadly: flagged orders that had a dispute, refund or cancellation in the
	// stored history; their lead time is the days from the first alert to the
	// protection deadline (negative: flagged after it ended).
	EndedBadly      uint64   `ch:"ended_badly" json:"ended_badly"`
	MedianLeadDays  *float64 `ch:"median_lead_days" json:"median_lead_days"`
	P10LeadDays     *float64 `ch:"p10_lead_days" json:"p10_lead_days"`
	AfterProtection uint64   `ch:"after_protection" json:"flagged_after_protection_ended"`
	// LaterDisputeOrRefund: flagged orders with a dispute or a refund
	// (LaterDisputeOrRefund) that occurred after their first alert.
	LaterDisputeOrRefund uint64 `ch:"later_dispute_or_refund" json:"later_dispute_or_refund"`
}

// StepCount is how many alerts a detector raised as of one step.
type StepCount struct {
	AsOf     time.Time `ch:"as_of" json:"as_of"`
	Detector string    `ch:"detector" json:"detector"`
	Alerts   uint64    `ch:"alerts" json:"alerts"`
}

// FirstAlert is when a detector first flagged an order in a backtest.
type FirstAlert struct {
	Detector         string     `ch:"detector" json:"detector"`
	OrderID          string     `ch:"order_id" json:"order_id"`
	FirstAt          time.Time  `ch:"first_at" json:"first_at"`
	ProtectionEndsAt *time.Time `ch:"protection_ends_at" json:"protection_ends_at"`
}

// Report is a backtest's outcome.
type Report struct {
	ID        string           `json:"backtest_id"`
	Detectors []DetectorReport `json:"detectors"`
	PerStep   []StepCount      `json:"per_step"`
}

// Report reads the report of backtest id.
func (r *Runner) Report(ctx context.Context, id string) (Report, error) {
	rep := Report{ID: id}
	steps := statements.In(r.Database, "per_step")
	if err := r.Conn.Select(ctx, &rep.PerStep, steps, clickhouse.Named("id", id)); err != nil {
		return rep, fmt.Errorf("backtest report: alerts per step: %w", err)
	}
	q := statements.In(r.Database, "report")
	if err := r.Conn.Select(ctx, &rep.Detectors, q, clickhouse.Named("id", id), clickhouse.Named("bad", EndedBadly),
		clickhouse.Named("later", LaterDisputeOrRefund)); err != nil {
		return rep, fmt.Errorf("backtest report: %w", err)
	}
	return rep, nil
}

// FirstAlerts returns, per detector and order, the step of the first alert.
func (r *Runner) FirstAlerts(ctx context.Context, id string) ([]FirstAlert, error) {
	var out []FirstAlert
	err := r.Conn.Select(ctx, &out, statements.In(r.Database, "first_alerts"), clickhouse.Named("id", id))
	if err != nil {
		return nil, fmt.Errorf("backtest first alerts: %w", err)
	}
	return out, nil
}
