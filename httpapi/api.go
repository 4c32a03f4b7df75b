package httpapi

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/trackwatch/trackwatch/alert"
	"github.com/trackwatch/trackwatch/detect"
	"github.com/trackwatch/trackwatch/lookup"
	"github.com/trackwatch/trackwatch/trackingnumber"
)

// Alerts is what the API needs of the alert store (alert.Store): alerts and cases.
type Alerts interface {
	Query(ctx context.Context, q alert.Query) (alert.Page, error)
	Act(ctx context.Context, alertID string, a alert.Action, now time.Time) (alert.Case, error)
	Stats(ctx context.Context, now time.Time) (alert.Stats, error)
	Cases(ctx context.Context, q alert.CaseQuery) (alert.CasePage, error)
	ActCase(ctx context.Context, caseID string, a alert.Action, now time.Time) (alert.CaseSummary, error)
}

// Lookup is what the API needs of the event tables' reader (lookup.Reader): an alert
// with its timelines, orders, numbers and sellers.
type Lookup interface {
	Detail(ctx context.Context, alertID string) (lookup.Detail, error)
	Case(ctx context.Context, caseID string) (lookup.CaseView, error)
	Order(ctx context.Context, orderID string, asOf time.Time) (lookup.OrderView, error)
	Tracking(ctx context.Context, number string, asOf time.Time) (lookup.TrackingView, error)
	Sellers(ctx context.Context, sellerID string, w lookup.SellerWindow, sort string, limit int) ([]lookup.SellerStats, error)
	JourneyStats(ctx context.Context, now time.Time, answerDays int) (lookup.JourneyStats, error)
}

//go:embed openapi.json
var openAPI []byte

// Routes are the API's routes, as registered; the OpenAPI document describes each.
var Routes = []string{
	"GET /api/v1/alerts",
	"GET /api/v1/alerts/{alert_id}",
	"POST /api/v1/alerts/{alert_id}/actions",
	"GET /api/v1/stats",
	"GET /api/v1/openapi.json",
	"GET /api/v1/orders/{order_id}",
	"GET /api/v1/tracking/{tracking_number}",
	"GET /api/v1/sellers",
	"GET /api/v1/sellers/{seller_id}",
	"GET /api/v1/numbers/{number}",
	"GET /api/v1/cases",
	"GET /api/v1/cases/{case_id}",
	"POST /api/v1/cases/{case_id}/actions",
}

// MountNumbers serves GET /api/v1/numbers/{number}?carrier=SLUG: the explanation of a
// tracking number's verdict (package trackingnumber), the same as `trackwatch number`;
// the alert page shows it too.
func (s *Server) MountNumbers(c *trackingnumber.Checker) {
	s.numbers.Store(c)
	s.Mux.HandleFunc(Routes[9], func(w http.ResponseWriter, r *http.Request) {
		for k := range r.URL.Query() {
			if k != "carrier" {
				writeError(w, http.StatusBadRequest, fmt.Sprintf("unknown query parameter %q (accepted: carrier)", k))
				return
			}
		}
		n := r.PathValue("number")
		if len(n) > 64 {
			writeError(w, http.StatusBadRequest, "number: longer than 64 characters")
			return
		}
		writeJSON(w, http.StatusOK, c.Explain(n, r.URL.Query().Get("carrier")))
	})
}

// MountAPI serves the workspace API (/api/v1) over alerts and the event tables' reader;
// now is the clock.
func (s *Server) MountAPI(alerts Alerts, reader Lookup, now func() time.Time) {
	a := &api{alerts: alerts, lookup: reader, now: now, log: s.logger, detect: s.detectConfig}
	s.Mux.HandleFunc(Routes[0], a.list)
	s.Mux.HandleFunc(Routes[1], a.detail)
	s.Mux.HandleFunc(Routes[2], a.act)
	s.Mux.HandleFunc(Routes[3], a.stats)
	s.Mux.HandleFunc(Routes[4], func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openAPI)
	})
	s.Mux.HandleFunc(Routes[5], a.order)
	s.Mux.HandleFunc(Routes[6], a.tracking)
	s.Mux.HandleFunc(Routes[7], a.sellers)
	s.Mux.HandleFunc(Routes[8], a.sellers)
	s.Mux.HandleFunc(Routes[10], a.cases)
	s.Mux.HandleFunc(Routes[11], a.caseDetail)
	s.Mux.HandleFunc(Routes[12], a.caseAct)
}

