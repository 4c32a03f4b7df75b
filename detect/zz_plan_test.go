package detect_test

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/trackwatch/trackwatch/alert"
	"github.com/trackwatch/trackwatch/detect"
	"github.com/trackwatch/trackwatch/ingest"
	"github.com/trackwatch/trackwatch/simulate"
)

func TestZZPlanCost(t *testing.T) {
	w := newWorld(t)
	end := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	res := simulate.Run(simulate.Options{Orders: 600, Seed: 11, AsOf: end})
	var tracking []ingest.TrackingRow
	var orders []ingest.OrderRow
	for _, m := range res.Messages {
		if r, rej := ingest.DecodeTracking(m.Value); rej == nil && m.Topic == "tracking-events" {
			tracking = append(tracking, r)
		} else if r, rej := ingest.DecodeOrder(m.Value); rej == nil && m.Topic == "order-events" {
			orders = append(orders, r)
		}
	}
	if err := ingest.InsertTracking(t.Context(), w.Conn, db, tracking, "tracking-events", 0, 0, "t"); err != nil {
		t.Fatal(err)
	}
	if err := ingest.InsertOrders(t.Context(), w.Conn, db, orders, "order-events", 0, 0, "o"); err != nil {
		t.Fatal(err)
	}
	set, err := detect.NewSet(db)
	if err != nil {
		t.Fatal(err)
	}
	stages := map[string][]float64{}
	var order []string
	pid := w.Server.Pid()
	cpu := func() float64 {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
		u, _ := strconv.Atoi(f[11])
		s, _ := strconv.Atoi(f[12])
		return float64(u+s) / 100
	}
	last := cpu()
	set.OnStage = func(s string, d time.Duration) {
		if !slices.Contains(order, s) {
			order = append(order, s)
		}
		now := cpu()
		stages[s] = append(stages[s], now-last)
		last = now
	}
	store := alert.NewStore(w.Conn, db)
	cfg := detect.Config{ChangeMargin: -1}
	scheduledRun(t, w.Conn, set, store, cfg, end)
	clear(stages)
	for i := range 12 {
		last = cpu()
		scheduledRun(t, w.Conn, set, store, cfg, end.Add(time.Duration(i+1)*5*time.Minute))
	}
	for _, s := range order {
		v := stages[s]
		sort.Float64s(v)
		sum := 0.0
		for _, x := range v {
			sum += x
		}
		fmt.Printf("%-14s cpu mean %.3f median %.3f (n=%d)\n", s, sum/float64(len(v)), v[len(v)/2], len(v))
	}
}
