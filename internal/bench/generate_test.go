package bench

import (
	"bytes"
	"testing"

	"github.com/trackwatch/trackwatch/ingest"
	"github.com/trackwatch/trackwatch/trackingnumber"
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

// The realistic numbers are valid for their declared carrier but one parcel in 50, whose
// check digit is wrong: judged as ingest judges them, about 2% of the orders are
// findings (the synthetic numbers: two thirds).
func TestRealisticNumbersAreMostlyValid(t *testing.T) {
	checker, err := trackingnumber.Load(trackingnumber.Config{})
	if err != nil {
		t.Skip(err)
	}
	for _, tc := range []struct {
		numbers  string
		min, max float64
	}{{RealisticNumbers, 0.01, 0.04}, {SyntheticNumbers, 0.5, 0.8}} {
		l, err := generateFor(IngestOptions{Seed: 42, Events: 60_000, Numbers: tc.numbers})
		if err != nil {
			t.Fatal(err)
		}
		findings := 0
		for _, m := range l.Orders {
			r, rej := ingest.DecodeOrder(m.Value)
			if rej != nil {
				t.Fatalf("generated order event rejected: %v\n%s", rej, m.Value)
			}
			if ingest.WorthStoring(checker.Screen(r.TrackingNumber, r.Carrier)) {
				findings++
			}
		}
		share := float64(findings) / float64(len(l.Orders))
		t.Logf("%s numbers: %d of %d orders are findings (%.1f%%)", tc.numbers, findings, len(l.Orders), 100*share)
		if share < tc.min || share > tc.max {
			t.Errorf("%s numbers: %.3f of the orders are findings, want %.2f-%.2f", tc.numbers, share, tc.min, tc.max)
		}
	}
	a, _ := generateFor(IngestOptions{Seed: 42, Events: 6_000, Numbers: RealisticNumbers})
	b, _ := generateFor(IngestOptions{Seed: 42, Events: 6_000, Numbers: RealisticNumbers})
	if !bytes.Equal(a.Orders[7].Value, b.Orders[7].Value) {
		t.Fatal("same seed, different realistic events")
	}
}
