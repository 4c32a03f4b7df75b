package ingest

import (
	"sync"
	"sync/atomic"
)

// memo caches a pure string function for low-cardinality inputs (carrier phrases, city
// and country names), which repeat across millions of events. It stops adding entries
// at its cap, so adversarial input cannot grow it without bound; past the cap the
// function is simply called.
type memo struct {
	fn   func(string) string
	m    sync.Map
	size atomic.Int64
	cap  int64
}

func newMemo(capacity int64, fn func(string) string) *memo { return &memo{fn: fn, cap: capacity} }

func (c *memo) get(s string) string {
	if v, ok := c.m.Load(s); ok {
		return v.(string)
	}
	v := c.fn(s)
	if c.size.Load() < c.cap {
		if _, loaded := c.m.LoadOrStore(s, v); !loaded {
			c.size.Add(1)
		}
	}
	return v
}

var (
	cityMemo    = newMemo(100_000, NormaliseCity)
	countryMemo = newMemo(20_000, NormaliseCountry)
)
