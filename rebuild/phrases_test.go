package rebuild_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/trackwatch/trackwatch/carrier"
	"github.com/trackwatch/trackwatch/detect/detecttest"
	"github.com/trackwatch/trackwatch/rebuild"
	"github.com/trackwatch/trackwatch/schemas"
)

func TestRenormaliseReclassifiesStoredHistoryAfterATableChange(t *testing.T) {
	w := detecttest.NewWorld(t, "ph")
	w.ScanJSON(`{"event_id":"e1","tracking_number":"LP1","carrier":"acme","raw_status":"Parcel is being prepared","occurred_at":"2026-10-05T08:00:00Z"}`)
	w.ScanJSON(`{"event_id":"e2","tracking_number":"LP1","carrier":"acme","raw_status":"Parcel is being prepared","occurred_at":"2026-10-06T08:00:00Z"}`)
	w.ScanJSON(`{"event_id":"e3","tracking_number":"LP2","carrier":"acme","status":"in_transit","raw_status":"Parcel is being prepared","occurred_at":"2026-10-06T08:00:00Z"}`)
	w.ScanJSON(`{"event_id":"e4","tracking_number":"LP3","carrier":"acme","raw_status":"Accepted","occurred_at":"2026-10-06T08:00:00Z"}`)

	def, _ := carrier.Default()
	unmapped, err := rebuild.Phrases(t.Context(), w.Conn, "ph", def, rebuild.PhraseFilter{Unmapped: true})
	if err != nil || len(unmapped) != 1 || unmapped[0].Events != 2 || unmapped[0].RawStatus != "Parcel is being prepared" {
		t.Fatalf("unmapped: %+v, %v", unmapped, err)
	}
	table, err := def.With([]carrier.Phrase{{Carrier: "acme", Phrase: "being prepared", SubStatus: carrier.PreAdvice}})
	if err != nil {
		t.Fatal(err)
	}
	dry, err := rebuild.Renormalise(t.Context(), w.Conn, "ph", table, true)
	if err != nil || dry.Events != 2 || dry.Wordings != 1 {
		t.Fatalf("dry run: %+v, %v (want the 2 derived events; the producer's in_transit stays)", dry, err)
	}
	if _, err := rebuild.Renormalise(t.Context(), w.Conn, "ph", table, false); err != nil {
		t.Fatal(err)
	}
	// History changed in place reaches no view: the next scheduled run of every detector
	// set must evaluate every order (a reset in detect_checkpoints).
	var resets uint64
	if err := w.Conn.QueryRow(t.Context(), "SELECT count() FROM ph.detect_checkpoints WHERE detectors = ''").Scan(&resets); err != nil || resets == 0 {
		t.Errorf("renormalise wrote %d resets of the scheduled runs (%v), want at least one", resets, err)
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
	// The monthly carrier summaries the detectors read follow the events' new classes.
	summaries := func(q string) []string {
		var out []string
		var rows []struct {
			TN        string `ch:"tracking_number"`
			Events    uint64 `ch:"events"`
			Moving    uint64 `ch:"moving_events"`
			Preadvice uint64 `ch:"preadvice_events"`
			LastScan  string `ch:"last_scan"`
		}
		if err := w.Conn.Select(t.Context(), &rows, "SELECT tracking_number, events, moving_events, preadvice_events, last_scan FROM ("+q+") ORDER BY tracking_number"); err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			out = append(out, fmt.Sprintf("%s %d %d %d %q", r.TN, r.Events, r.Moving, r.Preadvice, r.LastScan))
		}
		return out
	}
	stored := summaries("SELECT * FROM ph.carrier_months FINAL")
	fresh := summaries(schemas.CarrierMonthStates("ph.tracking_events", "1"))
	if !slices.Equal(stored, fresh) || !strings.HasPrefix(stored[0], "LP1 2 0 2 ") {
		t.Errorf("carrier summaries after renormalise:\n%s\nsummarised from the events:\n%s", strings.Join(stored, "\n"), strings.Join(fresh, "\n"))
	}
	// Lost summaries are rebuilt from the events, month by month: the carriers' and the
	// orders'.
	w.Shipped("o1", "LP1", "acme", 7)
	orders := func(q string) string {
		var rows []struct {
			OrderID string `ch:"order_id"`
			Latest  string `ch:"latest"`
			Shipped string `ch:"shipped"`
		}
		if err := w.Conn.Select(t.Context(), &rows, "SELECT order_id, latest, shipped FROM ("+q+") ORDER BY order_id"); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(rows)
	}
	freshOrders := orders(schemas.OrderMonthStates("ph.order_events", "1"))
	var numbers uint64
	if err := w.Conn.QueryRow(t.Context(), "SELECT count() FROM ph.order_numbers FINAL").Scan(&numbers); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"TRUNCATE TABLE ph.carrier_months", "TRUNCATE TABLE ph.order_months", "TRUNCATE TABLE ph.order_numbers"} {
		if err := w.Conn.Exec(t.Context(), q); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := rebuild.Summaries(t.Context(), w.Conn, "ph", nil); err != nil || n != 2 {
		t.Fatalf("rebuilt %d months, %v (want October of each summary)", n, err)
	}
	if rebuilt := summaries("SELECT * FROM ph.carrier_months FINAL"); !slices.Equal(rebuilt, fresh) {
		t.Errorf("carrier summaries rebuilt:\n%s\nsummarised from the events:\n%s", strings.Join(rebuilt, "\n"), strings.Join(fresh, "\n"))
	}
	if rebuilt := orders("SELECT * FROM ph.order_months FINAL"); rebuilt != freshOrders || !strings.Contains(rebuilt, "LP1") {
		t.Errorf("order summaries rebuilt: %s\nsummarised from the events: %s", rebuilt, freshOrders)
	}
	var rebuiltNumbers uint64
	if err := w.Conn.QueryRow(t.Context(), "SELECT count() FROM ph.order_numbers FINAL").Scan(&rebuiltNumbers); err != nil || numbers == 0 || rebuiltNumbers != numbers {
		t.Errorf("order_numbers: %d rows from the view, %d rebuilt (%v)", numbers, rebuiltNumbers, err)
	}
	if again, _ := rebuild.Renormalise(t.Context(), w.Conn, "ph", table, true); again.Events != 0 {
		t.Errorf("a second renormalise would change %d events", again.Events)
	}
}

