package httpapi_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trackwatch/trackwatch/alert"
	"github.com/trackwatch/trackwatch/detect"
	"github.com/trackwatch/trackwatch/httpapi"
	"github.com/trackwatch/trackwatch/lookup"
	"github.com/trackwatch/trackwatch/trackingnumber"
)

// fakeAlerts is an alert store and an event tables' reader in memory, for the handlers
// alone.
type fakeAlerts struct {
	queries     []alert.Query
	acts        []alert.Action
	caseQueries []alert.CaseQuery
	caseActs    []string // case id: action
}

func (f *fakeAlerts) Cases(_ context.Context, q alert.CaseQuery) (alert.CasePage, error) {
	f.caseQueries = append(f.caseQueries, q)
	return alert.CasePage{Cases: []alert.CaseSummary{{CaseID: "c1", OrderID: "o1", Signals: 2, Detectors: []string{"protection_expiry", "stalled_eir"},
		Status: alert.StatusFiring, State: alert.CaseOpen}}}, nil
}

func (f *fakeAlerts) ActCase(_ context.Context, id string, a alert.Action, _ time.Time) (alert.CaseSummary, error) {
	if id != "c1" {
		return alert.CaseSummary{}, alert.ErrNotFound
	}
	if a.Action == "" {
		return alert.CaseSummary{}, fmt.Errorf("%w: action missing", alert.ErrBadAction)
	}
	f.caseActs = append(f.caseActs, id+": "+string(a.Action))
	return alert.CaseSummary{CaseID: id, State: alert.CaseClosed, Outcome: a.Outcome}, nil
}

func (f *fakeAlerts) Case(_ context.Context, id string) (lookup.CaseView, error) {
	if id != "c1" {
		return lookup.CaseView{}, alert.ErrNotFound
	}
	return lookup.CaseView{CaseDetail: alert.CaseDetail{CaseSummary: alert.CaseSummary{CaseID: "c1"}, Dispute: map[string]string{"en": "x"}}}, nil
}

func (f *fakeAlerts) Query(_ context.Context, q alert.Query) (alert.Page, error) {
	f.queries = append(f.queries, q)
	if q.Detector == "never_scanned" {
		return alert.Page{}, fmt.Errorf("%w: boom", alert.ErrBadQuery)
	}
	if q.Detector == detect.SellerValidTrackingRate {
		return alert.Page{Alerts: []alert.Listed{{Alert: alert.Alert{AlertID: "sv1", Status: alert.StatusFiring,
			Finding: detect.Finding{Detector: q.Detector, SellerID: "s9", Marketplace: "aliexpress", Severity: detect.SeverityCritical,
				Recommendation: detect.RecommendReviewSeller, Reason: "Seller s9 has a valid tracking rate of 60% on aliexpress"}}}}}, nil
	}
	p := alert.Page{Alerts: []alert.Listed{{Alert: alert.Alert{AlertID: "a1", Status: alert.StatusFiring,
		Finding: detect.Finding{Detector: "stalled_eir", OrderID: "o1", Reason: "=HYPERLINK(\"x\")"}}}}}
	if q.Cursor == "" && q.Limit == 1000 {
		p.Next = "page2"
	}
	return p, nil
}

func (f *fakeAlerts) Detail(_ context.Context, id string) (lookup.Detail, error) {
	if id != "a1" {
		return lookup.Detail{}, alert.ErrNotFound
	}
	return lookup.Detail{Listed: alert.Listed{Alert: alert.Alert{AlertID: "a1"}}}, nil
}

func (f *fakeAlerts) Act(_ context.Context, id string, a alert.Action, _ time.Time) (alert.Case, error) {
	if a.Action == "" {
		return alert.Case{}, fmt.Errorf("%w: action missing", alert.ErrBadAction)
	}
	f.acts = append(f.acts, a)
	return alert.Case{State: alert.CaseAcknowledged, Actions: 1}, nil
}

func (f *fakeAlerts) Stats(context.Context, time.Time) (alert.Stats, error) {
	return alert.Stats{Queue: 3}, nil
}

func (f *fakeAlerts) Order(_ context.Context, id string, at time.Time) (lookup.OrderView, error) {
	if id != "a1" {
		return lookup.OrderView{}, lookup.ErrUnknown
	}
	return lookup.OrderView{OrderID: id, AsOf: at}, nil
}

