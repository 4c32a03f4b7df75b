package detect_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/trackwatch/trackwatch/detect"
	"github.com/trackwatch/trackwatch/store"
)

// addr is a ship-to or carrier place.
type addr struct{ Country, City, Postal string }

var tokyo = addr{"JP", "Tokyo", "100-0001"}

func (a addr) json() map[string]string {
	return map[string]string{"country": a.Country, "city": a.City, "postal_code": a.Postal}
}

// order inserts a placed and a shipped event with the given buyer, address and times.
func (w *world) order(id, buyer string, to addr, placed, shipped time.Time, tn string, protectionDays int, extra ...string) {
	w.T.Helper()
	p, _ := json.Marshal(map[string]any{"event_id": id + "-p", "order_id": id, "seller_id": "s1", "buyer_id": buyer, "status": "placed",
		"occurred_at": placed.Format(time.RFC3339), "ship_to": to.json(), "amount": 30})
	s, _ := json.Marshal(map[string]any{"event_id": id + "-s", "order_id": id, "seller_id": "s1", "buyer_id": buyer, "status": "shipped",
		"occurred_at": shipped.Format(time.RFC3339), "tracking_number": tn, "carrier": "china-post", "protection_days": protectionDays})
	msgs := []string{string(p), string(s)}
	for i, status := range extra { // later order statuses, a day apart after shipment
		e, _ := json.Marshal(map[string]any{"event_id": fmt.Sprintf("%s-x%d", id, i), "order_id": id, "seller_id": "s1", "buyer_id": buyer,
			"status": status, "occurred_at": shipped.Add(time.Duration(i+1) * 24 * time.Hour).Format(time.RFC3339)})
		msgs = append(msgs, string(e))
	}
	w.Orders(msgs...)
}

// event inserts a carrier event with an optional destination and location.
func (w *world) event(tn, rawStatus string, at time.Time, dest, loc *addr) {
	w.T.Helper()
	ev := map[string]any{"event_id": fmt.Sprintf("%s-%s-%d", tn, rawStatus, at.Unix()), "tracking_number": tn, "raw_status": rawStatus, "occurred_at": at.Format(time.RFC3339)}
	if dest != nil {
		ev["destination"] = dest.json()
	}
	if loc != nil {
		ev["location"] = loc.json()
	}
	b, _ := json.Marshal(ev)
	w.ScanJSON(string(b))
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 9, 0, 0, 0, time.UTC) }

func TestScanBeforeOrder(t *testing.T) {
	w := newWorld(t)
	w.order("other-parcel", "b1", tokyo, date(2026, 10, 3), date(2026, 10, 5), "RR100000008CN", 60)
	w.event("RR100000008CN", "Accepted", date(2026, 9, 20), nil, nil)
	w.order("recycled", "b2", tokyo, date(2026, 10, 3), date(2026, 10, 5), "RR200000007CN", 60) // trap: old parcel 14 months ago
	w.event("RR200000007CN", "Delivered", date(2025, 8, 1), nil, nil)
	w.event("RR200000007CN", "Electronic information received", date(2026, 10, 5), nil, nil)
	w.order("within-slack", "b3", tokyo, date(2026, 10, 3), date(2026, 10, 5), "RR300000006CN", 60) // trap: label made the evening before
	w.event("RR300000006CN", "Label created", date(2026, 10, 2).Add(11*time.Hour), nil, nil)

	expect(t, "scan before order", w.flagged("scan_before_order", asOf(10)), "other-parcel")
}

func TestDestinationMismatch(t *testing.T) {
	w := newWorld(t)
	at := date(2026, 10, 6)
	w.order("wrong-country", "b1", tokyo, date(2026, 10, 3), date(2026, 10, 5), "RR400000005CN", 60)
	w.event("RR400000005CN", "In transit", at, &addr{"US", "Austin", "73301"}, nil)
	w.order("same-place-spelt-differently", "b2", tokyo, date(2026, 10, 3), date(2026, 10, 5), "RR500000004CN", 60) // trap
	w.event("RR500000004CN", "In transit", at, &addr{"Japan", "TOKYO", "1000001"}, nil)
	w.order("wrong-postal-code", "b3", tokyo, date(2026, 10, 3), date(2026, 10, 5), "RR600000003CN", 60)
	w.event("RR600000003CN", "In transit", at, &addr{"JP", "Osaka", "530-0001"}, nil)
	w.order("delivered-elsewhere", "b4", tokyo, date(2026, 10, 3), date(2026, 10, 5), "RR700000002CN", 60)
	w.event("RR700000002CN", "Delivered", at, nil, &addr{"DE", "Berlin", "10115"})
	w.order("delivered-home", "b5", tokyo, date(2026, 10, 3), date(2026, 10, 5), "RR800000001CN", 60) // trap
	w.event("RR800000001CN", "Delivered", at, nil, &addr{"Japan", "Tokyo", "100 0001"})

	expect(t, "destination mismatch", w.flagged("destination_mismatch", asOf(10)), "delivered-elsewhere", "wrong-country", "wrong-postal-code")
}

