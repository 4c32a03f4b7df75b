package backfill_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/trackwatch/trackwatch/feeds"
)

// compact is a provider's documented payload on one line.
func compact(t *testing.T, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "feeds", "testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func TestProviderFilesLoadThroughTheWebhooksMapping(t *testing.T) {
	s := newServer(t, false)
	s.database("providers")
	dir := t.TempDir()
	for _, tc := range []struct {
		provider, file string
		table          string
		events         uint64
	}{
		{feeds.AfterShip, "aftership.json", "tracking_events", 2},
		{feeds.SeventeenTrack, "17track.json", "tracking_events", 2},
		{feeds.TrackingMore, "trackingmore.json", "tracking_events", 2},
		{feeds.EasyPost, "easypost.json", "tracking_events", 2},
		{feeds.Ship24, "ship24.json", "tracking_events", 2},
		{feeds.Shopify, "shopify_order.json", "order_events", 2},
	} {
		t.Run(tc.provider, func(t *testing.T) {
			line := compact(t, tc.file)
			// the same body twice (a saved retry), and a line that is the provider's JSON but not a tracking
			path := writeFile(t, filepath.Join(dir, tc.provider+".ndjson"), append(append(append(line, '\n'), line...), []byte("\n{\"unrelated\":true}\n")...))
			l := s.loader("providers")
			l.Provider, l.Marketplace = tc.provider, "history-"+tc.provider
			res, err := l.LoadFile(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			if res.Records != 3 || res.DeadLettered != 1 {
				t.Fatalf("result %+v: want 3 records, 1 dead letter", res)
			}
			var n uint64
			q := "SELECT count() FROM providers." + tc.table + " FINAL WHERE source_file = {f:String}"
			if err := s.conn.QueryRow(context.Background(), q, namedFile(path)).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != tc.events {
				t.Fatalf("%d events stored from %s, want %d", n, tc.file, tc.events)
			}
			var reason string
			if err := s.conn.QueryRow(context.Background(), "SELECT reason FROM providers.dead_letters WHERE source_file = {f:String}", namedFile(path)).Scan(&reason); err != nil || reason != "unmapped" {
				t.Fatalf("dead letter reason %q, %v", reason, err)
			}
		})
	}
}

func namedFile(path string) any { return clickhouse.Named("f", path) }
