package backtest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/trackwatch/trackwatch/backtest"
	"github.com/trackwatch/trackwatch/detect"
	"github.com/trackwatch/trackwatch/detect/detecttest"
	"github.com/trackwatch/trackwatch/store"
)

// Every seller flagged at a step is in the backtest's history: a seller's alert has no
// order and no number, so the history tells two sellers' rows apart by seller and
// marketplace (two sellers on one marketplace, and one seller on two).
func TestABacktestKeepsEverySellerFlaggedAtAStep(t *testing.T) {
	const db = "bt_sellers"
	w := detecttest.NewWorld(t, db)
	var orders []string
	for _, s := range []struct{ seller, market string }{{"sa", "aliexpress"}, {"sb", "aliexpress"}, {"sa", "amazon"}} {
		for i := range 25 { // 25 orders shipped October 1-20, none ever scanned: a rate of 0
			d := 1 + i%20
			id := fmt.Sprintf("%s-%s-%02d", s.seller, s.market, i)
			orders = append(orders, fmt.Sprintf(`{"event_id":"%s-s","order_id":"%s","seller_id":"%s","buyer_id":"b-%s","status":"shipped","marketplace":"%s","occurred_at":"%s","tracking_number":"LP%s%04d","carrier":"cainiao"}`,
				id, id, s.seller, id, s.market, oct(d, 10), fmt.Sprintf("%X", len(orders)), i))
		}
	}
	w.Orders(orders...)
	r := &backtest.Runner{Conn: w.Pooled(), Database: db, Session: func(ctx context.Context) (driver.Conn, error) {
		return store.OpenSession(ctx, detecttest.StoreConfig, w.Addr)
	}}
	res, err := r.Run(t.Context(), backtest.Options{From: detecttest.AsOf(28), To: detecttest.AsOf(30), Step: 24 * time.Hour,
		Detectors: []string{detect.SellerValidTrackingRate}})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := r.Report(t.Context(), res.ID)
	if err != nil || len(rep.Detectors) != 1 {
		t.Fatalf("report %+v, %v", rep, err)
	}
	if d := rep.Detectors[0]; d.MinPerStep != 3 || d.MaxPerStep != 3 || d.Orders != 3 {
		t.Errorf("sellers flagged per step %d..%d, %d in all; want 3 at every step", d.MinPerStep, d.MaxPerStep, d.Orders)
	}
}
