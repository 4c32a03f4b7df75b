package detect_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/trackwatch/trackwatch/detect"
)

// at is October d, 2026 (d past 31 runs into November) at hour h UTC.
func at(d, h int) time.Time { return time.Date(2026, 10, d, h, 0, 0, 0, time.UTC) }

// step is one order event of the buyer's journey: a status at a moment, with the
// contract's other fields as extra JSON ("" for none).
type step struct {
	status string
	at     time.Time
	extra  string
}

// journey inserts an order's events: placed on October 1 (amount 25.5), then steps.
func (w *world) journey(order string, steps ...step) {
	w.T.Helper()
	msgs := []string{fmt.Sprintf(`{"event_id":"%s-placed","order_id":"%s","seller_id":"s1","buyer_id":"b-%s","status":"placed","marketplace":"aliexpress","occurred_at":"%s","ship_to":{"country":"JP","city":"Tokyo","postal_code":"100-0001"},"amount":25.5,"currency":"USD"}`,
		order, order, order, at(1, 9).Format(time.RFC3339))}
	for i, s := range steps {
		extra := ""
		if s.extra != "" {
			extra = "," + s.extra
		}
		msgs = append(msgs, fmt.Sprintf(`{"event_id":"%s-%d","order_id":"%s","seller_id":"s1","buyer_id":"b-%s","status":"%s","marketplace":"aliexpress","occurred_at":"%s"%s}`,
			order, i, order, order, s.status, s.at.Format(time.RFC3339), extra))
	}
	w.Orders(msgs...)
}

func shipped(tn string, t time.Time) step {
	return step{"shipped", t, fmt.Sprintf(`"tracking_number":%q,"carrier":"china-post"`, tn)}
}

func (w *world) findings(names []string, cfg detect.Config, t time.Time) []detect.Finding {
	w.T.Helper()
	d, err := detect.NewSet(db, names...)
	if err != nil {
		w.T.Fatal(err)
	}
	return w.evalBothWays(d, cfg, t)
}

func finding(t *testing.T, fs []detect.Finding, detector, order string) detect.Finding {
	t.Helper()
	for _, f := range fs {
		if f.Detector == detector && f.OrderID == order {
			return f
		}
	}
	t.Fatalf("no %s finding for %s in %d findings", detector, order, len(fs))
	return detect.Finding{}
}