func TestAnAggregatorsDisagreementsAreListedAndItsReadingSurvivesRenormalise(t *testing.T) {
	w := detecttest.NewWorld(t, "dis")
	// words a phrase table reads as pre-advice, an aggregator as in transit: disagreement
	w.ScanJSON(`{"event_id":"d1","tracking_number":"LP1","carrier":"china-post","raw_status":"Electronic information received","occurred_at":"2026-10-05T08:00:00Z","provider":"aftership","provider_status":"in_transit/in_transit"}`)
	w.ScanJSON(`{"event_id":"d2","tracking_number":"LP2","carrier":"china-post","raw_status":"Electronic information received","occurred_at":"2026-10-05T09:00:00Z","provider":"aftership","provider_status":"in_transit/in_transit"}`)
	// words no table knows: the aggregator decided, and that is no disagreement
	w.ScanJSON(`{"event_id":"d3","tracking_number":"LP3","carrier":"china-post","raw_status":"Shipment record created in partner system","occurred_at":"2026-10-05T08:00:00Z","provider":"17track","provider_status":"info_received/pre_advice"}`)
	// agreement
	w.ScanJSON(`{"event_id":"d4","tracking_number":"LP4","carrier":"china-post","raw_status":"Electronic information received","occurred_at":"2026-10-05T08:00:00Z","provider":"ship24","provider_status":"info_received"}`)

	ds, err := rebuild.Disagreements(t.Context(), w.Conn, "dis", rebuild.PhraseFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].Provider != "aftership" || ds[0].Events != 2 || ds[0].SubStatus != "info_received/pre_advice" || ds[0].ProviderStatus != "in_transit/in_transit" {
		t.Fatalf("disagreements: %+v", ds)
	}
	def, _ := carrier.Default()
	res, err := rebuild.Renormalise(t.Context(), w.Conn, "dis", def, false)
	if err != nil || res.Events != 0 {
		t.Fatalf("renormalise with the same tables changed %d events (%v): the provider's reading must stay", res.Events, err)
	}
	var sub string
	if err := w.Conn.QueryRow(t.Context(), "SELECT sub_status FROM dis.tracking_events WHERE event_id = 'd3'").Scan(&sub); err != nil || sub != "info_received/pre_advice" {
		t.Fatalf("d3 stored as %q (%v)", sub, err)
	}
}
