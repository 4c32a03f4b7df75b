package notify

import (
	"context"
	"fmt"
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
	var out []Notification
	if err := conn.Select(ctx, &out, statements.In(db, "notifications"), clickhouse.Named("receiver", f.Receiver), clickhouse.Named("failed", f.Failed),
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
	args := []any{clickhouse.Named("receiver", receiver), clickhouse.Named("since", since.UTC()), clickhouse.Named("until", until.UTC()),
		clickhouse.Named("now", now.UTC()), clickhouse.Named("instance", "replay")}
	var n uint64
	if err := conn.QueryRow(ctx, statements.In(db, "replay_count"), args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("replay: %w", err)
	}
	if dryRun || n == 0 {
		return int(n), nil
	}
	if err := conn.Exec(ctx, statements.In(db, "replay"), args...); err != nil {
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
	if err := conn.Select(ctx, &counts, statements.In(db, "receiver_counts"), clickhouse.Named("names", names)); err != nil {
		return nil, fmt.Errorf("receiver statuses: %w", err)
	}
	var states []struct {
		Receiver string `ch:"receiver"`
		Disabled uint8  `ch:"disabled"`
		Reason   string `ch:"reason"`
	}
	if err := conn.Select(ctx, &states, statements.In(db, "receiver_states"),
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
