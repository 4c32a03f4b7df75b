package detect_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/trackwatch/trackwatch/detect"
	"github.com/trackwatch/trackwatch/devstack/devstacktest"
)

func TestASlowRunMakesLaterTicksSkipAndCountUntilStopCancelsIt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var opened atomic.Int32
		open := func(ctx context.Context) (driver.Conn, error) {
			opened.Add(1)
			<-ctx.Done() // a run that outlasts every tick, until the scheduler stops
			return nil, ctx.Err()
		}
		m := detect.NewMetrics(nil)
		s, err := detect.NewScheduler(detect.SchedulerOptions{Open: open, Database: db, Config: detect.Config{Schedule: "@every 1s"}, Logger: devstacktest.Logger(), Metrics: m, Now: time.Now})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- s.Run(ctx) }()

		time.Sleep(3500 * time.Millisecond) // the bubble's clock: ticks at 1 s, 2 s and 3 s
		synctest.Wait()
		if n := opened.Load(); n != 1 {
			t.Fatalf("%d runs started, want 1 (the later ticks find it still going)", n)
		}
		for _, name := range detect.Names {
			if got := testutil.ToFloat64(m.Missed.WithLabelValues(name)); got != 2 {
				t.Errorf("%s: %v missed runs, want 2", name, got)
			}
		}

		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if got := testutil.ToFloat64(m.Runs.WithLabelValues("stalled_eir", "error")); got != 1 {
			t.Errorf("the cancelled run: %v errors counted, want 1", got)
		}
	})
}

func TestADetectorWithItsOwnScheduleRunsOnIt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		open := func(ctx context.Context) (driver.Conn, error) { return nil, errors.New("no server in this test") }
		m := detect.NewMetrics(nil)
		cfg := detect.Config{Schedule: "@every 1s", Schedules: map[string]string{"stalled_eir": "@every 3s"}}
		s, err := detect.NewScheduler(detect.SchedulerOptions{Open: open, Database: db, Config: cfg, Logger: devstacktest.Logger(), Metrics: m, Now: time.Now})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- s.Run(ctx) }()
		time.Sleep(3500 * time.Millisecond)
		synctest.Wait()
		cancel()
		<-done
		for _, name := range detect.Names {
			want := 3.0 // at 1 s, 2 s and 3 s
			if name == "stalled_eir" {
				want = 1 // at 3 s
			}
			if got := testutil.ToFloat64(m.Runs.WithLabelValues(name, "error")); got != want {
				t.Errorf("%s: %v runs, want %v", name, got, want)
			}
		}
	})
}
