package notify

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Notification is the delivery state of one change for one receiver: its latest
// attempt, for `trackwatch notifications list`.
type Notification struct {
	Receiver       string     `ch:"receiver" json:"receiver"`
	ChangeID       string     `ch:"change_id" json:"change_id"`
	Kind           string     `ch:"kind" json:"kind"`
	AlertID        string     `ch:"alert_id" json:"alert_id"`
	Detector       string     `ch:"detector" json:"detector"`
	OrderID        string     `ch:"order_id" json:"order_id"`
	TrackingNumber string     `ch:"tracking_number" json:"tracking_number"`
	Attempts       uint32     `ch:"attempts" json:"attempts"`
	Outcome        string     `ch:"outcome" json:"outcome"`
	StatusCode     uint16     `ch:"status_code" json:"status_code"`
	Error          string     `ch:"error" json:"error"`
	MessageID      string     `ch:"message_id" json:"message_id"`
	LastAttemptAt  time.Time  `ch:"last_attempt_at" json:"last_attempt_at"`
	NextAttemptAt  *time.Time `ch:"next_attempt_at" json:"next_attempt_at"`
	CreatedAt      time.Time  `ch:"created_at" json:"created_at"`
}

// ListFilter selects notifications; zero fields select everything.
type ListFilter struct {
	Receiver string
	// Failed selects changes whose latest attempt did not deliver (retrying, failed
	// for good, or held by a gone receiver).
	Failed bool
	Limit  int // default 100
}

// List returns the latest attempt of each (receiver, change), newest first.
func List(ctx context.Context, conn driver.Conn, db string, f ListFilter) ([]Notification, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	q := strings.ReplaceAll(`
SELECT s.receiver AS receiver, s.change_id AS change_id, c.kind AS kind, c.alert_id AS alert_id, c.detector AS detector,
    c.order_id AS order_id, c.tracking_number AS tracking_number, s.attempts AS attempts, s.outcome AS outcome,
    s.status_code AS status_code, s.error AS error, s.message_id AS message_id, s.last_attempt_at AS last_attempt_at,
    s.next_attempt_at AS next_attempt_at, c.created_at AS created_at
FROM (
    SELECT receiver, change_id, max(attempt) AS attempts, argMax(outcome, attempt) AS outcome, argMax(status_code, attempt) AS status_code,
        argMax(error, attempt) AS error, argMax(message_id, attempt) AS message_id, max(attempted_at) AS last_attempt_at,
        argMax(next_attempt_at, attempt) AS next_attempt_at
    FROM $db.notify_attempts FINAL
    WHERE {receiver:String} = '' OR receiver = {receiver:String}
    GROUP BY receiver, change_id
) AS s
INNER JOIN (SELECT change_id, kind, alert_id, detector, order_id, tracking_number, created_at FROM $db.alert_changes FINAL) AS c
    ON c.change_id = s.change_id
WHERE NOT {failed:Bool} OR s.outcome IN ('retry', 'failed', 'gone')
ORDER BY last_attempt_at DESC, change_id
LIMIT {limit:UInt32}`, "$db", "`"+db+"`")
	var out []Notification
	if err := conn.Select(ctx, &out, q, clickhouse.Named("receiver", f.Receiver), clickhouse.Named("failed", f.Failed),
		clickhouse.Named("limit", uint32(f.Limit))); err != nil {
		return nil, fmt.Errorf("list notifications: %w", err)
	}
	return out, nil
}

// Replay makes the changes logged in [since, until) that were sent (or tried) to
// receiver due again, whatever their outcome: they are delivered again with the same
// webhook-id, and max_age counts from now. It returns how many changes it replayed;
// dryRun counts without replaying.
func Replay(ctx context.Context, conn driver.Conn, db, receiver string, since, until, now time.Time, dryRun bool) (int, error) {
	from := strings.ReplaceAll(`FROM $db.notify_attempts
WHERE receiver = {receiver:String}
  AND change_id IN (SELECT change_id FROM $db.alert_changes WHERE created_at >= {since:DateTime64(3, 'UTC')} AND created_at < {until:DateTime64(3, 'UTC')})
GROUP BY change_id`, "$db", "`"+db+"`")
	args := []any{clickhouse.Named("receiver", receiver), clickhouse.Named("since", since.UTC()), clickhouse.Named("until", until.UTC()),
		clickhouse.Named("now", now.UTC()), clickhouse.Named("instance", "replay")}
	var n uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM (SELECT change_id "+from+")", args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("replay: %w", err)
	}
	if dryRun || n == 0 {
		return int(n), nil
	}
	if err := conn.Exec(ctx, "INSERT INTO `"+db+"`.notify_attempts (receiver, change_id, attempt, outcome, instance, attempted_at, next_attempt_at)\n"+
		"SELECT {receiver:String}, change_id, max(attempt) + 1, 'replay', {instance:String}, {now:DateTime64(3, 'UTC')}, {now:DateTime64(3, 'UTC')}\n"+from, args...); err != nil {
		return 0, fmt.Errorf("replay: %w", err)
	}
	return int(n), nil
}

// ReceiverStatus is a receiver's state and delivery counts, for `trackwatch receivers`.
type ReceiverStatus struct {
	Name            string     `ch:"receiver" json:"name"`
	Disabled        bool       `json:"disabled"`
	Reason          string     `json:"reason,omitempty"`
	Delivered       uint64     `ch:"delivered" json:"delivered"`
	Retrying        uint64     `ch:"retrying" json:"retrying"`
	Failed          uint64     `ch:"failed" json:"failed"`
	LastDeliveredAt *time.Time `ch:"last_delivered_at" json:"last_delivered_at"`
}

// Statuses returns the state of the named receivers (in that order).
func Statuses(ctx context.Context, conn driver.Conn, db string, names []string) ([]ReceiverStatus, error) {
	var counts []ReceiverStatus
	q := strings.ReplaceAll(`
SELECT receiver, countIf(outcome = 'delivered') AS delivered, countIf(outcome = 'retry') AS retrying,
    countIf(outcome IN ('failed', 'gone')) AS failed, maxIf(last_at, outcome = 'delivered') AS last_delivered_at
FROM (
    SELECT receiver, change_id, argMax(outcome, attempt) AS outcome, max(attempted_at) AS last_at
    FROM $db.notify_attempts FINAL WHERE has({names:Array(String)}, receiver) GROUP BY receiver, change_id
)
GROUP BY receiver`, "$db", "`"+db+"`")
	if err := conn.Select(ctx, &counts, q, clickhouse.Named("names", names)); err != nil {
		return nil, fmt.Errorf("receiver statuses: %w", err)
	}
	var states []struct {
		Receiver string `ch:"receiver"`
		Disabled uint8  `ch:"disabled"`
		Reason   string `ch:"reason"`
	}
	if err := conn.Select(ctx, &states, "SELECT receiver, disabled, reason FROM `"+db+"`.notify_receivers FINAL WHERE has({names:Array(String)}, receiver)",
		clickhouse.Named("names", names)); err != nil {
		return nil, fmt.Errorf("receiver statuses: %w", err)
	}
	out := make([]ReceiverStatus, len(names))
	for i, n := range names {
		out[i].Name = n
		for _, c := range counts {
			if c.Name == n {
				out[i] = c
				if c.LastDeliveredAt != nil && c.LastDeliveredAt.Unix() <= 0 {
					out[i].LastDeliveredAt = nil
				}
			}
		}
		for _, s := range states {
			if s.Receiver == n && s.Disabled == 1 {
				out[i].Disabled, out[i].Reason = true, s.Reason
			}
		}
	}
	return out, nil
}
