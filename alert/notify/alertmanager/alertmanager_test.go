package alertmanager_test

import (
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/trackwatch/trackwatch/alert"
	"github.com/trackwatch/trackwatch/alert/notify"
	"github.com/trackwatch/trackwatch/alert/notify/alertmanager"
	"github.com/trackwatch/trackwatch/alert/notify/notifytest"
	"github.com/trackwatch/trackwatch/detect"
	"github.com/trackwatch/trackwatch/secret"
)

var t0 = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

func alertURL(id string) string { return "https://trackwatch.example/api/v1/alerts/" + id }

// firing is a firing stalled_eir alert on order; every field is set.
func firing(order string) alert.Alert {
	ends := t0.Add(9 * 24 * time.Hour)
	amount := decimal.RequireFromString("129.90")
	return alert.Alert{
		AlertID: "al_" + order,
		Finding: detect.Finding{
			Detector: "stalled_eir", OrderID: order, TrackingNumber: "RR123456785CN",
			SellerID: "seller-7", BuyerID: "buyer-3", Marketplace: "aliexpress",
			Severity: detect.SeverityHigh, Recommendation: detect.RecommendOpenDispute,
			Reason:           "Only electronic information received for 9 days.",
			Evidence:         json.RawMessage(`{"events":1}`),
			ProtectionEndsAt: &ends, Amount: &amount,
		},
		FirstDetectedAt: t0.Add(-time.Hour), LastDetectedAt: t0,
		Status: alert.StatusFiring, AsOf: t0,
	}
}

func resolved(order string, at *time.Time) alert.Alert {
	a := firing(order)
	a.Status, a.ResolvedAt, a.LastDetectedAt = alert.StatusResolved, at, t0.Add(-5*time.Minute)
	return a
}

// request is what the test server saw.
type request struct {
	method, path string
	header       http.Header
	body         []byte
}

// receiver is an Alertmanager stand-in answering with the given statuses in turn (the
// last one repeating), recording the requests.
func receiver(t *testing.T, statuses ...int) (*httptest.Server, func() []request) {
	t.Helper()
	var mu sync.Mutex
	var got []request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, request{r.Method, r.URL.Path, r.Header.Clone(), body})
		status := statuses[min(len(got), len(statuses))-1]
		mu.Unlock()
		if status != http.StatusOK {
			http.Error(w, "no luck", status)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, func() []request {
		mu.Lock()
		defer mu.Unlock()
		return append([]request(nil), got...)
	}
}

// payload is the part of Alertmanager's PostableAlert the tests look at.
type payload struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
}

func decode(t *testing.T, body []byte) []payload {
	t.Helper()
	var out []payload
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("body is not a JSON array of alerts: %v\n%s", err, body)
	}
	return out
}

func newNotifier(srv *httptest.Server, base string, maxAlerts int) *alertmanager.Notifier {
	r := notify.ReceiverConfig{Name: "am", Type: notify.TypeAlertmanager, URL: secret.String(srv.URL + base),
		BearerToken: "tok", ResendInterval: time.Minute, MaxAlerts: maxAlerts}
	return alertmanager.New(r, alertURL, srv.Client())
}

