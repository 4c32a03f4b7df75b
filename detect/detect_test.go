package detect_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/trackwatch/trackwatch/detect"
	"github.com/trackwatch/trackwatch/detect/detecttest"
	"github.com/trackwatch/trackwatch/devstack"
)

func TestMain(m *testing.M) {
	devstack.RunChildIfRequested()
	if spec := os.Getenv(schedulerChildEnv); spec != "" {
		os.Exit(runSchedulerChild(spec))
	}
	os.Exit(m.Run())
}

const db = "det"

// world is detecttest's fixture world, with this package's assertions.
type world struct{ *detecttest.World }

func newWorld(t *testing.T) *world { return &world{detecttest.NewWorld(t, db)} }

var (
	storeConfig = detecttest.StoreConfig
	day         = detecttest.Day
	asOf        = detecttest.AsOf
)

var cfgZero detect.Config

func detectNew(t *testing.T, name string) (*detect.Set, error) {
	t.Helper()
	d, err := detect.NewSet(db, name)
	if err != nil {
		t.Fatal(err)
	}
	return d, nil
}

func (w *world) flagged(name string, at time.Time) []string {
	w.T.Helper()
	return w.flaggedWith(name, detect.Config{}, at)
}

func (w *world) flaggedWith(name string, cfg detect.Config, at time.Time) []string {
	w.T.Helper()
	d, err := detect.NewSet(db, name)
	if err != nil {
		w.T.Fatal(err)
	}
	fs := w.evalBothWays(d, cfg, at)
	var ids []string
	for _, f := range fs {
		ids = append(ids, f.OrderID)
		if f.Detector != name {
			w.T.Errorf("a %s run returned a %q finding", name, f.Detector)
		}
		if !json.Valid(f.Evidence) {
			w.T.Errorf("%s evidence for %s is not JSON: %s", name, f.OrderID, f.Evidence)
		}
		okRec := f.Recommendation == "open_dispute" || (name == "protection_expiry" && f.Recommendation == "extend_protection")
		switch name {
		case "carrier_mismatch":
			okRec = f.Recommendation == "verify_carrier" // never a dispute by itself
		case "dispute_unanswered":
			okRec = f.Recommendation == "escalate_dispute"
		case "refund_overdue":
			okRec = f.Recommendation == "contact_support"
		}
		// an order never shipped (no number) has no protection running, so no deadline
		if f.Reason == "" || len(f.Evidence) == 0 || !okRec || (f.ProtectionEndsAt == nil) != (f.TrackingNumber == "") || f.SellerID != "s1" {
			w.T.Errorf("%s finding for %s lacks a field: %+v", name, f.OrderID, f)
		}
	}
	return ids
}

// evalBothWays evaluates d as of at over the carrier summaries and again over the events
// alone, and fails the test unless both give the same findings.
func (w *world) evalBothWays(d *detect.Set, cfg detect.Config, at time.Time) []detect.Finding {
	w.T.Helper()
	fs, err := d.Eval(context.Background(), w.Conn, cfg, at)
	if err != nil {
		w.T.Fatal(err)
	}
	cfg.FromEvents = true
	ev, err := d.Eval(context.Background(), w.Conn, cfg, at)
	if err != nil {
		w.T.Fatal(err)
	}
	if !reflect.DeepEqual(fs, ev) {
		w.T.Errorf("as of %s (%+v), over the summaries %d findings, over the events %d; %s", at, cfg.ByCarrier, len(fs), len(ev), firstDifference(fs, ev))
	}
	return fs
}

func firstDifference(a, b []detect.Finding) string {
	for i := range max(len(a), len(b)) {
		if i >= len(a) || i >= len(b) || !reflect.DeepEqual(a[i], b[i]) {
			show := func(fs []detect.Finding) string {
				if i >= len(fs) {
					return "(none)"
				}
				return fmt.Sprintf("%s %s %s evidence %s", fs[i].Detector, fs[i].OrderID, fs[i].Reason, fs[i].Evidence)
			}
			return fmt.Sprintf("first difference, finding %d:\nsummaries %s\nevents    %s", i, show(a), show(b))
		}
	}
	return ""
}

func expect(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
		t.Errorf("%s: flagged %v, want %v", what, got, want)
	}
}

func TestStalledEIR(t *testing.T) {
	w := newWorld(t)
	w.Shipped("stalled", "RR123456785CN", "china-post", 5)
	w.Scan("RR123456785CN", "Electronic information received", 5)
	w.Shipped("slow-seller", "RR000000000CN", "china-post", 5) // trap: EIR, then it moved
	w.Scan("RR000000000CN", "Shipping information received", 5)
	w.Scan("RR000000000CN", "Accepted", 8)
	w.Shipped("moves-later", "RR111111115CN", "china-post", 5) // moves on the 14th
	w.Scan("RR111111115CN", "Label created", 5)
	w.Scan("RR111111115CN", "In transit", 14)

	expect(t, "6 days after the first EIR", w.flagged("stalled_eir", asOf(11)))
	expect(t, "8 days after", w.flagged("stalled_eir", asOf(13)), "moves-later", "stalled")
	expect(t, "after the parcel moved", w.flagged("stalled_eir", asOf(15)), "stalled")

	d, _ := detect.NewSet(db, "stalled_eir")
	fs, _ := d.Eval(context.Background(), w.Conn, detect.Config{}, asOf(15))
	var ev struct {
		Timeline []struct{ At, Status, RawStatus string } `json:"timeline"`
	}
	if err := json.Unmarshal(fs[0].Evidence, &ev); err != nil || len(ev.Timeline) != 1 || ev.Timeline[0].Status != "info_received" {
		t.Fatalf("evidence timeline: %+v (%v) from %s", ev, err, fs[0].Evidence)
	}
}

