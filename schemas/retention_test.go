package schemas_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/trackwatch/trackwatch/devstack/devstacktest"
	"github.com/trackwatch/trackwatch/schemas"
)

// The retention window becomes each table's TTL at start, unchanged windows change
// nothing, a changed one is applied without a migration, and a merge drops the events
// older than the window (and keeps the rest).
func TestRetentionIsATTLAppliedAtStart(t *testing.T) {
	ch := devstacktest.StartClickHouse(t, t.TempDir())
	ctx := context.Background()
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{ch.Addr()}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := schemas.Migrate(ctx, conn, schemas.DDLOptions{Database: "ret"}, time.Now); err != nil {
		t.Fatal(err)
	}
	all := []string{"tracking_events", "order_events", "carrier_months", "order_months"}
	for _, step := range []struct {
		r    schemas.Retention
		want []string
	}{
		{schemas.Retention{}, all}, // the defaults: 25 months
		{schemas.Retention{EventsMonths: 25, SummariesMonths: 25}, nil},
		{schemas.Retention{EventsMonths: 13, SummariesMonths: 25}, []string{"tracking_events", "order_events"}},
	} {
		changed, err := schemas.ApplyRetention(ctx, conn, schemas.DDLOptions{Database: "ret"}, step.r)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(changed, step.want) {
			t.Errorf("retention %+v changed %v, want %v", step.r, changed, step.want)
		}
	}
	now := time.Now().UTC()
	for _, at := range []time.Time{now.AddDate(0, -14, 0), now.AddDate(0, -11, 0), now.AddDate(0, 0, -1)} {
		if err := conn.Exec(ctx, "INSERT INTO ret.tracking_events (event_id, tracking_number, occurred_at) VALUES ({id:String}, 'LX1', {at:DateTime64(3, 'UTC')})",
			clickhouse.Named("id", at.Format(time.DateOnly)), clickhouse.Named("at", at)); err != nil {
			t.Fatal(err)
		}
	}
	if err := conn.Exec(ctx, "OPTIMIZE TABLE ret.tracking_events FINAL"); err != nil {
		t.Fatal(err)
	}
	var kept uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM ret.tracking_events").Scan(&kept); err != nil {
		t.Fatal(err)
	}
	if kept != 2 {
		t.Errorf("after a merge, %d of the 3 events are kept; want 2 (the one 14 months old is past 13 months)", kept)
	}
	if _, err := schemas.ApplyRetention(ctx, conn, schemas.DDLOptions{Database: "ret"}, schemas.Retention{EventsMonths: 26, SummariesMonths: 25}); err == nil {
		t.Error("summaries kept shorter than the events: no error")
	}
}