func TestTrackingReuse(t *testing.T) {
	w := newWorld(t)
	w.order("first-buyer", "alice", tokyo, date(2026, 10, 1), date(2026, 10, 2), "RR900000000CN", 60)
	w.order("second-buyer", "bob", addr{"US", "Austin", "73301"}, date(2026, 10, 1), date(2026, 10, 3), "RR900000000CN", 60)
	w.order("combined-1", "carol", tokyo, date(2026, 10, 1), date(2026, 10, 2), "RR012345675CN", 60) // trap: one parcel, two orders
	w.order("combined-2", "carol", addr{"Japan", "TOKYO", "1000001"}, date(2026, 10, 1), date(2026, 10, 2), "RR012345675CN", 60)
	w.order("reissued-old", "dave", tokyo, date(2025, 7, 1), date(2025, 7, 2), "RR111111115CN", 60) // trap: 15 months apart
	w.order("reissued-new", "erin", addr{"DE", "Berlin", "10115"}, date(2026, 10, 1), date(2026, 10, 2), "RR111111115CN", 60)

	expect(t, "reuse", w.flagged("tracking_reuse", asOf(10)), "first-buyer", "second-buyer")
}

func TestProtectionExpiry(t *testing.T) {
	w := newWorld(t)
	now := date(2026, 11, 30) // protection of orders shipped on Oct 5 with 60 days ends Dec 4
	w.order("stuck", "b1", tokyo, date(2026, 10, 3), date(2026, 10, 5), "RR121212125CN", 60)
	w.event("RR121212125CN", "Electronic information received", date(2026, 10, 5), nil, nil)
	w.order("moving", "b2", tokyo, date(2026, 10, 3), date(2026, 10, 5), "RR131313135CN", 60)
	w.event("RR131313135CN", "In transit", date(2026, 11, 25), nil, nil)
	w.order("delivered-home", "b3", tokyo, date(2026, 10, 3), date(2026, 10, 5), "RR141414145CN", 60) // trap
	w.event("RR141414145CN", "Delivered", date(2026, 11, 20), nil, &addr{"JP", "Tokyo", ""})
	w.order("delivered-elsewhere", "b4", tokyo, date(2026, 10, 3), date(2026, 10, 5), "RR151515155CN", 60)
	w.event("RR151515155CN", "Delivered", date(2026, 11, 20), nil, &addr{"DE", "Berlin", ""})
	w.order("long-protection", "b5", tokyo, date(2026, 10, 3), date(2026, 10, 5), "RR161616165CN", 90)        // trap: ends in January
	w.order("confirmed", "b6", tokyo, date(2026, 10, 3), date(2026, 10, 5), "RR171717175CN", 60, "confirmed") // trap

	got := w.flagged("protection_expiry", now)
	expect(t, "expiring", got, "delivered-elsewhere", "moving", "stuck")
	d, _ := detectNew(t, "protection_expiry")
	fs, _ := d.Eval(t.Context(), w.Conn, cfgZero, now)
	recs := map[string]detect.Recommendation{}
	for _, f := range fs {
		recs[f.OrderID] = f.Recommendation
	}
	if recs["moving"] != "extend_protection" || recs["stuck"] != "open_dispute" || recs["delivered-elsewhere"] != "open_dispute" {
		t.Errorf("recommendations %v", recs)
	}
}

