package backtest_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"syscall"
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

// A step that fails for a passing reason (here the server refusing connections, as one
// restarting does) is tried again, and the backtest completes with the same history; a
// step that fails for good fails the backtest at once.
func TestAStepIsTriedAgainWhenTheServerIsAway(t *testing.T) {
	const db = "bt_retry"
	w := detecttest.NewWorld(t, db)
	w.Orders(`{"event_id":"r-s","order_id":"r","seller_id":"s1","buyer_id":"b-r","status":"shipped","marketplace":"aliexpress","occurred_at":"` + oct(1, 10) + `","tracking_number":"RR123456785CN","carrier":"china-post"}`)
	o := backtest.Options{From: detecttest.AsOf(20), To: detecttest.AsOf(22), Step: 24 * time.Hour, Parallel: 1, Detectors: []string{"never_scanned"}}
	runWith := func(fail func(n int) error) (backtest.Result, []backtest.DetectorReport, int, error) {
		var mu sync.Mutex
		opened := 0
		r := &backtest.Runner{Conn: w.Pooled(), Database: db, RetryDelay: time.Millisecond, Session: func(ctx context.Context) (driver.Conn, error) {
			mu.Lock()
			opened++
			n := opened
			mu.Unlock()
			if err := fail(n); err != nil {
				return nil, err
			}
			return store.OpenSession(ctx, detecttest.StoreConfig, w.Addr)
		}}
		res, err := r.Run(t.Context(), o)
		if err != nil {
			return res, nil, opened, err
		}
		rep, err := r.Report(t.Context(), res.ID)
		return res, rep.Detectors, opened, err
	}
	_, want, _, err := runWith(func(int) error { return nil })
	if err != nil || len(want) != 1 || want[0].MinPerStep != 1 {
		t.Fatalf("without failures: %+v, %v", want, err)
	}
	// the first step's first two sessions are refused
	res, got, opened, err := runWith(func(n int) error {
		if n <= 2 {
			return fmt.Errorf("dial: %w", syscall.ECONNREFUSED)
		}
		return nil
	})
	if err != nil || res.Steps != 3 || opened != 5 || !reflect.DeepEqual(got, want) {
		t.Errorf("with two refused sessions: %+v after %d sessions (%v); want %+v after 5", got, opened, err, want)
	}
	// a failure that is not a passing one ends the backtest at the first attempt
	_, _, opened, err = runWith(func(int) error { return errors.New("bad credentials") })
	if err == nil || !strings.Contains(err.Error(), "bad credentials") || opened != 1 {
		t.Errorf("a lasting failure: %v after %d sessions, want the error after 1", err, opened)
	}
}
