package rebuild_test

import (
	"fmt"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/trackwatch/trackwatch/detect/detecttest"
	"github.com/trackwatch/trackwatch/ingest"
	"github.com/trackwatch/trackwatch/rebuild"
	"github.com/trackwatch/trackwatch/trackingnumber"
)

// Stored orders are judged again when the checker's version is not the latest run's:
// the first start over history, a new specification, other postal carriers, a rollback.
func TestNumbersAreJudgedAgainWhenTheirVersionChanges(t *testing.T) {
	w := detecttest.NewWorld(t, "nc")
	ctx := t.Context()
	var rows []ingest.OrderRow
	for i, n := range []struct{ number, carrier string }{
		{"1Z5R89390357567128", "ups"}, // a wrong check digit: invalid
		{"1Z5R89390357567127", "ups"}, // valid: nothing stored
		{"RR123456785CN", "ups"},      // China Post's: another courier's
	} {
		r, rej := ingest.DecodeOrder(fmt.Appendf(nil, `{"event_id":"e%d","order_id":"o%d","seller_id":"s","buyer_id":"b","status":"shipped","occurred_at":"2026-10-01T10:00:00Z","tracking_number":%q,"carrier":%q}`, i, i, n.number, n.carrier))
		if rej != nil {
			t.Fatal(rej)
		}
		rows = append(rows, r)
	}
	// stored without verdicts, as by a release before number_checks
	if err := ingest.InsertOrders(ctx, w.Conn, w.DB, rows, "order-events", 0, 0, "t1"); err != nil {
		t.Fatal(err)
	}
	stored := func(spec string) (all, ofSpec uint64) {
		t.Helper()
		if err := w.Conn.QueryRow(ctx, "SELECT count(), countIf(spec = {spec:String}) FROM nc.number_checks FINAL", clickhouse.Named("spec", spec)).Scan(&all, &ofSpec); err != nil {
			t.Fatal(err)
		}
		return all, ofSpec
	}
	c := detecttest.Numbers(t)
	other := c.WithPostal([]string{"my-post"})
	if c.Version() == other.Version() {
		t.Fatal("the postal carriers do not change the version")
	}
	for i, step := range []struct {
		what  string
		c     *trackingnumber.Checker
		pairs int
	}{
		{"the first start judges every stored pair", c, 3},
		{"a second start judges none", c, 0},
		{"other postal carriers judge every pair again", other, 3},
		{"a rollback to the earlier version judges again", c, 3},
	} {
		ch := step.c
		n, err := rebuild.Numbers(ctx, w.Conn, w.DB, ch)
		if err != nil {
			t.Fatal(err)
		}
		if n != step.pairs {
			t.Errorf("step %d, %s: %d pairs judged, want %d", i, step.what, n, step.pairs)
		}
		if all, of := stored(ch.Version()); all != 2 || of != 2 {
			t.Errorf("step %d, %s: %d verdicts stored, %d of the current version; want the 2 findings, current", i, step.what, all, of)
		}
	}
}