// cancel_dodged: a shipment declared within 48 hours of a cancellation request, with no
// physical scan by the time the stalled rule looks (7 days after the shipment).
func TestCancelDodged(t *testing.T) {
	w := newWorld(t)
	w.journey("dodged", step{"cancel_requested", at(2, 10), `"reason":"no longer needed"`}, shipped("RR123456785CN", at(3, 9)))
	w.Scan("RR123456785CN", "Electronic information received", 3)
	w.journey("rejected", step{"cancel_rejected", at(2, 10), ""}, shipped("RR222222225CN", at(4, 9))) // 47 hours
	// traps: the seller shipped for real; shipped long after the request; no request
	w.journey("shipped-for-real", step{"cancel_requested", at(2, 10), ""}, shipped("RR333333335CN", at(3, 9)))
	w.Scan("RR333333335CN", "Electronic information received", 3)
	w.Scan("RR333333335CN", "Accepted", 5)
	w.journey("shipped-later", step{"cancel_requested", at(2, 10), ""}, shipped("RR000000000CN", at(4, 11))) // 49 hours
	w.journey("no-request", shipped("RR111111115CN", at(3, 9)))
	// the parcel was scanned, but only after the stalled rule looked
	w.journey("scanned-too-late", step{"cancel_requested", at(2, 10), ""}, shipped("RR444444445CN", at(3, 9)))
	w.Scan("RR444444445CN", "Accepted", 12)

	expect(t, "6 days after the shipment", w.flagged("cancel_dodged", at(9, 12)))
	expect(t, "7 days after", w.flagged("cancel_dodged", at(10, 12)), "dodged", "scanned-too-late")
	expect(t, "8 days after the 47-hour shipment", w.flagged("cancel_dodged", at(12, 12)), "dodged", "rejected", "scanned-too-late")
	expect(t, "after the late scan", w.flagged("cancel_dodged", at(13, 12)), "dodged", "rejected", "scanned-too-late")
	expect(t, "a 50-hour window for aliexpress", w.flaggedWith("cancel_dodged",
		detect.Config{ByMarketplace: map[string]detect.Thresholds{"aliexpress": {CancelDodgeHours: 50}}}, at(13, 12)),
		"dodged", "rejected", "scanned-too-late", "shipped-later")

	fs := w.findings([]string{"stalled_eir", "never_scanned", "cancel_dodged"}, detect.Config{}, at(13, 12))
	f := finding(t, fs, "cancel_dodged", "dodged")
	if f.Severity != detect.SeverityHigh || f.Recommendation != detect.RecommendOpenDispute ||
		!strings.Contains(f.Reason, "on 2026-10-02") || !strings.Contains(f.Reason, "23 hours later") || !strings.Contains(f.Reasons["ja"], "23時間後") {
		t.Errorf("cancel_dodged finding: %s %s %q %q", f.Severity, f.Recommendation, f.Reason, f.Reasons["ja"])
	}
	if f.ProtectionEndsAt == nil || f.ProtectionEndsAt.Year() != 2026 {
		t.Errorf("cancel_dodged, shipped: protection ends at %v, want 60 days after the shipment", f.ProtectionEndsAt)
	}
	var ev struct {
		HoursToShip int `json:"hours_to_ship"`
		WindowHours int `json:"window_hours"`
		Timeline    []struct{ Status string }
	}
	if err := json.Unmarshal(f.Evidence, &ev); err != nil || ev.HoursToShip != 23 || ev.WindowHours != 48 || len(ev.Timeline) != 1 {
		t.Errorf("evidence %s: %+v %v", f.Evidence, ev, err)
	}
	// it lifts the order's other signals a level: stalled (high) becomes critical there;
	// never_scanned on an order without a cancellation request stays high
	if f := finding(t, fs, "stalled_eir", "dodged"); f.Severity != detect.SeverityCritical {
		t.Errorf("stalled_eir on a dodged cancellation: %s, want critical", f.Severity)
	}
	if f := finding(t, fs, "never_scanned", "no-request"); f.Severity != detect.SeverityHigh {
		t.Errorf("never_scanned without a cancellation request: %s, want high", f.Severity)
	}
	if f := finding(t, fs, "never_scanned", "rejected"); f.Severity != detect.SeverityCritical {
		t.Errorf("never_scanned on a dodged cancellation: %s, want critical", f.Severity)
	}
}