func (f *fakeAlerts) Tracking(_ context.Context, n string, at time.Time) (lookup.TrackingView, error) {
	return lookup.TrackingView{TrackingNumber: n, AsOf: at}, nil
}

func (f *fakeAlerts) JourneyStats(_ context.Context, now time.Time, days int) (lookup.JourneyStats, error) {
	return lookup.JourneyStats{Since: now.AddDate(0, 0, -90), Refunds: []lookup.RefundTimes{}, Disputes: lookup.DisputeStallShare{AnswerDays: days}}, nil
}

func (f *fakeAlerts) Sellers(_ context.Context, id string, w lookup.SellerWindow, sort string, limit int) ([]lookup.SellerStats, error) {
	if sort != "vtr" {
		return nil, fmt.Errorf("%w: sort", alert.ErrBadQuery)
	}
	return []lookup.SellerStats{{SellerID: id + "x", Shipped: uint64(w.ScanDays)}}, nil
}

func apiServer(t *testing.T, cfg httpapi.Config) (*httptest.Server, *fakeAlerts) {
	t.Helper()
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	s, err := httpapi.New(cfg, nil, prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeAlerts{}
	s.MountAPI(f, f, time.Now)
	numbers, err := trackingnumber.Load(trackingnumber.Config{})
	if err != nil {
		t.Fatal(err)
	}
	s.MountNumbers(numbers)
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return srv, f
}

func call(t *testing.T, method, url, token, body string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestTheListParsesFiltersAndNamesAWrongOne(t *testing.T) {
	srv, f := apiServer(t, httpapi.Config{})
	resp, body := call(t, "GET", srv.URL+"/api/v1/alerts?status=firing&case=acknowledged&detector=stalled_eir&severity=high"+
		"&protection_to=2026-12-01T00:00:00Z&sort=recency&limit=10&tracking_number=rr1", "", "")
	if resp.StatusCode != 200 || !strings.Contains(body, `"alert_id": "a1"`) {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	q := f.queries[0]
	if q.Status != "firing" || q.Case != "acknowledged" || q.Detector != "stalled_eir" || q.Sort != "recency" || q.Limit != 10 ||
		!q.ProtectionTo.Equal(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)) || q.TrackingNumber != "rr1" {
		t.Errorf("query %+v", q)
	}
	for _, tc := range []struct{ query, want string }{
		{"statuz=firing", `unknown parameter "statuz"`},
		{"status=burning", `status: "burning" is not one of firing, resolved`},
		{"detector=psychic", `detector: "psychic"`},
		{"limit=0", `limit: "0" is not a number from 1 to 1000`},
		{"detected_from=yesterday", "detected_from:"},
		{"detector=never_scanned", "bad query: boom"},
	} {
		resp, body := call(t, "GET", srv.URL+"/api/v1/alerts?"+tc.query, "", "")
		var e struct{ Error string }
		_ = json.Unmarshal([]byte(body), &e)
		if resp.StatusCode != 400 || !strings.Contains(e.Error, tc.want) {
			t.Errorf("%s: %d %s, want 400 with %q", tc.query, resp.StatusCode, body, tc.want)
		}
	}
}

func TestCSVExportsEveryPageAndDefusesFormulas(t *testing.T) {
	srv, f := apiServer(t, httpapi.Config{})
	resp, body := call(t, "GET", srv.URL+"/api/v1/alerts?format=csv", "", "")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || len(rows) != 3 || rows[0][0] != "alert_id" || rows[1][16] != `'=HYPERLINK("x")` {
		t.Fatalf("rows %q, %v", rows, err)
	}
	if len(f.queries) != 2 || f.queries[1].Cursor != "page2" {
		t.Errorf("queries %+v: the export should follow the cursor", f.queries)
	}
}

func TestTokensRolesAndTheActor(t *testing.T) {
	cfg := httpapi.Config{Listen: "0.0.0.0:0", Tokens: []httpapi.Token{
		{Name: "ana", Role: httpapi.RoleAnalyst, Token: "analyst-token-0123456789"},
		{Name: "dash", Role: httpapi.RoleViewer, Token: "viewer-token-0123456789"},
	}}
	srv, f := apiServer(t, cfg)
	if resp, _ := call(t, "GET", srv.URL+"/api/v1/alerts", "", ""); resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("no token: %d", resp.StatusCode)
	}
	if resp, _ := call(t, "GET", srv.URL+"/api/v1/alerts", "wrong-token-0123456789", ""); resp.StatusCode != 401 {
		t.Errorf("a wrong token: %d", resp.StatusCode)
	}
	if resp, _ := call(t, "GET", srv.URL+"/api/v1/alerts", "viewer-token-0123456789", ""); resp.StatusCode != 200 {
		t.Errorf("viewer reads: %d", resp.StatusCode)
	}
	if resp, body := call(t, "POST", srv.URL+"/api/v1/alerts/a1/actions", "viewer-token-0123456789", `{"action":"acknowledge"}`); resp.StatusCode != 403 {
		t.Errorf("viewer acts: %d %s", resp.StatusCode, body)
	}
	resp, body := call(t, "POST", srv.URL+"/api/v1/alerts/a1/actions", "analyst-token-0123456789", `{"action":"acknowledge","comment":"on it"}`)
	if resp.StatusCode != 200 || !strings.Contains(body, `"state": "acknowledged"`) || len(f.acts) != 1 || f.acts[0].Actor != "ana" || f.acts[0].Comment != "on it" {
		t.Errorf("analyst acts: %d %s %+v", resp.StatusCode, body, f.acts)
	}
	if resp, body := call(t, "POST", srv.URL+"/api/v1/alerts/a1/actions", "analyst-token-0123456789", `{"acton":"x"}`); resp.StatusCode != 400 || !strings.Contains(body, "acton") {
		t.Errorf("a misspelt field: %d %s", resp.StatusCode, body)
	}
	if resp, _ := call(t, "GET", srv.URL+"/healthz", "", ""); resp.StatusCode == 401 {
		t.Errorf("/healthz needs no token")
	}
	if resp, _ := call(t, "GET", srv.URL+"/api/v1/alerts/nope", "viewer-token-0123456789", ""); resp.StatusCode != 404 {
		t.Errorf("unknown alert: %d", resp.StatusCode)
	}
	if resp, _ := call(t, "GET", srv.URL+"/api/v1/alerts", "viewer-token-0123456789", ""); !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'self'") ||
		strings.Contains(resp.Header.Get("Content-Security-Policy"), "unsafe-inline") {
		t.Errorf("CSP %q", resp.Header.Get("Content-Security-Policy"))
	}
	if err := (&httpapi.Config{Listen: "0.0.0.0:8080"}).Validate(); err == nil || !strings.Contains(err.Error(), "not a loopback address") {
		t.Errorf("a public listener without tokens: %v", err)
	}
}

// The OpenAPI document and the handlers agree: every documented operation answers
// (not the mux's 404 or 405), and every route is documented.
func TestTheOpenAPIDocumentMatchesTheRoutes(t *testing.T) {
	srv, _ := apiServer(t, httpapi.Config{})
	_, body := call(t, "GET", srv.URL+"/api/v1/openapi.json", "", "")
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil || !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("document: %v %q", err, doc.OpenAPI)
	}
	var documented []string
	param := regexp.MustCompile(`\{[a-z_]+\}`)
	for path, ops := range doc.Paths {
		for method := range ops {
			route := strings.ToUpper(method) + " " + path
			documented = append(documented, route)
			resp, body := call(t, strings.ToUpper(method), srv.URL+param.ReplaceAllString(path, "a1"), "", `{"action":"comment","comment":"x"}`)
			if resp.StatusCode == 404 && !strings.Contains(body, "no such alert") && !strings.Contains(body, "no such case") || resp.StatusCode == 405 {
				t.Errorf("%s is documented but answers %d", route, resp.StatusCode)
			}
		}
	}
	for _, r := range httpapi.Routes {
		if !slices.Contains(documented, r) {
			t.Errorf("route %s is not in the OpenAPI document", r)
		}
	}
	if len(documented) != len(httpapi.Routes) {
		t.Errorf("%d documented operations, %d routes", len(documented), len(httpapi.Routes))
	}
}

