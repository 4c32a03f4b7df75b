// Package alert provides trackwatch's alerts as people and integrations see them: the
// alerts table that detectors write (read here for the CLI and dashboards), and, later,
// the notifiers that deliver them.
package alert

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/trackwatch/trackwatch/detect"
)

// Alert is one alert: a detector's finding on one order and tracking number, with
// its life cycle.
type Alert struct {
	AlertID         string     `ch:"alert_id" json:"alert_id"`
	detect.Finding             // with the detector's name
	FirstDetectedAt time.Time  `ch:"first_detected_at" json:"first_detected_at"`
	LastDetectedAt  time.Time  `ch:"last_detected_at" json:"last_detected_at"`
	Status          string     `ch:"status" json:"status"`
	ResolvedAt      *time.Time `ch:"resolved_at" json:"resolved_at"`
}

// Filter selects alerts; zero fields select everything.
type Filter struct {
	Detector string
	Status   string // firing or resolved
	Limit    int    // default 100
}

// List returns alerts matching f, most recently detected first.
func List(ctx context.Context, conn driver.Conn, db string, f Filter) ([]Alert, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	q := "SELECT alert_id, detector, order_id, tracking_number, seller_id, buyer_id, marketplace, severity, recommendation, reason, evidence, " +
		"protection_ends_at, amount, first_detected_at, last_detected_at, status, resolved_at FROM `" + db + "`.alerts FINAL " +
		"WHERE ({detector:String} = '' OR detector = {detector:String}) AND ({status:String} = '' OR status = {status:String}) " +
		"ORDER BY last_detected_at DESC, alert_id LIMIT {limit:UInt32}"
	var out []Alert
	if err := conn.Select(ctx, &out, q, clickhouse.Named("detector", f.Detector), clickhouse.Named("status", f.Status), clickhouse.Named("limit", uint32(f.Limit))); err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	return out, nil
}