type api struct {
	alerts Alerts
	lookup Lookup
	now    func() time.Time
	log    interface {
		Error(msg string, args ...any)
	}
	// detect is the detectors' configuration, defaults filled (MountDetect)
	detect func() detect.Config
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// fail answers an error from the store: the caller's mistake (400, 404) or ours (503,
// logged; the body does not repeat the server's error).
func (a *api) fail(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, alert.ErrNotFound):
		writeError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, lookup.ErrUnknown):
		writeError(w, http.StatusNotFound, "nothing is known of it")
	case errors.Is(err, alert.ErrBadQuery), errors.Is(err, alert.ErrBadAction):
		writeError(w, http.StatusBadRequest, err.Error())
	default:
		a.log.Error("api", "err", err)
		writeError(w, http.StatusServiceUnavailable, "the alert store cannot answer now; see the server log")
	}
}

var listParams = []string{"status", "case", "detector", "severity", "recommendation", "marketplace", "seller_id", "buyer_id",
	"order_id", "tracking_number", "detected_from", "detected_to", "protection_from", "protection_to", "sort", "limit", "cursor", "format"}

// caseParams are GET /api/v1/cases's parameters: the alerts' filters, on cases, and
// the cases' own.
var caseParams = append(slices.DeleteFunc(slices.Clone(listParams), func(p string) bool { return p == "format" }), "min_signals", "linked", "linked_to")

// parseCaseQuery reads the cases' filters, naming the parameter that is wrong.
func parseCaseQuery(r *http.Request) (alert.CaseQuery, error) {
	q, err := parseFilters(r.URL.Query(), caseParams)
	if err != nil {
		return alert.CaseQuery{}, err
	}
	v := r.URL.Query()
	cq := alert.CaseQuery{Query: q, LinkedTo: v.Get("linked_to")}
	if x := v.Get("min_signals"); x != "" {
		if cq.MinSignals, err = strconv.Atoi(x); err != nil || cq.MinSignals < 1 || cq.MinSignals > 100 {
			return cq, fmt.Errorf("min_signals: %q is not a number from 1 to 100", x)
		}
	}
	switch x := v.Get("linked"); x {
	case "", "false":
	case "true":
		cq.Linked = true
	default:
		return cq, fmt.Errorf("linked: %q is not true or false", x)
	}
	return cq, nil
}

// parseQuery reads the list filters, naming the parameter that is wrong.
func parseQuery(r *http.Request) (alert.Query, error) {
	return parseFilters(r.URL.Query(), listParams)
}

// parseFilters reads the alerts' filters from v, whose parameters must be in allowed.
func parseFilters(v url.Values, allowed []string) (alert.Query, error) {
	for k := range v {
		if !slices.Contains(allowed, k) {
			return alert.Query{}, fmt.Errorf("unknown parameter %q (parameters: %s)", k, strings.Join(allowed, ", "))
		}
	}
	oneOf := func(name string, allowed []string) (string, error) {
		x := v.Get(name)
		if x != "" && !slices.Contains(allowed, x) {
			return "", fmt.Errorf("%s: %q is not one of %s", name, x, strings.Join(allowed, ", "))
		}
		return x, nil
	}
	q := alert.Query{Marketplace: v.Get("marketplace"), SellerID: v.Get("seller_id"), BuyerID: v.Get("buyer_id"),
		OrderID: v.Get("order_id"), TrackingNumber: v.Get("tracking_number"), Sort: v.Get("sort"), Cursor: v.Get("cursor")}
	var sevs, recs []string
	for _, x := range detect.Severities {
		sevs = append(sevs, string(x))
	}
	for _, x := range detect.Recommendations {
		recs = append(recs, string(x))
	}
	var status, cs string
	var err error
	for _, f := range []struct {
		name    string
		allowed []string
		into    *string
	}{
		{"status", []string{"firing", "resolved"}, &status}, {"case", []string{"open", "acknowledged", "closed"}, &cs},
		{"detector", detect.Names, &q.Detector}, {"severity", sevs, &q.Severity}, {"recommendation", recs, &q.Recommendation},
		{"sort", []string{"urgency", "recency"}, &q.Sort},
	} {
		if *f.into, err = oneOf(f.name, f.allowed); err != nil {
			return q, err
		}
	}
	q.Status, q.Case = alert.Status(status), alert.CaseState(cs)
	for _, f := range []struct {
		name string
		into *time.Time
	}{{"detected_from", &q.DetectedFrom}, {"detected_to", &q.DetectedTo}, {"protection_from", &q.ProtectionFrom}, {"protection_to", &q.ProtectionTo}} {
		if x := v.Get(f.name); x != "" {
			if *f.into, err = time.Parse(time.RFC3339, x); err != nil {
				return q, fmt.Errorf("%s: %q is not an RFC 3339 time such as 2026-11-01T00:00:00Z", f.name, x)
			}
		}
	}
	if x := v.Get("limit"); x != "" {
		if q.Limit, err = strconv.Atoi(x); err != nil || q.Limit < 1 || q.Limit > 1000 {
			return q, fmt.Errorf("limit: %q is not a number from 1 to 1000", x)
		}
	}
	return q, nil
}

