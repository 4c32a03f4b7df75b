package backfill_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/trackwatch/trackwatch/internal/bench"
)

// BenchmarkLoadNDJSON loads a file of 100,000 generated tracking events into a fresh
// database per iteration (made outside the timer), through the loader as `backfill
// load` runs it.
func BenchmarkLoadNDJSON(b *testing.B) {
	s := newServer(b, false)
	var buf bytes.Buffer
	for _, m := range bench.Generate(1, 125_000).Tracking {
		buf.Write(m.Value)
		buf.WriteByte('\n')
	}
	n := bytes.Count(buf.Bytes(), []byte{'\n'})
	for i := 0; b.Loop(); i++ {
		b.StopTimer() // a fresh database per load, not timed
		db := fmt.Sprintf("lb%d", i)
		s.database(db)
		path := writeFile(b, filepath.Join(b.TempDir(), db+".ndjson"), buf.Bytes())
		b.StartTimer()
		l := s.loader(db)
		l.BatchRows = 20_000
		if _, err := l.LoadFile(context.Background(), path); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
