package detect

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// TickClaims lets several schedulers on one ClickHouse run each tick once. Every
// instance whose schedule fires inserts its claim on the tick into detect_ticks under
// the tick's deduplication token: the server stores the first claim and drops the
// others (the check and the insert are one step, under the table's deduplication log,
// or in Keeper on a replicated table), so when an instance's insert returns, the one
// stored claim is there for it to read, and every instance reads the same. (Ordering
// claims by a timestamp would not do: an insert that started first can become visible
// after a later one has already been read alone.) A busy instance skips its tick
// without claiming it (SkipIfStillRunning), leaving it to the others.
type TickClaims struct {
	conn     driver.Conn
	db       string
	instance string
}

// NewTickClaims returns the claims of instance in database db.
func NewTickClaims(conn driver.Conn, db, instance string) *TickClaims {
	return &TickClaims{conn: conn, db: db, instance: instance}
}

// Claim claims the tick of schedule and reports whether this instance runs it, and
// which instance does.
func (c *TickClaims) Claim(ctx context.Context, schedule string, tick time.Time) (won bool, winner string, err error) {
	args := []any{clickhouse.Named("schedule", schedule), clickhouse.Named("tick", tick.UTC()), clickhouse.Named("instance", c.instance)}
	token := "tick:" + schedule + ":" + tick.UTC().Format(time.RFC3339Nano)
	dctx := clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"insert_deduplicate": 1, "insert_deduplication_token": token}))
	if err := c.conn.Exec(dctx, statements.In(c.db, "claim_tick"), args...); err != nil {
		return false, "", fmt.Errorf("claim tick: %w", err)
	}
	// One claim is stored; should a claim ever outlive the deduplication window and be
	// stored twice, the earliest still names one winner for everyone who reads both.
	if err := c.conn.QueryRow(ctx, statements.In(c.db, "tick_winner"), args...).Scan(&winner); err != nil {
		return false, "", fmt.Errorf("read tick claims: %w", err)
	}
	return winner == c.instance, winner, nil
}