// dispute_unanswered: a dispute with no answer and no outcome after the seller's 5-day
// response period.
func TestDisputeUnansweredAfterTheFiveDayResponsePeriod(t *testing.T) {
	w := newWorld(t)
	w.journey("unanswered", shipped("RR123456785CN", at(2, 9)), step{"disputed", at(10, 9), `"reason":"not received"`})
	w.journey("answered", shipped("RR222222225CN", at(2, 9)), step{"disputed", at(10, 9), ""}, step{"dispute_responded", at(13, 9), ""})
	w.journey("escalated", shipped("RR333333335CN", at(2, 9)), step{"disputed", at(10, 9), ""}, step{"dispute_escalated", at(14, 9), ""})
	w.journey("refund-granted", shipped("RR000000000CN", at(2, 9)), step{"disputed", at(10, 9), ""}, step{"refund_approved", at(14, 9), ""})
	w.journey("refunded", shipped("RR111111115CN", at(2, 9)), step{"disputed", at(10, 9), ""}, step{"refunded", at(14, 9), ""})
	// answered once, then disputed again and left unanswered
	w.journey("disputed-again", shipped("RR444444445CN", at(2, 9)), step{"disputed", at(5, 9), ""},
		step{"dispute_responded", at(6, 9), ""}, step{"disputed", at(10, 9), ""})

	expect(t, "4 days after", w.flagged("dispute_unanswered", at(14, 12)))
	expect(t, "5 days after", w.flagged("dispute_unanswered", at(15, 12)), "disputed-again", "unanswered")
	expect(t, "7 days for aliexpress", w.flaggedWith("dispute_unanswered",
		detect.Config{ByMarketplace: map[string]detect.Thresholds{"aliexpress": {DisputeAnswerDays: 7}}}, at(15, 12)))
	expect(t, "7 days, then", w.flaggedWith("dispute_unanswered", detect.Config{DisputeAnswerDays: 7}, at(17, 12)), "disputed-again", "unanswered")

	fs := w.findings([]string{"dispute_unanswered"}, detect.Config{}, at(16, 12))
	f := finding(t, fs, "dispute_unanswered", "unanswered")
	if f.Recommendation != detect.RecommendEscalateDispute || !strings.Contains(f.Reason, "had 5 days to respond and has not responded in 6 days") ||
		!strings.Contains(f.Reasons["ja"], "回答期限は5日") {
		t.Errorf("finding: %s %q %q", f.Recommendation, f.Reason, f.Reasons["ja"])
	}
}

// refund_overdue: each payment method's upper bound from the guides, in business days
// after the day the refund became due (approved on Monday, October 5, 2026).
func TestRefundOverdueAfterEachPaymentMethodsWindow(t *testing.T) {
	w := newWorld(t)
	for _, tc := range []struct {
		method string
		window int
		// the first day flagged: the day after the window's last business day
		first time.Time
	}{
		{"paypal", 5, at(13, 0)},           // Tue 6 .. Mon 12
		{"wallet", 5, at(13, 0)},           // as PayPal
		{"card_debit", 10, at(20, 0)},      // .. Mon 19
		{"card_credit", 15, at(27, 0)},     // .. Mon 26
		{"bank_transfer", 20, at(31+3, 0)}, // .. Mon, November 2
		{"convenience_store", 20, at(34, 0)},
		{"other", 20, at(34, 0)},
		{"", 20, at(34, 0)}, // unknown: 20 business days
	} {
		name := "refund-" + tc.method
		if tc.method == "" {
			name = "refund-unknown"
		}
		paid := step{"paid", at(1, 10), ""}
		if tc.method != "" {
			paid.extra = fmt.Sprintf(`"payment_method":%q`, tc.method)
		}
		w.journey(name, paid, step{"cancel_requested", at(2, 9), ""}, step{"refund_approved", at(5, 10), ""})
		t.Run(name, func(t *testing.T) {
			if got := w.flagged("refund_overdue", tc.first.Add(-time.Minute)); containsOrder(got, name) {
				t.Errorf("flagged before its %d business days passed", tc.window)
			}
			fs := w.findings([]string{"refund_overdue"}, detect.Config{}, tc.first.Add(12*time.Hour))
			f := finding(t, fs, "refund_overdue", name)
			want := fmt.Sprintf("refunded within %d business days; %d business days", tc.window, tc.window)
			if f.Recommendation != detect.RecommendContactSupport || !strings.Contains(f.Reason, want) || !strings.Contains(f.Reason, "has not arrived") ||
				!strings.Contains(f.Reasons["ja"], fmt.Sprintf("%d営業日以内", tc.window)) {
				t.Errorf("finding: %s %q %q, want %q", f.Recommendation, f.Reason, f.Reasons["ja"], want)
			}
		})
	}
}

func containsOrder(ids []string, id string) bool {
	for _, i := range ids {
		if i == id {
			return true
		}
	}
	return false
}

