package feeds_test

import (
	"fmt"

	"github.com/trackwatch/trackwatch/feeds"
)

// A saved 17TRACK push (or a line of a `backfill load --format 17track` file) maps to
// contract events, each with the provider's reading beside the carrier's words.
func ExampleMap() {
	body := []byte(`{"event": "TRACKING_UPDATED", "data": {"number": "RR123456785CN", "carrier": 3011,
	  "track_info": {"tracking": {"providers": [{"provider": {"key": 3011, "name": "China Post"},
	    "events": [{"time_iso": "2026-10-01T10:02:00+08:00", "time_utc": "2026-10-01T02:02:00Z",
	      "description": "Electronic information received", "location": "", "stage": "InfoReceived",
	      "sub_status": "InfoReceived", "address": {"country": "CN"}}]}]}}}}`)
	events, err := feeds.Map(feeds.SeventeenTrack, body, feeds.Source{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range events.Tracking {
		fmt.Println(e.TrackingNumber, e.Carrier, e.OccurredAt.Format("2006-01-02T15:04:05Z07:00"), e.RawStatus, "->", e.ProviderStatus)
	}
	// Output: RR123456785CN china-post 2026-10-01T10:02:00+08:00 Electronic information received -> info_received/pre_advice
}
