package ingest_test

import (
	"testing"

	"github.com/trackwatch/trackwatch/carrier"
	"github.com/trackwatch/trackwatch/detect/detecttest"
	"github.com/trackwatch/trackwatch/ingest"
)

func TestRenormaliseReclassifiesStoredHistoryAfterATableChange(t *testing.T) {
	w := detecttest.NewWorld(t, "ph")
	w.ScanJSON(`{"event_id":"e1","tracking_number":"LP1","carrier":"acme","raw_status":"Parcel is being prepared","occurred_at":"2026-10-05T08:00:00Z"}`)
	w.ScanJSON(`{"event_id":"e2","tracking_number":"LP1","carrier":"acme","raw_status":"Parcel is being prepared","occurred_at":"2026-10-06T08:00:00Z"}`)
	w.ScanJSON(`{"event_id":"e3","tracking_number":"LP2","carrier":"acme","status":"in_transit","raw_status":"Parcel is being prepared","occurred_at":"2026-10-06T08:00:00Z"}`)
	w.ScanJSON(`{"event_id":"e4","tracking_number":"LP3","carrier":"acme","raw_status":"Accepted","occurred_at":"2026-10-06T08:00:00Z"}`)

	def, _ := carrier.Default()
	unmapped, err := ingest.Phrases(t.Context(), w.Conn, "ph", def, ingest.PhraseFilter{Unmapped: true})
	if err != nil || len(unmapped) != 1 || unmapped[0].Events != 2 || unmapped[0].RawStatus != "Parcel is being prepared" {
		t.Fatalf("unmapped: %+v, %v", unmapped, err)
	}
	table, err := def.With([]carrier.Phrase{{Carrier: "acme", Phrase: "being prepared", SubStatus: carrier.PreAdvice}})
	if err != nil {
		t.Fatal(err)
	}
	dry, err := ingest.Renormalise(t.Context(), w.Conn, "ph", table, true)
	if err != nil || dry.Events != 2 || dry.Wordings != 1 {
		t.Fatalf("dry run: %+v, %v (want the 2 derived events; the producer's in_transit stays)", dry, err)
	}
	if _, err := ingest.Renormalise(t.Context(), w.Conn, "ph", table, false); err != nil {
		t.Fatal(err)
	}
	var rows []struct {
		ID     string `ch:"event_id"`
		Status string `ch:"status"`
		Sub    string `ch:"sub_status"`
		Phys   uint8  `ch:"physical"`
	}
	if err := w.Conn.Select(t.Context(), &rows, "SELECT event_id, status, sub_status, physical FROM ph.tracking_events ORDER BY event_id"); err != nil {
		t.Fatal(err)
	}
	want := []string{"e1 info_received info_received/pre_advice 0", "e2 info_received info_received/pre_advice 0",
		"e3 in_transit in_transit/in_transit 1", "e4 picked_up picked_up/accepted 1"}
	for i, r := range rows {
		if got := r.ID + " " + r.Status + " " + r.Sub + " " + string('0'+r.Phys); i >= len(want) || got != want[i] {
			t.Errorf("row %d: %s", i, got)
		}
	}
	if again, _ := ingest.Renormalise(t.Context(), w.Conn, "ph", table, true); again.Events != 0 {
		t.Errorf("a second renormalise would change %d events", again.Events)
	}
}
