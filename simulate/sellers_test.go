package simulate_test

import (
	"slices"
	"testing"

	"github.com/trackwatch/trackwatch/simulate"
)

// The labelled sellers come with a simulation of 200 orders or more, or with Sellers
// (the demo's first batch of 40): 70 orders of their own, one seller labelled.
func TestTheLabelledSellersComeWithSellers(t *testing.T) {
	small := simulate.Run(simulate.Options{Orders: 40, Batch: 1})
	if len(small.SellerTruth) != 0 {
		t.Errorf("40 orders without Sellers: labelled sellers %v", small.SellerTruth)
	}
	with := simulate.Run(simulate.Options{Orders: 40, Batch: 1, Sellers: true})
	var flagged []string
	for s, dets := range with.SellerTruth {
		if len(dets) > 0 {
			flagged = append(flagged, s)
		}
	}
	if len(with.SellerTruth) != 3 || !slices.Equal(flagged, []string{"seller_low_vtr-1@aliexpress"}) {
		t.Errorf("40 orders with Sellers: labelled sellers %v", with.SellerTruth)
	}
	if got := len(with.Truth) - len(small.Truth); got != 70 {
		t.Errorf("Sellers added %d orders, want 70", got)
	}
}