func wantsCSV(r *http.Request) bool {
	return r.URL.Query().Get("format") == "csv" || strings.Contains(r.Header.Get("Accept"), "text/csv")
}

func (a *api) list(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if f := r.URL.Query().Get("format"); f != "" && f != "csv" && f != "json" {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("format: %q is not json or csv", f))
		return
	}
	if !wantsCSV(r) {
		p, err := a.alerts.Query(r.Context(), q)
		if err != nil {
			a.fail(w, err)
			return
		}
		writeJSON(w, http.StatusOK, p)
		return
	}
	// CSV exports the whole query, page by page, up to 100,000 alerts.
	q.Limit = 1000
	first, err := a.alerts.Query(r.Context(), q)
	if err != nil {
		a.fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="alerts.csv"`)
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"alert_id", "status", "case", "assignee", "detector", "severity", "recommendation", "order_id", "tracking_number",
		"seller_id", "buyer_id", "marketplace", "amount", "protection_ends_at", "first_detected_at", "last_detected_at", "reason"})
	p, rows := first, 0
	for {
		for _, x := range p.Alerts {
			amount, ends := "", ""
			if x.Amount != nil {
				amount = x.Amount.String()
			}
			if x.ProtectionEndsAt != nil {
				ends = x.ProtectionEndsAt.UTC().Format(time.RFC3339)
			}
			_ = cw.Write([]string{x.AlertID, string(x.Status), string(x.Case.State), x.Case.Assignee, x.Detector, string(x.Severity),
				string(x.Recommendation), x.OrderID, x.TrackingNumber, x.SellerID, x.BuyerID, x.Marketplace, amount, ends,
				x.FirstDetectedAt.UTC().Format(time.RFC3339), x.LastDetectedAt.UTC().Format(time.RFC3339), csvSafe(x.Reason)})
			rows++
		}
		if p.Next == "" || rows >= 100_000 {
			break
		}
		q.Cursor = p.Next
		if p, err = a.alerts.Query(r.Context(), q); err != nil {
			a.log.Error("csv export", "err", err)
			break // the header is sent: the export ends short, and the log says why
		}
	}
	cw.Flush()
}

// csvSafe keeps a spreadsheet from reading carrier or seller text as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func (a *api) detail(w http.ResponseWriter, r *http.Request) {
	d, err := a.lookup.Detail(r.Context(), r.PathValue("alert_id"))
	if err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// actionRequest is the body of POST /api/v1/alerts/{alert_id}/actions.
type actionRequest struct {
	Action   alert.ActionKind `json:"action"`
	Assignee string           `json:"assignee"`
	Outcome  alert.Outcome    `json:"outcome"`
	Comment  string           `json:"comment"`
}

// maxActionBytes bounds an action's JSON body, maxFormBytes a form's (a bulk action
// names up to 500 cases).
const (
	maxActionBytes = 64 << 10
	maxFormBytes   = 1 << 20
)

// tooLarge reports whether err is a body read past its http.MaxBytesReader's limit.
func tooLarge(err error) bool {
	var e *http.MaxBytesError
	return errors.As(err, &e)
}

// readAction reads an action's body, answering 413 when it is over maxActionBytes and
// 400 when it is not one action.
func readAction(w http.ResponseWriter, r *http.Request) (alert.Action, bool) {
	var req actionRequest
	const want = "body: want {\"action\": ..., \"assignee\"?, \"outcome\"?, \"comment\"?}: "
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxActionBytes))
	switch {
	case tooLarge(err):
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body over %d bytes", maxActionBytes))
		return alert.Action{}, false
	case err != nil:
		writeError(w, http.StatusBadRequest, "body: "+err.Error())
		return alert.Action{}, false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, want+err.Error())
		return alert.Action{}, false
	}
	if err := dec.Decode(&struct{}{}); err != io.EOF {
		writeError(w, http.StatusBadRequest, want+"more than one JSON value")
		return alert.Action{}, false
	}
	return alert.Action{Action: req.Action, Actor: caller(r.Context()).name, Assignee: req.Assignee, Outcome: req.Outcome, Comment: req.Comment}, true
}

func (a *api) act(w http.ResponseWriter, r *http.Request) {
	act, ok := readAction(w, r)
	if !ok {
		return
	}
	c, err := a.alerts.Act(r.Context(), r.PathValue("alert_id"), act, a.now())
	if err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (a *api) cases(w http.ResponseWriter, r *http.Request) {
	q, err := parseCaseQuery(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	p, err := a.alerts.Cases(r.Context(), q)
	if err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (a *api) caseDetail(w http.ResponseWriter, r *http.Request) {
	if len(r.URL.Query()) > 0 {
		writeError(w, http.StatusBadRequest, "a case takes no query parameters")
		return
	}
	v, err := a.lookup.Case(r.Context(), r.PathValue("case_id"))
	if err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// caseAct applies an action to a case: recorded on each of its alerts.
func (a *api) caseAct(w http.ResponseWriter, r *http.Request) {
	act, ok := readAction(w, r)
	if !ok {
		return
	}
	c, err := a.alerts.ActCase(r.Context(), r.PathValue("case_id"), act, a.now())
	if err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (a *api) stats(w http.ResponseWriter, r *http.Request) {
	st, err := a.alerts.Stats(r.Context(), a.now())
	if err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// asOf reads ?as_of= (RFC 3339; default now).
func (a *api) asOf(w http.ResponseWriter, r *http.Request, allowed ...string) (time.Time, bool) {
	for k := range r.URL.Query() {
		if k != "as_of" && !slices.Contains(allowed, k) {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("unknown parameter %q (parameters: %s)", k, strings.Join(append([]string{"as_of"}, allowed...), ", ")))
			return time.Time{}, false
		}
	}
	x := r.URL.Query().Get("as_of")
	if x == "" {
		return a.now().UTC(), true
	}
	t, err := time.Parse(time.RFC3339, x)
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("as_of: %q is not an RFC 3339 time such as 2026-11-01T00:00:00Z", x))
		return time.Time{}, false
	}
	return t, true
}

func (a *api) order(w http.ResponseWriter, r *http.Request) {
	at, ok := a.asOf(w, r)
	if !ok {
		return
	}
	v, err := a.lookup.Order(r.Context(), r.PathValue("order_id"), at)
	if err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (a *api) tracking(w http.ResponseWriter, r *http.Request) {
	at, ok := a.asOf(w, r)
	if !ok {
		return
	}
	v, err := a.lookup.Tracking(r.Context(), r.PathValue("tracking_number"), at)
	if err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// sellerWindow is the sellers' default window: the 90 days before now, a scan counted
// within the detector's seller_vtr_scan_days of shipment.
func (a *api) sellerWindow() lookup.SellerWindow {
	to := a.now().UTC()
	return lookup.SellerWindow{From: to.AddDate(0, 0, -90), To: to, ScanDays: a.detect().SellerVTRScanDays}
}

// sellers serves one seller (/sellers/{seller_id}) or the list, over a window: from, to
// (default the 90 days before now), scan_days (default detect.seller_vtr_scan_days); the
// list takes sort and limit.
func (a *api) sellers(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("seller_id")
	allowed := []string{"from", "to", "scan_days"}
	if id == "" {
		allowed = append(allowed, "sort", "limit")
	}
	if _, ok := a.asOf(w, r, allowed...); !ok {
		return
	}
	v := r.URL.Query()
	win := a.sellerWindow()
	for _, f := range []struct {
		name string
		into *time.Time
	}{{"from", &win.From}, {"to", &win.To}} {
		if x := v.Get(f.name); x != "" {
			t, err := time.Parse(time.RFC3339, x)
			if err != nil {
				writeError(w, http.StatusBadRequest, fmt.Sprintf("%s: %q is not an RFC 3339 time", f.name, x))
				return
			}
			*f.into = t
		}
	}
	if x := v.Get("scan_days"); x != "" {
		n, err := strconv.Atoi(x)
		if err != nil || n < 1 || n > 60 {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("scan_days: %q is not a number from 1 to 60", x))
			return
		}
		win.ScanDays = n
	}
	sort, limit := v.Get("sort"), 50
	if sort == "" {
		sort = "vtr"
	}
	if x := v.Get("limit"); x != "" {
		n, err := strconv.Atoi(x)
		if err != nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("limit: %q is not a number", x))
			return
		}
		limit = n
	}
	ss, err := a.lookup.Sellers(r.Context(), id, win, sort, limit)
	if err != nil {
		a.fail(w, err)
		return
	}
	if id != "" {
		writeJSON(w, http.StatusOK, ss[0])
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"sellers": ss, "from": win.From, "to": win.To})
}
