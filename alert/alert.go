// Package alert owns trackwatch's alerts: the model people and integrations see, and the
// Store that records a detector run's findings as alerts (firing, resolved, re-fired),
// writes each change of state to a durable change log that notifications are delivered
// from (package alert/notify), and reads alerts and their cases back for the CLI and
// dashboards. A case holds every alert of one order (of one seller for alerts without an
// order): computed from the alerts when read (casework.go), its actions recorded on each
// of its alerts. The workspace's reads of the event tables (timelines, orders, sellers) are
// package lookup's, which shows alerts beside them through this package.
//
// The dependency goes one way: detect evaluates and knows nothing of alerts; alert reads
// a detector run's findings inside ClickHouse (a detect.Consumer).
package alert

import (
	"fmt"
	"time"

	"github.com/trackwatch/trackwatch/detect"
)

// Status is where an alert is in its life.
type Status string

// Statuses.
const (
	// StatusFiring: the detector's condition holds as of the latest run.
	StatusFiring Status = "firing"
	// StatusResolved: a later run no longer found the condition (the parcel moved, the
	// order completed, ...). A resolved alert fires again if the condition returns.
	StatusResolved Status = "resolved"
)

// Severity and Recommendation are the detectors' own (package detect).
type (
	Severity       = detect.Severity
	Recommendation = detect.Recommendation
)

// Alert is one alert: a detector's finding on one order and tracking number (or, for
// seller_valid_tracking_rate, on one seller of a marketplace: no order, no number),
// with its life cycle. Evidence (in the embedded Finding) is a JSON object.
type Alert struct {
	// AlertID is derived from (detector, order, tracking number), or (detector, seller,
	// marketplace) for a seller's alert: every run and every instance names the same
	// condition the same way.
	AlertID        string `ch:"alert_id" json:"alert_id"`
	detect.Finding        // with the detector's name
	// FirstDetectedAt starts the current firing episode; LastDetectedAt is the latest
	// run that found it.
	FirstDetectedAt time.Time  `ch:"first_detected_at" json:"first_detected_at"`
	LastDetectedAt  time.Time  `ch:"last_detected_at" json:"last_detected_at"`
	Status          Status     `ch:"status" json:"status"`
	ResolvedAt      *time.Time `ch:"resolved_at" json:"resolved_at"`
	// AsOf is the moment of the run that wrote this state: the latest as-of wins.
	AsOf time.Time `ch:"as_of" json:"as_of"`
}

// Subject names what the alert is about, for a message's one line: "order O (tracking
// T)", or "seller S on M" for a seller's alert (no order).
func (a Alert) Subject() string {
	if a.OrderID == "" {
		return fmt.Sprintf("seller %s on %s", a.SellerID, a.Marketplace)
	}
	return fmt.Sprintf("order %s (tracking %s)", a.OrderID, a.TrackingNumber)
}

// ChangeKind says how a run changed an alert.
type ChangeKind string

// Change kinds.
const (
	ChangeFired    ChangeKind = "fired"    // firing for the first time
	ChangeRefired  ChangeKind = "refired"  // firing again after it had resolved
	ChangeResolved ChangeKind = "resolved" // no longer found
)

// Change is one change of an alert's state, as the change log (the table
// alert_changes, the notifications' outbox) keeps it: the alert as it was right after
// the change.
type Change struct {
	// ChangeID is sipHash128(alert_id, kind, as_of) in hex: the same change computed twice
	// (two instances, a run repeated after a crash) has one id. Notifications carry it
	// as their idempotency key.
	ChangeID string     `ch:"change_id" json:"change_id"`
	Kind     ChangeKind `ch:"kind" json:"kind"`
	Alert
	// CreatedAt is when the change was written to the log.
	CreatedAt time.Time `ch:"created_at" json:"created_at"`
}

// Scan reads a status from a ClickHouse String column.
func (s *Status) Scan(src any) error { return scanString(s, src) }

// Scan reads a change kind from a ClickHouse String column.
func (k *ChangeKind) Scan(src any) error { return scanString(k, src) }

// scanString is sql.Scanner for string types: clickhouse-go scans a String column into
// *string or a Scanner, not into other string types.
func scanString[T ~string](dst *T, src any) error {
	switch v := src.(type) {
	case string:
		*dst = T(v)
	case []byte:
		*dst = T(v)
	default:
		return fmt.Errorf("cannot scan %T into %T", src, dst)
	}
	return nil
}