func TestNeverScannedCountsWorkingDays(t *testing.T) {
	w := newWorld(t)
	w.Shipped("silent", "RR222222225CN", "china-post", 5) // Monday
	w.Shipped("scanned", "RR333333335CN", "china-post", 5)
	w.Scan("RR333333335CN", "Electronic information received", 6)

	expect(t, "Friday, 4 working days", w.flagged("never_scanned", asOf(9)))
	expect(t, "Sunday, still 4 working days", w.flagged("never_scanned", asOf(11)))
	expect(t, "next Monday, 5 working days", w.flagged("never_scanned", asOf(12)), "silent")
}

func TestNeverScannedLeavesOrdersShippedBeforeTheRecycleWindowAlone(t *testing.T) {
	w := newWorld(t)
	w.order("ancient", "b1", tokyo, date(2025, 8, 1), date(2025, 8, 2), "RR222222225CN", 60) // still "shipped" 14 months on
	w.event("RR222222225CN", "Delivered", date(2025, 8, 20), nil, nil)                       // history outside the window
	w.order("silent", "b2", tokyo, date(2026, 10, 3), date(2026, 10, 5), "RR333333335CN", 60)

	expect(t, "never scanned", w.flagged("never_scanned", asOf(20)), "silent")
}

func TestInvalidTrackingNumber(t *testing.T) {
	w := newWorld(t)
	w.Shipped("good-s10", "RR123456785CN", "china-post", 5)
	w.Shipped("bad-check-digit", "RR123456784CN", "china-post", 5)
	w.Shipped("not-s10-for-post", "ABC123", "china-post", 5)
	w.Shipped("good-ups", "1Z999AA10123456784", "ups", 5)
	w.Shipped("bad-ups", "1Z12345", "ups", 5)
	w.Shipped("courier-free-form", "YT2412345678901", "yunexpress", 5)

	w.Shipped("good-dhl", "1234567891", "dhl", 5)              // 123456789 mod 7 = 1
	w.Shipped("bad-dhl", "1234567894", "dhl", 5)               // 4 where 1
	w.Shipped("dhl-ecommerce", "GM2951173225174494", "dhl", 5) // another DHL shape: no public check
	w.Shipped("good-yamato", "123456789013", "yamato", 5)      // 12345678901 mod 7 = 3
	w.Shipped("bad-yamato", "123456789010", "yamato", 5)       // 123456789012 would be a valid FedEx number
	w.Shipped("short-yamato", "12345678", "yamato", 5)
	w.Shipped("good-fedex", "123456789012", "fedex", 5)
	w.Shipped("bad-fedex", "12345", "fedex", 5)
	w.Shipped("good-usps", "9400100000000000000006", "usps", 5)
	w.Shipped("bad-usps", "9400100000000000000007", "usps", 5)
	w.Shipped("good-ems", "EA123456785CN", "china-ems", 5)
	w.Shipped("registered-as-ems", "RR123456785CN", "china-ems", 5)

	// the carrier's scans outrank the format: a number it scanned and delivered was issued
	w.Shipped("scanned-bad-shape", "RR123456772CN", "china-post", 5) // 1 is the check digit
	w.Scan("RR123456772CN", "Accepted at the post office", 5)
	w.Scan("RR123456772CN", "Delivered", 6)
	// another courier's number: the seller declared the wrong carrier
	w.Shipped("ups-number-as-fedex", "1Z5R89390357567127", "fedex", 5)
	w.Shipped("scanned-ups-number-as-fedex", "1Z879E930346834440", "fedex", 5)
	w.Scan("1Z879E930346834440", "Picked up", 5)

	expect(t, "formats", w.flagged("invalid_tracking_number", asOf(6)), "bad-check-digit", "bad-dhl", "bad-fedex", "bad-ups",
		"bad-usps", "bad-yamato", "not-s10-for-post", "short-yamato")
	expect(t, "another courier's number", w.flagged("carrier_mismatch", asOf(6)), "registered-as-ems", "ups-number-as-fedex")
	mm, _ := detect.NewSet(db, "carrier_mismatch")
	ms, _ := mm.Eval(context.Background(), w.Conn, detect.Config{}, asOf(6))
	for _, f := range ms {
		if f.Severity != detect.SeverityLow || f.Recommendation != detect.RecommendVerifyCarrier {
			t.Errorf("carrier_mismatch finding %s: %s %s, want low and verify_carrier (no dispute)", f.OrderID, f.Severity, f.Recommendation)
		}
	}
	d, _ := detect.NewSet(db, "invalid_tracking_number")
	fs, _ := d.Eval(context.Background(), w.Conn, detect.Config{}, asOf(6))
	if len(fs) == 0 || !strings.Contains(fs[0].Reason, "check digit is 4 where 5 is required") {
		t.Fatalf("reason for the bad check digit: %+v", fs)
	}
}