func TestOneRunOfAllDetectorsFindsWhatEachFindsAlone(t *testing.T) {
	w := newWorld(t)
	w.order("stalled", "b1", tokyo, date(2026, 10, 3), date(2026, 10, 5), "RR121212125CN", 60)
	w.event("RR121212125CN", "Electronic information received", date(2026, 10, 5), nil, nil)
	w.order("silent", "b2", tokyo, date(2026, 10, 3), date(2026, 10, 5), "RR222222225CN", 60)
	w.order("bad-digit", "b3", tokyo, date(2026, 10, 3), date(2026, 10, 5), "RR123456784CN", 60)
	w.event("RR123456784CN", "In transit", date(2026, 10, 6), &addr{"US", "Austin", "73301"}, nil)
	w.order("wrong-carrier", "b8", tokyo, date(2026, 10, 3), date(2026, 10, 5), "1Z5R89390357567127", 60) // a UPS number
	w.order("other-parcel", "b4", tokyo, date(2026, 10, 3), date(2026, 10, 5), "RR100000008CN", 60)
	w.event("RR100000008CN", "Electronic information received", date(2026, 9, 20), nil, nil)
	w.order("reused-1", "alice", tokyo, date(2026, 10, 1), date(2026, 10, 2), "RR900000000CN", 60)
	w.order("reused-2", "bob", addr{"US", "Austin", "73301"}, date(2026, 10, 1), date(2026, 10, 3), "RR900000000CN", 60)
	w.event("RR900000000CN", "In transit", date(2026, 10, 4), nil, nil)
	w.order("voided", "b5", tokyo, date(2026, 10, 3), date(2026, 10, 5), "RR313131315CN", 60)
	w.event("RR313131315CN", "Label created", date(2026, 10, 5), nil, nil)
	w.event("RR313131315CN", "Shipment cancelled by sender", date(2026, 10, 7), nil, nil)
	w.order("went-quiet", "b6", tokyo, date(2026, 10, 20), date(2026, 10, 21), "RR363636365CN", 60)
	w.event("RR363636365CN", "Accepted", date(2026, 10, 22), nil, nil)
	// the buyer's journey: a cancellation dodged by a shipment, a dispute left unanswered,
	// a refund overdue
	w.order("dodged", "b9", tokyo, date(2026, 11, 1), date(2026, 11, 3), "RR373737375CN", 60)
	w.journey("dodged", step{"cancel_requested", date(2026, 11, 2), ""})
	w.order("disputed", "b10", tokyo, date(2026, 11, 1), date(2026, 11, 3), "RR383838385CN", 60, "disputed")
	w.event("RR383838385CN", "Accepted", date(2026, 11, 4), nil, nil)
	w.journey("refund", step{"paid", date(2026, 10, 1), `"payment_method":"paypal"`}, step{"refund_approved", date(2026, 11, 2), ""})
	// a seller with 12 of 30 orders in November never scanned
	w.shipments("vtr", "aliexpress", 30, 12, 32, 20)
	at := date(2026, 11, 30) // protection of the October 5 orders ends on December 4

	all, err := detect.NewSet(db)
	if err != nil {
		t.Fatal(err)
	}
	together, err := all.Eval(t.Context(), w.Conn, cfgZero, at)
	if err != nil {
		t.Fatal(err)
	}
	var alone []detect.Finding
	seen := map[string]bool{}
	for _, name := range detect.Names {
		d, _ := detectNew(t, name)
		fs, err := d.Eval(t.Context(), w.Conn, cfgZero, at)
		if err != nil {
			t.Fatal(err)
		}
		alone = append(alone, fs...)
		for _, f := range fs {
			seen[f.Detector] = true
		}
	}
	if len(seen) != len(detect.Names) {
		t.Fatalf("the fixture should trip every detector; tripped %v", seen)
	}
	if len(together) != len(alone) {
		t.Fatalf("one run found %d, the detectors alone %d", len(together), len(alone))
	}
	for i := range alone {
		a, b := alone[i], together[i]
		if a.Detector != b.Detector || a.OrderID != b.OrderID || a.Reason != b.Reason || !bytes.Equal(a.Evidence, b.Evidence) ||
			a.Severity != b.Severity || a.Recommendation != b.Recommendation || a.SellerID != b.SellerID ||
			(a.ProtectionEndsAt == nil) != (b.ProtectionEndsAt == nil) || (a.ProtectionEndsAt != nil && !a.ProtectionEndsAt.Equal(*b.ProtectionEndsAt)) {
			t.Errorf("finding %d differs:\nalone    %+v\ntogether %+v", i, a, b)
		}
	}
}