func TestRefundOverdueTrapsPartialRefundsCancellationsAndHolidays(t *testing.T) {
	w := newWorld(t)
	pp := step{"paid", at(1, 10), `"payment_method":"paypal"`}
	w.journey("in-time", pp, step{"refund_approved", at(5, 10), ""}, step{"refund_completed", at(9, 10), `"refund_amount":25.5`})
	w.journey("completed-no-amount", pp, step{"refund_approved", at(5, 10), ""}, step{"refund_completed", at(12, 20), ""})
	w.journey("partial", pp, step{"refund_approved", at(5, 10), `"refund_amount":20`}, step{"refund_completed", at(8, 10), `"refund_amount":12.5`})
	w.journey("late", pp, step{"refund_approved", at(5, 10), ""}, step{"refund_completed", at(14, 10), ""})
	w.journey("v1-refunded", pp, step{"refund_approved", at(5, 10), ""}, step{"refunded", at(7, 10), ""})
	// a cancellation won before shipment: the refund is due from the cancellation
	w.journey("cancellation-won", pp, step{"cancel_requested", at(2, 9), ""}, step{"cancelled", at(6, 9), ""})
	// a cancellation nobody asked for (the marketplace's own): not followed
	w.journey("auto-cancelled", pp, step{"cancelled", at(6, 9), ""})

	expect(t, "Monday the 12th", w.flagged("refund_overdue", at(12, 12)))
	expect(t, "Tuesday the 13th", w.flagged("refund_overdue", at(13, 12)), "late", "partial")
	expect(t, "Wednesday the 14th", w.flagged("refund_overdue", at(14, 12)), "cancellation-won", "partial")
	expect(t, "a holiday on the 12th for aliexpress", w.flaggedWith("refund_overdue",
		detect.Config{Holidays: map[string][]string{"aliexpress": {"2026-10-12"}}}, at(13, 12)))
	expect(t, "PayPal 3 days for aliexpress", w.flaggedWith("refund_overdue",
		detect.Config{ByMarketplace: map[string]detect.Thresholds{"aliexpress": {RefundDaysPaypal: 3}}}, at(9, 12)), "completed-no-amount", "late", "partial")

	fs := w.findings([]string{"refund_overdue"}, detect.Config{}, at(14, 12))
	f := finding(t, fs, "refund_overdue", "partial")
	if !strings.Contains(f.Reason, "only 12.5 of 20 has been refunded: 7.5 is missing") || !strings.Contains(f.Reason, "paid by PayPal") {
		t.Errorf("partial refund's reason: %q", f.Reason)
	}
	var ev struct {
		Method  string `json:"payment_method"`
		Waited  int    `json:"business_days_waited"`
		Window  int    `json:"window_business_days"`
		Missing string `json:"missing_amount"`
	}
	if err := json.Unmarshal(f.Evidence, &ev); err != nil || ev.Method != "paypal" || ev.Waited != 6 || ev.Window != 5 || ev.Missing != "7.5" {
		t.Errorf("evidence %s: %+v %v", f.Evidence, ev, err)
	}
	if f := finding(t, fs, "refund_overdue", "cancellation-won"); !strings.HasPrefix(f.Reason, "My cancellation of this order was approved on 2026-10-06") {
		t.Errorf("cancellation's reason: %q", f.Reason)
	}
	// never shipped: no protection period runs, so the finding has no deadline (not one
	// counted from 1970, which sorted it first in the queue and as flagged after protection)
	for _, order := range []string{"cancellation-won", "partial"} {
		if f := finding(t, fs, "refund_overdue", order); f.ProtectionEndsAt != nil {
			t.Errorf("%s, never shipped: protection ends at %v, want none", order, f.ProtectionEndsAt)
		}
	}
	if err := (&detect.Config{Holidays: map[string][]string{"aliexpress": {"12 October"}}}).Validate(); err == nil || !strings.Contains(err.Error(), "holidays.aliexpress[0]") {
		t.Errorf("a bad holiday: %v", err)
	}
}
