package bench

import (
	"bytes"
	"testing"

	"github.com/trackwatch/trackwatch/ingest"
)

func TestGeneratedLoadIsRealisticValidAndDeterministic(t *testing.T) {
	l := Generate(42, 20_000)
	if n := len(l.Tracking) + len(l.Orders); n != 20_000 {
		t.Fatalf("%d events, want 20000", n)
	}
	if share := float64(len(l.Orders)) / 20_000; share < 0.15 || share > 0.25 {
		t.Fatalf("order share %.2f, want about 0.2", share)
	}
	if avg := float64(l.Bytes) / 20_000; avg < 250 || avg > 400 {
		t.Fatalf("average event %.0f bytes, want 250-400", avg)
	}
	for _, m := range l.Tracking {
		if _, rej := ingest.DecodeTracking(m.Value); rej != nil {
			t.Fatalf("generated tracking event rejected: %v\n%s", rej, m.Value)
		}
	}
	for _, m := range l.Orders {
		if _, rej := ingest.DecodeOrder(m.Value); rej != nil {
			t.Fatalf("generated order event rejected: %v\n%s", rej, m.Value)
		}
	}
	again := Generate(42, 20_000)
	if !bytes.Equal(again.Tracking[123].Value, l.Tracking[123].Value) {
		t.Fatal("same seed, different events")
	}
}