func TestARunRefusesAPooledConnection(t *testing.T) {
	w := newWorld(t)
	pooled, err := store.Open(t.Context(), store.Config{Username: "default", DialTimeout: 5 * time.Second, MaxOpenConns: 4}, w.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer pooled.Close()
	d, _ := detectNew(t, "stalled_eir")
	if _, err := d.Eval(t.Context(), pooled, cfgZero, asOf(10)); !errors.Is(err, detect.ErrPooledConn) {
		t.Fatalf("Eval on a pooled connection: %v, want ErrPooledConn", err)
	}
}

func TestAVoidedLabelBeforeAnyScanIsAFakeShipment(t *testing.T) {
	w := newWorld(t)
	w.order("voided", "b1", tokyo, date(2026, 10, 3), date(2026, 10, 5), "RR313131315CN", 60)
	w.event("RR313131315CN", "Label created", date(2026, 10, 5), nil, nil)
	w.event("RR313131315CN", "Shipment cancelled by sender", date(2026, 10, 6), nil, nil)
	w.order("voided-only", "b2", tokyo, date(2026, 10, 3), date(2026, 10, 5), "RR323232325CN", 60)
	w.event("RR323232325CN", "Package cancelled", date(2026, 10, 6), nil, nil)
	w.order("intercepted", "b3", tokyo, date(2026, 10, 3), date(2026, 10, 5), "RR333333335CN", 60) // trap: scanned, then cancelled
	w.event("RR333333335CN", "Accepted", date(2026, 10, 5), nil, nil)
	w.event("RR333333335CN", "Shipment cancelled", date(2026, 10, 8), nil, nil)
	w.order("labelled", "b4", tokyo, date(2026, 10, 3), date(2026, 10, 5), "RR343434345CN", 60) // not cancelled (yet)
	w.event("RR343434345CN", "Label created", date(2026, 10, 5), nil, nil)

	expect(t, "the day before the cancellation", w.flagged("label_voided", date(2026, 10, 5).Add(12*time.Hour)))
	expect(t, "after", w.flagged("label_voided", date(2026, 10, 10)), "voided", "voided-only")
	// A voided label is not also "stalled": one finding, the stronger one.
	expect(t, "stalled_eir", w.flagged("stalled_eir", date(2026, 10, 20)), "labelled")
	d, _ := detectNew(t, "label_voided")
	fs, _ := d.Eval(t.Context(), w.Conn, cfgZero, date(2026, 10, 10))
	if len(fs) == 0 || !strings.Contains(fs[0].Reason, `("Shipment cancelled by sender")`) || fs[0].Severity != detect.SeverityCritical {
		t.Fatalf("finding %+v", fs)
	}
}

func TestWordsNoPhraseCoversAreNotMovement(t *testing.T) {
	w := newWorld(t)
	w.order("eir-then-gibberish", "b1", tokyo, date(2026, 10, 3), date(2026, 10, 5), "RR353535355CN", 60)
	w.event("RR353535355CN", "Electronic information received", date(2026, 10, 5), nil, nil)
	w.event("RR353535355CN", "Your parcel status has been refreshed", date(2026, 10, 7), nil, nil)
	expect(t, "stalled", w.flagged("stalled_eir", date(2026, 10, 20)), "eir-then-gibberish")
}

func TestAParcelThatWillNotArriveGetsADisputeNotAnExtension(t *testing.T) {
	w := newWorld(t)
	for i, last := range []string{"In transit", "Returned to sender", "Item lost", "Refused by addressee", "Held by customs"} {
		tn := fmt.Sprintf("RR5%07d%dCN", i, i)
		id := fmt.Sprintf("o%d-%s", i, strings.ReplaceAll(last, " ", "-"))
		w.order(id, fmt.Sprint("b", i), tokyo, date(2026, 10, 3), date(2026, 10, 5), tn, 60)
		w.event(tn, "Accepted", date(2026, 10, 6), nil, nil)
		w.event(tn, last, date(2026, 11, 20), nil, nil)
	}
	d, _ := detectNew(t, "protection_expiry")
	fs, err := d.Eval(t.Context(), w.Conn, cfgZero, date(2026, 11, 30))
	if err != nil || len(fs) != 5 {
		t.Fatalf("%d findings (%v), want 5", len(fs), err)
	}
	for _, f := range fs {
		want := detect.RecommendOpenDispute
		if strings.Contains(f.OrderID, "In-transit") {
			want = detect.RecommendExtendProtection
		}
		if f.Recommendation != want {
			t.Errorf("%s: %s, want %s (%s)", f.OrderID, f.Recommendation, want, f.Reason)
		}
		if want == detect.RecommendOpenDispute && !strings.Contains(f.Reason, "will not arrive") {
			t.Errorf("%s: reason %q", f.OrderID, f.Reason)
		}
	}
}

func TestReasonsComeInEveryConfiguredLanguageWithTheSameFacts(t *testing.T) {
	w := newWorld(t)
	w.Shipped("stalled", "RR123456785CN", "china-post", 5)
	w.Scan("RR123456785CN", "Electronic information received", 5)
	w.Shipped("bad-digit", "RR123456784CN", "china-post", 5)
	at := asOf(15)
	all, _ := detect.NewSet(db)
	fs, err := all.Eval(t.Context(), w.Conn, cfgZero, at)
	if err != nil || len(fs) < 2 {
		t.Fatalf("%d findings, %v", len(fs), err)
	}
	for _, f := range fs {
		en, ja := f.Reasons["en"], f.Reasons["ja"]
		if f.Reason != en || en == "" || ja == "" {
			t.Fatalf("%s: reason %q, reasons %v", f.Detector, f.Reason, f.Reasons)
		}
		for _, fact := range []string{f.TrackingNumber, "2026-10-05"} {
			if f.Detector == "invalid_tracking_number" && fact == "2026-10-05" {
				fact = "正しくは5"
				if !strings.Contains(en, "5 is required") {
					t.Errorf("en: %s", en)
				}
			}
			if !strings.Contains(ja, fact) {
				t.Errorf("%s: the Japanese reason lacks %q: %s", f.Detector, fact, ja)
			}
		}
		if !strings.Contains(ja, "全額返金を希望します") {
			t.Errorf("%s: %s", f.Detector, ja)
		}
	}
	jaOnly, err := all.Eval(t.Context(), w.Conn, detect.Config{ReasonLanguages: []string{"ja"}}, at)
	if err != nil || len(jaOnly[0].Reasons) != 1 || jaOnly[0].Reason != jaOnly[0].Reasons["ja"] {
		t.Fatalf("ja only: %+v, %v", jaOnly[0].Reasons, err)
	}
	if err := (&detect.Config{ReasonLanguages: []string{"fr"}}).Validate(); err == nil || !strings.Contains(err.Error(), "reason_languages[0]") {
		t.Errorf("an unknown language: %v", err)
	}
}

func TestAParcelThatMovedThenWentSilentIsFlagged(t *testing.T) {
	w := newWorld(t)
	w.order("quiet", "b1", tokyo, date(2026, 9, 1), date(2026, 9, 2), "RR373737375CN", 90)
	w.event("RR373737375CN", "Accepted", date(2026, 9, 3), nil, nil)
	w.event("RR373737375CN", "Departed from sorting center", date(2026, 9, 5), nil, nil)
	w.order("still-scanning", "b2", tokyo, date(2026, 9, 1), date(2026, 9, 2), "RR383838385CN", 90) // trap: slow, still scanned
	w.event("RR383838385CN", "Accepted", date(2026, 9, 3), nil, nil)
	w.event("RR383838385CN", "In transit", date(2026, 10, 10), nil, nil)
	w.Shipped("express", "1Z999AA10123456784", "ups", 5) // an express carrier: 10 days
	w.Scan("1Z999AA10123456784", "Departed from Facility", 6)
	w.order("delivered", "b4", tokyo, date(2026, 9, 1), date(2026, 9, 2), "RR393939395CN", 90) // trap: delivered
	w.event("RR393939395CN", "Accepted", date(2026, 9, 3), nil, nil)
	w.event("RR393939395CN", "Delivered", date(2026, 9, 12), nil, nil)
	w.order("other-parcel", "b5", tokyo, date(2026, 9, 20), date(2026, 9, 21), "RR404040405CN", 90) // trap: its scans predate the shipment
	w.event("RR404040405CN", "Accepted", date(2026, 8, 1), nil, nil)

	expect(t, "October 1: none yet", w.flagged("went_silent", date(2026, 10, 1)))
	// The postal parcel (30 days) goes silent on October 5, the express one (10 days) on October 16.
	expect(t, "October 8", w.flagged("went_silent", date(2026, 10, 8)), "quiet", "still-scanning") // its next scan is on the 10th
	expect(t, "October 17", w.flagged("went_silent", asOf(17)), "express", "quiet")
	fs, _ := detectNewEval(t, w, "went_silent", asOf(17))
	for _, f := range fs {
		if f.OrderID == "quiet" && (!strings.Contains(f.Reason, `("Departed from sorting center")`) || !strings.Contains(f.Reasons["ja"], "42日間")) {
			t.Errorf("reason: %s / %s", f.Reason, f.Reasons["ja"])
		}
	}
	expect(t, "with silent_days 45", w.flaggedWith("went_silent", detect.Config{SilentDays: 45}, asOf(17)), "express")
}

func detectNewEval(t *testing.T, w *world, name string, at time.Time) ([]detect.Finding, error) {
	t.Helper()
	d, _ := detectNew(t, name)
	return d.Eval(t.Context(), w.Conn, cfgZero, at)
}