func TestNotifyPostsOneAlertPerChangeToTheV2API(t *testing.T) {
	srv, requests := receiver(t, http.StatusOK)
	// A base URL with a path prefix (behind a proxy) and a trailing slash.
	n := newNotifier(srv, "/am/", 64)
	resolvedAt := t0.Add(-2 * time.Minute)
	d := notify.Delivery{ID: "batch_x", Attempt: 1, Now: t0, Changes: []alert.Change{
		{ChangeID: "c1", Kind: alert.ChangeFired, Alert: firing("O-1")},
		{ChangeID: "c2", Kind: alert.ChangeRefired, Alert: firing("O-2")},
		{ChangeID: "c3", Kind: alert.ChangeResolved, Alert: resolved("O-3", &resolvedAt)},
		{ChangeID: "c4", Kind: alert.ChangeResolved, Alert: resolved("O-4", nil)},
	}}
	if err := n.Notify(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	got := requests()
	if len(got) != 1 {
		t.Fatalf("%d requests, want 1", len(got))
	}
	req := got[0]
	if req.method != http.MethodPost || req.path != "/am/api/v2/alerts" {
		t.Errorf("request %s %s, want POST /am/api/v2/alerts", req.method, req.path)
	}
	if ct := req.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	if auth := req.header.Get("Authorization"); auth != "Bearer tok" {
		t.Errorf("Authorization %q, want the receiver's bearer token", auth)
	}
	notifytest.GoldenJSON(t, "notify.json", req.body)

	alerts := decode(t, req.body)
	if len(alerts) != 4 {
		t.Fatalf("%d alerts, want one per change", len(alerts))
	}
	for i, want := range []struct {
		order  string
		endsAt time.Time
	}{
		{"O-1", t0.Add(4 * time.Minute)}, // firing: four resend intervals ahead
		{"O-2", t0.Add(4 * time.Minute)},
		{"O-3", resolvedAt}, // resolved: when it resolved
		{"O-4", t0},         // resolved without a time: now
	} {
		a := alerts[i]
		if a.Labels["order_id"] != want.order {
			t.Errorf("alert %d: order_id %q, want %q (changes in order)", i, a.Labels["order_id"], want.order)
		}
		if !a.EndsAt.Equal(want.endsAt) {
			t.Errorf("alert %d (%s): endsAt %s, want %s", i, want.order, a.EndsAt, want.endsAt)
		}
		if !a.StartsAt.Equal(t0.Add(-time.Hour)) {
			t.Errorf("alert %d: startsAt %s, want the first detection", i, a.StartsAt)
		}
		if a.GeneratorURL != alertURL("al_"+want.order) {
			t.Errorf("alert %d: generatorURL %q", i, a.GeneratorURL)
		}
	}
}

func TestEmptyLabelsAreLeftOut(t *testing.T) {
	srv, requests := receiver(t, http.StatusOK)
	n := newNotifier(srv, "", 64)
	a := firing("O-1")
	a.SellerID, a.Marketplace, a.Recommendation, a.Reason, a.ProtectionEndsAt, a.Amount = "", "", "", "", nil, nil
	if err := n.Notify(t.Context(), notify.Delivery{Now: t0, Changes: []alert.Change{{Kind: alert.ChangeFired, Alert: a}}}); err != nil {
		t.Fatal(err)
	}
	got := decode(t, requests()[0].body)[0]
	want := map[string]string{"alertname": "stalled_eir", "severity": "high", "order_id": "O-1", "tracking_number": "RR123456785CN"}
	if !maps.Equal(got.Labels, want) {
		t.Errorf("labels %v, want %v", got.Labels, want)
	}
	wantAnn := map[string]string{"summary": "stalled_eir: order O-1, tracking RR123456785CN", "alert_id": "al_O-1"}
	if !maps.Equal(got.Annotations, wantAnn) {
		t.Errorf("annotations %v, want %v", got.Annotations, wantAnn)
	}
}

func TestAResolutionBeforeTheStartEndsAtTheStart(t *testing.T) {
	srv, requests := receiver(t, http.StatusOK)
	n := newNotifier(srv, "", 64)
	early := t0.Add(-2 * time.Hour) // before FirstDetectedAt: Alertmanager would answer 400
	if err := n.Notify(t.Context(), notify.Delivery{Now: t0, Changes: []alert.Change{
		{Kind: alert.ChangeResolved, Alert: resolved("O-1", &early)}}}); err != nil {
		t.Fatal(err)
	}
	if a := decode(t, requests()[0].body)[0]; !a.EndsAt.Equal(a.StartsAt) {
		t.Errorf("endsAt %s, startsAt %s: want endsAt = startsAt", a.EndsAt, a.StartsAt)
	}
}

func TestAnswersOtherThan2xxAreHTTPErrors(t *testing.T) {
	for _, status := range []int{http.StatusBadRequest, http.StatusInternalServerError} {
		srv, _ := receiver(t, status)
		err := newNotifier(srv, "", 64).Notify(t.Context(), notify.Delivery{Now: t0,
			Changes: []alert.Change{{Kind: alert.ChangeFired, Alert: firing("O-1")}}})
		var he *notify.HTTPError
		if !errors.As(err, &he) || he.StatusCode != status {
			t.Errorf("answer %d: error %v, want *notify.HTTPError with status %d", status, err, status)
		}
	}
}

func TestResendPostsFiringAlertsInChunksOfMaxAlerts(t *testing.T) {
	srv, requests := receiver(t, http.StatusOK)
	n := newNotifier(srv, "", 2)
	var alerts []alert.Alert
	for _, o := range []string{"O-1", "O-2", "O-3", "O-4", "O-5"} {
		alerts = append(alerts, firing(o))
	}
	alerts = append(alerts[:2], append([]alert.Alert{resolved("O-R", nil)}, alerts[2:]...)...)
	now := t0.Add(30 * time.Second)
	if err := n.Resend(t.Context(), alerts, now); err != nil {
		t.Fatal(err)
	}
	var orders []string
	var sizes []int
	for _, req := range requests() {
		if req.path != "/api/v2/alerts" {
			t.Errorf("path %s", req.path)
		}
		batch := decode(t, req.body)
		sizes = append(sizes, len(batch))
		for _, a := range batch {
			orders = append(orders, a.Labels["order_id"])
			if !a.EndsAt.Equal(now.Add(4 * time.Minute)) {
				t.Errorf("%s: endsAt %s, want now + 4 resend intervals", a.Labels["order_id"], a.EndsAt)
			}
			if a.Labels["alertname"] != "stalled_eir" || a.Annotations["alert_id"] == "" {
				t.Errorf("%s: resent alert lacks the labels or annotations of Notify: %+v", a.Labels["order_id"], a)
			}
		}
	}
	if want := []int{2, 2, 1}; !slices.Equal(sizes, want) {
		t.Errorf("request sizes %v, want %v", sizes, want)
	}
	if want := []string{"O-1", "O-2", "O-3", "O-4", "O-5"}; !slices.Equal(orders, want) {
		t.Errorf("resent %v, want %v (the resolved alert skipped)", orders, want)
	}
}

func TestResendGoesOnAfterAFailedRequest(t *testing.T) {
	srv, requests := receiver(t, http.StatusServiceUnavailable, http.StatusOK)
	n := newNotifier(srv, "", 1)
	err := n.Resend(t.Context(), []alert.Alert{firing("O-1"), firing("O-2")}, t0)
	var he *notify.HTTPError
	if !errors.As(err, &he) || he.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("error %v, want the first request's 503", err)
	}
	if got := len(requests()); got != 2 {
		t.Errorf("%d requests, want 2: one failure does not stop the rest", got)
	}
}

func TestASellersAlertHasASellerLabelAndNoOrder(t *testing.T) {
	srv, requests := receiver(t, http.StatusOK)
	n := newNotifier(srv, "", 64)
	a := firing("")
	a.Detector, a.TrackingNumber, a.BuyerID, a.Recommendation = detect.SellerValidTrackingRate, "", "", detect.RecommendReviewSeller
	a.ProtectionEndsAt, a.Amount = nil, nil
	if err := n.Notify(t.Context(), notify.Delivery{Now: t0, Changes: []alert.Change{{Kind: alert.ChangeFired, Alert: a}}}); err != nil {
		t.Fatal(err)
	}
	got := decode(t, requests()[0].body)[0]
	want := map[string]string{"alertname": "seller_valid_tracking_rate", "severity": "high", "seller_id": "seller-7",
		"marketplace": "aliexpress", "recommendation": "review_seller"}
	if !maps.Equal(got.Labels, want) {
		t.Errorf("labels %v, want %v", got.Labels, want)
	}
	if want := "seller_valid_tracking_rate: seller seller-7 on aliexpress: review_seller"; got.Annotations["summary"] != want {
		t.Errorf("summary %q, want %q", got.Annotations["summary"], want)
	}
}
