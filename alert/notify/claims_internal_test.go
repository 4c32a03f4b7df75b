package notify

import (
	"sync"
	"testing"
	"time"

	"github.com/trackwatch/trackwatch/detect/detecttest"
)

// Three dispatchers claiming the same change at the same moment: exactly one wins, and
// all three agree which. (Claims ordered by a timestamp lose this race: an insert that
// started first can become visible after a later one was read alone; the commit order
// does not.)
func TestConcurrentClaimsOnAChangeHaveOneWinner(t *testing.T) {
	w := detecttest.NewWorld(t, "claims")
	conn := w.Pooled()
	var ds []*Dispatcher
	for _, name := range []string{"a", "b", "c"} {
		ds = append(ds, NewDispatcher(DispatcherOptions{Conn: conn, DB: "claims", Config: Config{ClaimTimeout: time.Minute}, Instance: name,
			Metrics: NewMetrics(nil), Now: time.Now}))
	}
	now := time.Now().UTC()
	for i := range 40 {
		batch := []due{{}}
		batch[0].ChangeID = "change-" + string(rune('A'+i%26)) + string(rune('a'+i/26))
		won := make([]bool, len(ds))
		var wg sync.WaitGroup
		for j, d := range ds {
			wg.Go(func() {
				mine, err := d.claim(t.Context(), "hook", batch, now)
				if err != nil {
					t.Error(err)
				}
				won[j] = len(mine) == 1
			})
		}
		wg.Wait()
		n := 0
		for _, x := range won {
			if x {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("change %d: %d dispatchers won it (%v)", i, n, won)
		}
	}
}