func TestBadScheduleNamesTheKey(t *testing.T) {
	for _, tc := range []struct {
		cfg  detect.Config
		want string
	}{
		{detect.Config{Schedule: "every day"}, "schedule:"},
		{detect.Config{Schedules: map[string]string{"stalled_eir": "61 * * * *"}}, "schedules.stalled_eir:"},
		{detect.Config{Schedules: map[string]string{"psychic": "* * * * *"}}, "schedules.psychic: unknown detector"},
		{detect.Config{StalledDays: -1}, "stalled_days:"},
	} {
		if err := tc.cfg.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate(%+v) = %v, want %q", tc.cfg, err, tc.want)
		}
	}
}

func TestThresholdsOverridePerCarrierThenMarketplace(t *testing.T) {
	w := newWorld(t)
	w.Shipped("ups-order", "1Z999AA10123456784", "ups", 5)
	w.Scan("1Z999AA10123456784", "Label created", 5)
	w.Shipped("post-order", "RR123456785CN", "china-post", 5)
	w.Scan("RR123456785CN", "Electronic information received", 5)
	at := asOf(10) // five days of EIR only

	expect(t, "global 7 days", w.flaggedWith("stalled_eir", detect.Config{}, at))
	expect(t, "ups: 3 days", w.flaggedWith("stalled_eir", detect.Config{ByCarrier: map[string]detect.Thresholds{"ups": {StalledDays: 3}}}, at), "ups-order")
	expect(t, "aliexpress: 4 days", w.flaggedWith("stalled_eir", detect.Config{ByMarketplace: map[string]detect.Thresholds{"aliexpress": {StalledDays: 4}}}, at), "post-order", "ups-order")
	expect(t, "carrier wins over marketplace", w.flaggedWith("stalled_eir", detect.Config{
		ByCarrier:     map[string]detect.Thresholds{"ups": {StalledDays: 3}},
		ByMarketplace: map[string]detect.Thresholds{"aliexpress": {StalledDays: 10}},
	}, at), "ups-order")
	if err := (&detect.Config{ByCarrier: map[string]detect.Thresholds{"ups": {StalledDays: -2}}}).Validate(); err == nil || !strings.Contains(err.Error(), "by_carrier.ups.stalled_days") {
		t.Fatalf("bad override: %v", err)
	}
}

// The detectors read the verdicts of the latest judging run's version: verdicts an
// instance of an older release writes after a run of the new one are not read.
func TestOnlyTheLatestJudgingRunsVerdictsCount(t *testing.T) {
	w := newWorld(t)
	w.Shipped("bad", "1Z5R89390357567128", "ups", 5)
	expect(t, "before any run, every verdict", w.flagged("invalid_tracking_number", asOf(6)), "bad")
	if err := w.Conn.Exec(t.Context(), "INSERT INTO "+db+".number_check_runs (spec, pairs) VALUES ({spec:String}, 1)",
		clickhouse.Named("spec", detecttest.Numbers(t).Version())); err != nil {
		t.Fatal(err)
	}
	expect(t, "a run of the verdict's version", w.flagged("invalid_tracking_number", asOf(6)), "bad")
	if err := w.Conn.Exec(t.Context(), "INSERT INTO "+db+".number_check_runs (spec, pairs) VALUES ('a later version', 1)"); err != nil {
		t.Fatal(err)
	}
	expect(t, "after a run of another version", w.flagged("invalid_tracking_number", asOf(6)))
}

func TestValidateChecksWithoutFillingAndWithDefaultsFillsOnce(t *testing.T) {
	var c detect.Config
	if err := c.Validate(); err != nil {
		t.Fatalf("the zero config: %v", err)
	}
	if !reflect.DeepEqual(c, detect.Config{}) {
		t.Fatalf("Validate changed the config: %+v", c)
	}
	d := c.WithDefaults()
	if d.StalledDays != 7 || d.RecycleMonths != 12 || d.SilentDays != 30 || d.SilentDaysExpress != 10 || d.Schedule != "*/5 * * * *" ||
		len(d.ReasonLanguages) != 2 || len(d.PostalCarriers) == 0 || d.FullRunEvery != 24*time.Hour {
		t.Fatalf("WithDefaults: %+v", d)
	}
	if !reflect.DeepEqual(d.WithDefaults(), d) {
		t.Fatal("WithDefaults of a filled config changed it")
	}
	if err := d.Validate(); err != nil {
		t.Fatalf("the defaults do not validate: %v", err)
	}
}