func TestOrdersTrackingAndSellersTakeAsOfAndAWindow(t *testing.T) {
	srv, _ := apiServer(t, httpapi.Config{})
	resp, body := call(t, "GET", srv.URL+"/api/v1/orders/a1?as_of=2026-10-13T12:00:00Z", "", "")
	if resp.StatusCode != 200 || !strings.Contains(body, `"as_of": "2026-10-13T12:00:00Z"`) {
		t.Errorf("order: %d %s", resp.StatusCode, body)
	}
	if resp, _ := call(t, "GET", srv.URL+"/api/v1/orders/zz", "", ""); resp.StatusCode != 404 {
		t.Errorf("unknown order: %d", resp.StatusCode)
	}
	if resp, body := call(t, "GET", srv.URL+"/api/v1/orders/a1?as_of=yesterday", "", ""); resp.StatusCode != 400 || !strings.Contains(body, "as_of") {
		t.Errorf("bad as_of: %d %s", resp.StatusCode, body)
	}
	if resp, _ := call(t, "GET", srv.URL+"/api/v1/tracking/RR1", "", ""); resp.StatusCode != 200 {
		t.Errorf("tracking: %d", resp.StatusCode)
	}
	resp, body = call(t, "GET", srv.URL+"/api/v1/sellers/s1?scan_days=7", "", "")
	if resp.StatusCode != 200 || !strings.Contains(body, `"seller_id": "s1x"`) || !strings.Contains(body, `"shipped": 7`) {
		t.Errorf("seller: %d %s", resp.StatusCode, body)
	}
	// without scan_days: the detector's (the fake echoes it as shipped), 5 by default
	if resp, body = call(t, "GET", srv.URL+"/api/v1/sellers/s1", "", ""); resp.StatusCode != 200 || !strings.Contains(body, `"shipped": 5`) {
		t.Errorf("seller with the default scan days: %d %s", resp.StatusCode, body)
	}
	if resp, _ := call(t, "GET", srv.URL+"/api/v1/sellers?sort=fame", "", ""); resp.StatusCode != 400 {
		t.Errorf("bad sort: %d", resp.StatusCode)
	}
	if resp, body := call(t, "GET", srv.URL+"/api/v1/sellers/s1?sort=vtr", "", ""); resp.StatusCode != 400 || !strings.Contains(body, "unknown parameter") {
		t.Errorf("sort on one seller: %d %s", resp.StatusCode, body)
	}
}

