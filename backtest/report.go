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

// DetectorReport is one detector's part of a backtest.
type DetectorReport struct {
	Detector string `ch:"detector" json:"detector"`
	// Alerts per step: the least, the median and the most.
	MinPerStep    uint64  `ch:"min_per_step" json:"min_per_step"`
	MedianPerStep float64 `ch:"median_per_step" json:"median_per_step"`
	MaxPerStep    uint64  `ch:"max_per_step" json:"max_per_step"`
	// Orders flagged at any step.
	Orders uint64 `ch:"orders" json:"orders"`
	// EndedBadly: flagged orders that had a dispute, refund or cancellation in the
	// stored history; their lead time is the days from the first alert to the
	// protection deadline (negative: flagged after it ended).
	EndedBadly      uint64   `ch:"ended_badly" json:"ended_badly"`
	MedianLeadDays  *float64 `ch:"median_lead_days" json:"median_lead_days"`
	P10LeadDays     *float64 `ch:"p10_lead_days" json:"p10_lead_days"`
	AfterProtection uint64   `ch:"after_protection" json:"flagged_after_protection_ended"`
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
	db := "`" + r.Database + "`"
	rep := Report{ID: id}
	steps := "SELECT s.as_of AS as_of, d AS detector, countIf(h.order_id != '') AS alerts FROM " +
		"(SELECT arrayJoin(range(0, toUInt32(steps))) AS i, from_date + toIntervalSecond(i * step_seconds) AS as_of, detectors " +
		" FROM " + db + ".backtests FINAL WHERE backtest_id = {id:String}) AS s ARRAY JOIN s.detectors AS d " +
		"LEFT JOIN (SELECT as_of, detector, order_id FROM " + db + ".alert_history FINAL WHERE backtest_id = {id:String}) AS h " +
		"ON h.as_of = s.as_of AND h.detector = d GROUP BY as_of, detector ORDER BY as_of, detector"
	if err := r.Conn.Select(ctx, &rep.PerStep, steps, clickhouse.Named("id", id)); err != nil {
		return rep, fmt.Errorf("backtest report: alerts per step: %w", err)
	}
	q := `WITH per_step AS (` + steps + `),
first AS (
    SELECT detector, order_id, min(as_of) AS first_at, argMin(protection_ends_at, as_of) AS ends
    FROM ` + db + `.alert_history FINAL WHERE backtest_id = {id:String} GROUP BY detector, order_id
),
bad AS (SELECT DISTINCT order_id FROM ` + db + `.order_events WHERE status IN {bad:Array(String)}),
lead AS (
    SELECT f.detector AS detector, count() AS orders,
        countIf(f.order_id IN (SELECT order_id FROM bad)) AS ended_badly,
        quantileExactIf(0.5)(dateDiff('second', f.first_at, f.ends) / 86400, f.order_id IN (SELECT order_id FROM bad) AND f.ends IS NOT NULL) AS median_lead,
        quantileExactIf(0.1)(dateDiff('second', f.first_at, f.ends) / 86400, f.order_id IN (SELECT order_id FROM bad) AND f.ends IS NOT NULL) AS p10_lead,
        countIf(f.order_id IN (SELECT order_id FROM bad) AND f.ends IS NOT NULL AND f.first_at > f.ends) AS after_protection,
        countIf(f.order_id IN (SELECT order_id FROM bad) AND f.ends IS NOT NULL) AS with_deadline
    FROM first AS f GROUP BY f.detector
)
SELECT p.detector AS detector, min(p.alerts) AS min_per_step, median(p.alerts) AS median_per_step, max(p.alerts) AS max_per_step,
    any(l.orders) AS orders, any(l.ended_badly) AS ended_badly,
    if(any(l.with_deadline) > 0, any(l.median_lead), NULL) AS median_lead_days,
    if(any(l.with_deadline) > 0, any(l.p10_lead), NULL) AS p10_lead_days,
    any(l.after_protection) AS after_protection
FROM per_step AS p LEFT JOIN lead AS l ON l.detector = p.detector
GROUP BY p.detector ORDER BY p.detector`
	if err := r.Conn.Select(ctx, &rep.Detectors, q, clickhouse.Named("id", id), clickhouse.Named("bad", EndedBadly)); err != nil {
		return rep, fmt.Errorf("backtest report: %w", err)
	}
	return rep, nil
}

// FirstAlerts returns, per detector and order, the step of the first alert.
func (r *Runner) FirstAlerts(ctx context.Context, id string) ([]FirstAlert, error) {
	var out []FirstAlert
	err := r.Conn.Select(ctx, &out, "SELECT detector, order_id, min(as_of) AS first_at, argMin(protection_ends_at, as_of) AS protection_ends_at "+
		"FROM `"+r.Database+"`.alert_history FINAL WHERE backtest_id = {id:String} GROUP BY detector, order_id ORDER BY detector, order_id",
		clickhouse.Named("id", id))
	if err != nil {
		return nil, fmt.Errorf("backtest first alerts: %w", err)
	}
	return out, nil
}