func TestAFormPostedFromAnotherSiteIsRefused(t *testing.T) {
	srv, f := apiServer(t, httpapi.Config{})
	for _, tc := range []struct {
		name, site, origin string
		want               int
	}{
		{"another site", "cross-site", "https://evil.example", 403},
		{"a sibling site", "same-site", "", 403},
		{"an old browser from elsewhere", "", "https://evil.example", 403},
		{"this site, no-referrer origin", "same-origin", "null", 200},
		{"a client that is not a browser", "", "", 200},
	} {
		req, _ := http.NewRequest("POST", srv.URL+"/api/v1/alerts/a1/actions", strings.NewReader(`{"action":"acknowledge"}`))
		if tc.site != "" {
			req.Header.Set("Sec-Fetch-Site", tc.site)
		}
		if tc.origin != "" {
			req.Header.Set("Origin", tc.origin)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, resp.StatusCode, tc.want)
		}
	}
	if len(f.acts) != 2 {
		t.Errorf("%d actions recorded, want the 2 allowed", len(f.acts))
	}
}

// Carrier and marketplace text is the sellers' and carriers' own: the pages escape it.
func TestPagesEscapeWhatSellersAndCarriersWrite(t *testing.T) {
	s, err := httpapi.New(httpapi.Config{Listen: "127.0.0.1:0"}, nil, prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	h := hostile{&fakeAlerts{}}
	s.MountUI(h, h, nil, time.Now)
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	for _, path := range []string{"/queue", "/alerts", "/alerts/x", "/cases/x"} {
		resp, body := call(t, "GET", srv.URL+path, "", "")
		if resp.StatusCode != 200 || strings.Contains(body, "<script>alert(1)</script>") || !strings.Contains(body, "&lt;script&gt;") {
			t.Errorf("%s: %d, unescaped: %v", path, resp.StatusCode, strings.Contains(body, "<script>alert(1)</script>"))
		}
	}
}

// hostile is a store whose text fields carry markup.
type hostile struct{ *fakeAlerts }

func (hostile) Cases(context.Context, alert.CaseQuery) (alert.CasePage, error) {
	return alert.CasePage{Cases: []alert.CaseSummary{{CaseID: "x", OrderID: evil, SellerID: evil, TrackingNumbers: []string{evil}, Detectors: []string{evil}, Linked: 1}}}, nil
}

func (hostile) Case(context.Context, string) (lookup.CaseView, error) {
	c := alert.CaseSummary{CaseID: "x", OrderID: evil, TrackingNumbers: []string{evil}, Signals: 1}
	return lookup.CaseView{CaseDetail: alert.CaseDetail{CaseSummary: c, Dispute: map[string]string{"en": evil},
		Alerts:      []alert.Alert{{AlertID: "y", Finding: detect.Finding{Detector: "stalled_eir", Reason: evil}}},
		LinkedCases: []alert.CaseSummary{{CaseID: "z", OrderID: evil, BuyerID: evil}}},
		Carrier: []lookup.Event{{RawStatus: evil}}, Journey: []lookup.Step{}}, nil
}

const evil = "<script>alert(1)</script>"

func (hostile) Query(context.Context, alert.Query) (alert.Page, error) {
	return alert.Page{Alerts: []alert.Listed{{Alert: alert.Alert{AlertID: "x", Finding: detect.Finding{Detector: "stalled_eir",
		OrderID: evil, TrackingNumber: evil, SellerID: evil, Reason: evil}}}}}, nil
}

func (hostile) Detail(context.Context, string) (lookup.Detail, error) {
	return lookup.Detail{Listed: alert.Listed{Alert: alert.Alert{AlertID: "x", Finding: detect.Finding{Detector: "stalled_eir", OrderID: evil,
		Reasons: map[string]string{"en": evil}, Evidence: []byte(`{"x":"` + strings.ReplaceAll(evil, "/", `\/`) + `"}`)}}},
		Carrier: []lookup.Event{{RawStatus: evil, City: evil}}, Order: []lookup.OrderEvent{{ShipToCity: evil}}}, nil
}

func (hostile) Stats(context.Context, time.Time) (alert.Stats, error) { return alert.Stats{}, nil }

// GET /api/v1/numbers/{number} explains a verdict, and the alert page shows the same.
func TestANumbersVerdictIsExplained(t *testing.T) {
	s, err := httpapi.New(httpapi.Config{Listen: "127.0.0.1:0"}, nil, prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	numbers, err := trackingnumber.Load(trackingnumber.Config{})
	if err != nil {
		t.Fatal(err)
	}
	n := numbered{&fakeAlerts{}}
	s.MountUI(n, n, nil, time.Now)
	s.MountNumbers(numbers)
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()

	resp, body := call(t, "GET", srv.URL+"/api/v1/numbers/1Z5R89390357567128?carrier=ups", "", "")
	var e trackingnumber.Explanation
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &e) != nil {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if e.Verdict != "invalid" || !strings.Contains(e.Problem, "check digit is 8 where 7 is required") || len(e.Formats) == 0 || e.Formats[0].Computed != "7" {
		t.Fatalf("explanation: %+v", e)
	}
	if resp, body := call(t, "GET", srv.URL+"/api/v1/numbers/1Z5R89390357567128?carier=ups", "", ""); resp.StatusCode != 400 || !strings.Contains(body, "carier") {
		t.Errorf("a misspelt parameter: %d %s", resp.StatusCode, body)
	}
	if resp, _ := call(t, "GET", srv.URL+"/api/v1/numbers/"+strings.Repeat("1", 65), "", ""); resp.StatusCode != 400 {
		t.Errorf("a 65-character number: %d", resp.StatusCode)
	}
	resp, body = call(t, "GET", srv.URL+"/alerts/n1", "", "")
	if resp.StatusCode != 200 || !strings.Contains(body, "Tracking number") || !strings.Contains(body, "check digit is 8 where 7 is required") ||
		!strings.Contains(body, "8 / 7") {
		t.Errorf("the alert page does not explain the number: %d\n%s", resp.StatusCode, body)
	}
}

// numbered is a store whose alert carries an invalid UPS number.
type numbered struct{ *fakeAlerts }

func (numbered) Detail(context.Context, string) (lookup.Detail, error) {
	return lookup.Detail{Listed: alert.Listed{Alert: alert.Alert{AlertID: "n1", Finding: detect.Finding{Detector: "invalid_tracking_number",
		OrderID: "o1", TrackingNumber: "1Z5R89390357567128", Evidence: []byte(`{}`)}}},
		Order: []lookup.OrderEvent{{Status: "shipped", TrackingNumber: "1Z5R89390357567128", Carrier: "ups"}}}, nil
}

// The cases' endpoints: filters read and checked, naming the parameter that is wrong;
// a case and its actions.
func TestCasesEndpoints(t *testing.T) {
	srv, f := apiServer(t, httpapi.Config{})
	for _, tc := range []struct {
		method, path, body string
		code               int
		want               string
	}{
		{"GET", "/api/v1/cases?detector=stalled_eir&min_signals=2&linked=true&sort=recency", "", 200, `"case_id": "c1"`},
		{"GET", "/api/v1/cases?linked_to=c9&tracking_number=RR1", "", 200, `"signals": 2`},
		{"GET", "/api/v1/cases?min_signals=0", "", 400, "is not a number from 1 to 100"},
		{"GET", "/api/v1/cases?linked=yes", "", 400, "is not true or false"},
		{"GET", "/api/v1/cases?format=csv", "", 400, "unknown parameter"},
		{"GET", "/api/v1/cases?detector=nope", "", 400, "is not one of invalid_tracking_number"},
		{"GET", "/api/v1/cases/c1", "", 200, `"dispute"`},
		{"GET", "/api/v1/cases/c2", "", 404, "no such alert"},
		{"GET", "/api/v1/cases/c1?x=1", "", 400, "takes no query parameters"},
		{"POST", "/api/v1/cases/c1/actions", `{"action":"close","outcome":"confirmed_fake"}`, 200, `"outcome": "confirmed_fake"`},
		{"POST", "/api/v1/cases/c1/actions", `{"action":"close","verdict":"x"}`, 400, "unknown field"},
		{"POST", "/api/v1/cases/c1/actions", `{}`, 400, "action missing"},
		{"POST", "/api/v1/cases/c2/actions", `{"action":"acknowledge"}`, 404, ""},
		// a body over 64 KiB is too large, valid JSON or not; two values are not one action
		{"POST", "/api/v1/cases/c1/actions", `{"action":"comment","comment":"` + strings.Repeat("x", 70<<10) + `"}`, 413, "body over 65536 bytes"},
		{"POST", "/api/v1/cases/c1/actions", strings.Repeat("x", 70<<10), 413, "body over 65536 bytes"},
		{"POST", "/api/v1/cases/c1/actions", `{"action":"acknowledge"} {"action":"reopen"}`, 400, "more than one JSON value"},
		{"POST", "/api/v1/cases/c1/actions", `{"action":"acknowledge"}}`, 400, "more than one JSON value"},
	} {
		resp, body := call(t, tc.method, srv.URL+tc.path, "", tc.body)
		if resp.StatusCode != tc.code || !strings.Contains(body, tc.want) {
			t.Errorf("%s %s: %d %s; want %d with %q", tc.method, tc.path, resp.StatusCode, body, tc.code, tc.want)
		}
	}
	q := f.caseQueries[0]
	if q.Detector != "stalled_eir" || q.MinSignals != 2 || !q.Linked || q.Sort != "recency" || f.caseQueries[1].LinkedTo != "c9" {
		t.Errorf("queries %+v", f.caseQueries)
	}
	if !slices.Equal(f.caseActs, []string{"c1: close"}) {
		t.Errorf("actions %v", f.caseActs)
	}
}

// The workspace's forms act on cases (the queue's bulk actions, a case's page, closing
// a ring) or on alerts, never both at once.
func TestTheActionsFormActsOnCasesOrAlerts(t *testing.T) {
	s, err := httpapi.New(httpapi.Config{Listen: "127.0.0.1:0"}, nil, prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeAlerts{}
	s.MountUI(f, f, nil, time.Now)
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	post := func(form string) (*http.Response, string) {
		req, _ := http.NewRequest("POST", srv.URL+"/ui/actions", strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, _ := post("case_id=c1&action=close&outcome=confirmed_fake&back=/queue")
	if resp.StatusCode != 303 || !strings.Contains(resp.Header.Get("Location"), "1+case") || !slices.Equal(f.caseActs, []string{"c1: close"}) {
		t.Errorf("closing a case: %d %s, acts %v", resp.StatusCode, resp.Header.Get("Location"), f.caseActs)
	}
	if resp, body := post("case_id=c1&alert_id=a1&action=acknowledge"); resp.StatusCode != 400 || !strings.Contains(body, "not both") {
		t.Errorf("cases and alerts at once: %d", resp.StatusCode)
	}
	if resp, body := post("case_id=c2&action=acknowledge"); resp.StatusCode != 404 || !strings.Contains(body, "not found") {
		t.Errorf("an unknown case: %d", resp.StatusCode)
	}
	if resp, body := post("case_id=c1&action=comment&comment=" + strings.Repeat("x", 2<<20)); resp.StatusCode != 413 || !strings.Contains(body, "over 1048576 bytes") {
		t.Errorf("a form over 1 MiB: %d", resp.StatusCode)
	}
}

// A seller's alert: the API lists it by detector with its seller_id and no order; the
// seller page shows it above the rate by week.
func TestASellersAlertIsListedAndOnTheSellerPage(t *testing.T) {
	srv, f := apiServer(t, httpapi.Config{})
	resp, body := call(t, "GET", srv.URL+"/api/v1/alerts?detector=seller_valid_tracking_rate", "", "")
	var page struct {
		Alerts []struct {
			Detector string `json:"detector"`
			SellerID string `json:"seller_id"`
			OrderID  string `json:"order_id"`
		} `json:"alerts"`
	}
	if err := json.Unmarshal([]byte(body), &page); err != nil || resp.StatusCode != 200 || len(page.Alerts) != 1 ||
		page.Alerts[0].SellerID != "s9" || page.Alerts[0].OrderID != "" || f.queries[0].Detector != detect.SellerValidTrackingRate {
		t.Fatalf("%d %s (%v)", resp.StatusCode, body, err)
	}

	s, err := httpapi.New(httpapi.Config{Listen: "127.0.0.1:0"}, nil, prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ui := &fakeAlerts{}
	s.MountUI(ui, ui, nil, time.Now)
	usrv := httptest.NewServer(s.Handler())
	defer usrv.Close()
	resp, body = call(t, "GET", usrv.URL+"/sellers/s9", "", "")
	if resp.StatusCode != 200 || !strings.Contains(body, "Valid tracking rate alerts") || !strings.Contains(body, "valid tracking rate of 60% on aliexpress") ||
		!strings.Contains(body, `href="/alerts/sv1"`) {
		t.Errorf("seller page: %d\n%s", resp.StatusCode, body)
	}
	var sawSellerQuery bool
	for _, q := range ui.queries {
		sawSellerQuery = sawSellerQuery || (q.Detector == detect.SellerValidTrackingRate && q.SellerID == "s9")
	}
	if !sawSellerQuery {
		t.Errorf("the seller page did not ask for the seller's alerts: %+v", ui.queries)
	}
	// the defaults until the detectors' configuration is mounted (the fake's Shipped
	// echoes the scan days it was asked with), then the configuration's settings
	if !strings.Contains(body, "5 orders shipped") || !strings.Contains(body, "target 95.0%") || !strings.Contains(body, "over 30 days") {
		t.Errorf("seller page with the defaults:\n%s", body)
	}
	s.MountDetect(detect.Config{SellerVTRTarget: 0.9, SellerVTRScanDays: 7, SellerVTRWindowDays: 45})
	for path, wants := range map[string][]string{
		"/sellers/s9": {"7 orders shipped", "scanned within 7 days of shipment; target 90.0%", "over 45 days"},
		"/sellers":    {"within 7 days of shipment", "target of 90.0%", "last 45 days"},
	} {
		resp, body = call(t, "GET", usrv.URL+path, "", "")
		for _, w := range wants {
			if resp.StatusCode != 200 || !strings.Contains(body, w) {
				t.Errorf("%s with the configuration mounted lacks %q: %d\n%s", path, w, resp.StatusCode, body)
			}
		}
	}
}
