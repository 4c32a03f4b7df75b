package httpapi

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/shopspring/decimal"

	"github.com/trackwatch/trackwatch/alert"
	"github.com/trackwatch/trackwatch/detect"
	"github.com/trackwatch/trackwatch/lookup"
	"github.com/trackwatch/trackwatch/trackingnumber"
)

//go:embed ui/*.html
var uiFiles embed.FS

//go:embed static
var staticFiles embed.FS

// uiOpenPaths need no token: the sign-in page and what it loads.
var uiOpenPaths = []string{"/login", "/ui/login", "/static/app.css", "/static/app.js"}

// tokenCookie carries a signed-in browser's API token.
const tokenCookie = "trackwatch_token"

var funcs = template.FuncMap{
	"date": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04") },
	"datep": func(t *time.Time) string {
		if t == nil {
			return "-"
		}
		return t.UTC().Format("2006-01-02")
	},
	"daysLeft": func(t *time.Time, now time.Time) string {
		if t == nil {
			return "-"
		}
		return fmt.Sprintf("%.1f", t.Sub(now).Hours()/24)
	},
	"age": func(t, now time.Time) string { return now.Sub(t).Round(time.Minute).String() },
	"amount": func(d *decimal.Decimal) string {
		if d == nil {
			return "-"
		}
		return d.StringFixed(2)
	},
	"pct": func(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) },
	"days": func(d *float64) string {
		if d == nil {
			return "-"
		}
		return fmt.Sprintf("%.1f", *d)
	},
	"datep2": func(t time.Time) string { return t.UTC().Format("2006-01-02") },
}

// pages are the dashboard's templates, one per page, each with the layout.
var pages = func() map[string]*template.Template {
	out := map[string]*template.Template{}
	for _, p := range []string{"queue", "cases", "case", "alert", "order", "seller", "sellers", "overview", "login"} {
		out[p] = template.Must(template.New(p+".html").Funcs(funcs).ParseFS(uiFiles, "ui/layout.html", "ui/"+p+".html"))
	}
	return out
}()

// MountUI serves the web dashboard over the same store and reader as the API: the
// queue, an alert's page, sellers and an overview, server-rendered, usable without
// JavaScript.
func (s *Server) MountUI(alerts Alerts, reader Lookup, gatherer prometheus.Gatherer, now func() time.Time) {
	u := &ui{api: &api{alerts: alerts, lookup: reader, now: now, log: s.logger, detect: s.detectConfig}, gatherer: gatherer, tokens: func() []hashedToken { return *s.tokens.Load() },
		numbers: func() *trackingnumber.Checker { return s.numbers.Load() },
		comparisons: func() Comparisons {
			if c := s.comparisons.Load(); c != nil {
				return *c
			}
			return nil
		}}
	static, _ := fs.Sub(staticFiles, "static")
	s.Mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	s.Mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/queue", http.StatusFound) })
	s.Mux.HandleFunc("GET /queue", u.cases)
	s.Mux.HandleFunc("GET /cases/{case_id}", u.caseView)
	s.Mux.HandleFunc("GET /alerts", u.queue)
	s.Mux.HandleFunc("GET /alerts/{alert_id}", u.alert)
	s.Mux.HandleFunc("GET /orders/{order_id}", u.order)
	s.Mux.HandleFunc("GET /sellers", u.sellers)
	s.Mux.HandleFunc("GET /sellers/{seller_id}", u.seller)
	s.Mux.HandleFunc("GET /overview", u.overview)
	s.Mux.HandleFunc("POST /ui/actions", u.actions)
	s.Mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		u.render(w, r, "login", map[string]any{"Title": "Sign in"})
	})
	s.Mux.HandleFunc("POST /ui/login", u.login)
}

type ui struct {
	numbers  func() *trackingnumber.Checker // nil until MountNumbers
	api      *api
	gatherer prometheus.Gatherer
	tokens   func() []hashedToken // the current ones: a reload replaces them
	// comparisons reads the latest backtest comparison (nil until MountComparisons)
	comparisons func() Comparisons
}

// render writes a page; data gets the layout's fields (who, counts).
func (u *ui) render(w http.ResponseWriter, r *http.Request, page string, data map[string]any) {
	who := caller(r.Context())
	data["Who"] = who.name
	data["Now"] = u.api.now().UTC()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := pages[page].ExecuteTemplate(w, page+".html", data); err != nil {
		u.api.log.Error("render", "page", page, "err", err)
	}
}

func (u *ui) failPage(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := http.StatusServiceUnavailable, "the alert store cannot answer now; see the server log"
	switch {
	case isNotFound(err):
		status, msg = http.StatusNotFound, "not found"
	case isBad(err):
		status, msg = http.StatusBadRequest, err.Error()
	default:
		u.api.log.Error("ui", "err", err)
	}
	w.WriteHeader(status)
	u.render(w, r, "login", map[string]any{"Title": http.StatusText(status), "Flash": msg})
}

// cases is the queue: a row per case (every alert of one order), firing and not closed
// unless the filters say otherwise.
func (u *ui) cases(w http.ResponseWriter, r *http.Request) {
	q, err := parseCaseQuery(r)
	if err != nil {
		u.failPage(w, r, fmt.Errorf("%w: %v", alert.ErrBadQuery, err))
		return
	}
	raw := r.URL.Query()
	firing, urgency := queueDefaults(raw, q.Sort)
	if firing {
		q.Status = alert.StatusFiring
	}
	if urgency {
		q.Sort = "urgency"
	}
	q.NotClosed = q.Case == ""
	p, err := u.api.alerts.Cases(r.Context(), q)
	if err != nil {
		u.failPage(w, r, err)
		return
	}
	Q, next := queueEcho(raw, p.Next)
	opts := map[string][]string{"Status": {"", "firing", "resolved"}, "Case": {"", "open", "acknowledged", "closed"},
		"Detector": append([]string{""}, detect.Names...), "Severity": {"", "critical", "high", "medium", "low"},
		"Recommendation": recommendationOptions(), "Signals": {"", "2", "3", "4"}}
	u.render(w, r, "cases", map[string]any{"Title": "Queue", "Page": p, "Q": Q, "Options": opts, "NextQuery": next,
		"Back": r.URL.RequestURI(), "Flash": r.URL.Query().Get("done"), "Outcomes": alert.Outcomes})
}

// queueDefaults sets the queues' defaults in raw where the query leaves them out:
// firing alerts (or cases), by urgency. It reports which it set.
func queueDefaults(raw url.Values, sort string) (firing, urgency bool) {
	if firing = !raw.Has("status"); firing {
		raw.Set("status", "firing")
	}
	if urgency = sort == ""; urgency {
		raw.Set("sort", "urgency")
	}
	return firing, urgency
}

// queueEcho is a queue's query for its filter form (one value per key) and the query
// of its next page (cursor).
func queueEcho(raw url.Values, cursor string) (map[string]string, string) {
	q := map[string]string{}
	next := url.Values{}
	for k, v := range raw {
		q[k] = raw.Get(k)
		next[k] = v
	}
	next.Set("cursor", cursor)
	return q, next.Encode()
}

// caseView is a case's page: its signals, dispute text, journey, linked cases and
// actions.
func (u *ui) caseView(w http.ResponseWriter, r *http.Request) {
	v, err := u.api.lookup.Case(r.Context(), r.PathValue("case_id"))
	if err != nil {
		u.failPage(w, r, err)
		return
	}
	title := "Case order " + v.OrderID
	if v.OrderID == "" {
		title = "Case seller " + v.SellerID
	}
	u.render(w, r, "case", map[string]any{"Title": title, "V": v, "Outcomes": alert.Outcomes, "Flash": r.URL.Query().Get("done")})
}

// queue lists alerts one by one (a row per detector per order), as before cases.
func (u *ui) queue(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r)
	if err != nil {
		u.failPage(w, r, fmt.Errorf("%w: %v", alert.ErrBadQuery, err))
		return
	}
	raw := r.URL.Query()
	firing, urgency := queueDefaults(raw, q.Sort)
	if firing {
		q.Status = alert.StatusFiring
	}
	if urgency {
		q.Sort = "urgency"
	}
	q.NotClosed = q.Case == ""
	p, err := u.api.alerts.Query(r.Context(), q)
	if err != nil {
		u.failPage(w, r, err)
		return
	}
	Q, next := queueEcho(raw, p.Next)
	csvQ := url.Values{}
	for k, v := range raw {
		if k != "cursor" {
			csvQ[k] = v
		}
	}
	csvQ.Set("format", "csv")
	opts := map[string][]string{"Status": {"", "firing", "resolved"}, "Case": {"", "open", "acknowledged", "closed"},
		"Detector": append([]string{""}, detect.Names...), "Severity": {"", "critical", "high", "medium", "low"},
		"Recommendation": recommendationOptions()}
	u.render(w, r, "queue", map[string]any{"Title": "Alerts", "Page": p, "Q": Q, "Options": opts, "NextQuery": next,
		"CSVQuery": csvQ.Encode(), "Back": r.URL.RequestURI(), "Flash": r.URL.Query().Get("done")})
}

// place is an address as the alert page compares them.
type place struct{ Country, City, Postal string }

func (u *ui) alert(w http.ResponseWriter, r *http.Request) {
	d, err := u.api.lookup.Detail(r.Context(), r.PathValue("alert_id"))
	if err != nil {
		u.failPage(w, r, err)
		return
	}
	var shipTo, dest place
	for _, e := range d.Order {
		if e.ShipToCountry != "" || e.ShipToCity != "" {
			shipTo = place{e.ShipToCountry, e.ShipToCity, e.ShipToPostal}
		}
	}
	for _, e := range d.Carrier {
		if e.Dest != "" || e.DestCity != "" {
			dest = place{e.Dest, e.DestCity, e.DestPost}
		}
	}
	var ev bytes.Buffer
	if json.Indent(&ev, d.Evidence, "", "  ") != nil {
		ev.Reset()
		ev.Write(d.Evidence)
	}
	// the number's verdict for the carrier the seller declared last (its latest shipped
	// event), explained as `trackwatch number` does
	var number *trackingnumber.Explanation
	if c := u.numbers(); c != nil && d.TrackingNumber != "" {
		declared := ""
		for _, e := range d.Order {
			if e.TrackingNumber != "" {
				declared = e.Carrier
			}
		}
		e := c.Explain(d.TrackingNumber, declared)
		number = &e
	}
	u.render(w, r, "alert", map[string]any{"Title": d.Detector + " " + d.OrderID, "D": d, "ShipTo": shipTo, "Dest": dest, "Evidence": ev.String(),
		"Outcomes": alert.Outcomes, "Flash": r.URL.Query().Get("done"), "Number": number})
}

// order is an order's page: its whole journey (the cancellation request, the shipment,
// the carrier's scans, the dispute's milestones, the refund) and its alerts, as of now.
func (u *ui) order(w http.ResponseWriter, r *http.Request) {
	v, err := u.api.lookup.Order(r.Context(), r.PathValue("order_id"), u.api.now())
	if err != nil {
		u.failPage(w, r, err)
		return
	}
	u.render(w, r, "order", map[string]any{"Title": "Order " + v.OrderID, "V": v})
}

func (u *ui) sellers(w http.ResponseWriter, r *http.Request) {
	cfg := u.api.detect()
	ss, err := u.api.lookup.Sellers(r.Context(), "", u.api.sellerWindow(), "vtr", 200)
	if err != nil {
		u.failPage(w, r, err)
		return
	}
	u.render(w, r, "sellers", map[string]any{"Title": "Sellers", "Sellers": ss, "VTR": cfg})
}

func (u *ui) seller(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("seller_id")
	cfg := u.api.detect()
	ss, err := u.api.lookup.Sellers(r.Context(), id, u.api.sellerWindow(), "vtr", 1)
	if err != nil {
		u.failPage(w, r, err)
		return
	}
	worst, err := u.api.alerts.Query(r.Context(), alert.Query{SellerID: id, Status: alert.StatusFiring, Sort: "urgency", Limit: 20})
	if err != nil {
		u.failPage(w, r, err)
		return
	}
	// the seller's own alerts (seller_valid_tracking_rate), firing or resolved
	own, err := u.api.alerts.Query(r.Context(), alert.Query{SellerID: id, Detector: detect.SellerValidTrackingRate, Sort: "recency", Limit: 10})
	if err != nil {
		u.failPage(w, r, err)
		return
	}
	var bars []bar
	for _, wk := range ss[0].Weeks {
		v := 1.0
		if wk.Shipped > 0 {
			v = float64(wk.Valid) / float64(wk.Shipped)
		}
		bars = append(bars, bar{Label: wk.Week.Format("01-02"), Value: v})
	}
	u.render(w, r, "seller", map[string]any{"Title": "Seller " + id, "S": ss[0], "Worst": worst, "SellerAlerts": own,
		"Chart": barChart(bars, 1, cfg.SellerVTRTarget, "%"), "VTR": cfg})
}

func (u *ui) overview(w http.ResponseWriter, r *http.Request) {
	st, err := u.api.alerts.Stats(r.Context(), u.api.now())
	if err != nil {
		u.failPage(w, r, err)
		return
	}
	// Stacked bars: one per day, a segment per detector.
	counts := map[string]map[string]float64{}
	var days []string
	for _, x := range st.ByDetectorDay {
		d := x.Day.Format("01-02")
		if counts[d] == nil {
			counts[d] = map[string]float64{}
			days = append(days, d)
		}
		counts[d][x.Detector] += float64(x.Alerts)
	}
	sort.Strings(days)
	journey, err := u.api.lookup.JourneyStats(r.Context(), u.api.now(), u.api.detect().DisputeAnswerDays)
	if err != nil {
		u.failPage(w, r, err)
		return
	}
	u.render(w, r, "overview", map[string]any{"Title": "Overview", "Stats": st, "Counts": st, "Chart": stackedChart(days, detect.Names, counts),
		"Metrics": u.metrics(), "Journey": journey, "Comparison": u.comparison(r.Context())})
}

// metric is one figure from /metrics, for the overview.
type metric struct{ Name, Value string }

// metrics reads what /metrics exposes about detector runs, ingest and notifications.
func (u *ui) metrics() []metric {
	if u.gatherer == nil {
		return nil
	}
	mfs, err := u.gatherer.Gather()
	if err != nil {
		return nil
	}
	var out []metric
	for _, mf := range mfs {
		switch mf.GetName() {
		case "trackwatch_detect_run_seconds":
			for _, m := range mf.GetMetric() {
				h := m.GetHistogram()
				if h.GetSampleCount() > 0 {
					out = append(out, metric{"detector run (" + labels(m.GetLabel()) + "), mean seconds",
						fmt.Sprintf("%.2f over %d runs", h.GetSampleSum()/float64(h.GetSampleCount()), h.GetSampleCount())})
				}
			}
		case "trackwatch_ingest_consumer_lag", "trackwatch_notify_outbox_lag_seconds":
			total := 0.0
			for _, m := range mf.GetMetric() {
				total += m.GetGauge().GetValue()
			}
			out = append(out, metric{mf.GetName(), fmt.Sprintf("%.0f", total)})
		}
	}
	return out
}

func labels[T interface {
	GetName() string
	GetValue() string
}](ls []T) string {
	var parts []string
	for _, l := range ls {
		parts = append(parts, l.GetValue())
	}
	return strings.Join(parts, ",")
}

// actions applies a form's action to one or more cases (case_id: the queue's bulk
// actions, a case's page, closing a ring) or alerts (alert_id), then goes back to the
// page it came from.
func (u *ui) actions(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		if tooLarge(err) {
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			u.render(w, r, "login", map[string]any{"Title": http.StatusText(http.StatusRequestEntityTooLarge),
				"Flash": fmt.Sprintf("The form is over %d bytes.", maxFormBytes)})
			return
		}
		u.failPage(w, r, fmt.Errorf("%w: %v", alert.ErrBadAction, err))
		return
	}
	ids, cases := r.PostForm["alert_id"], r.PostForm["case_id"]
	what := "alert(s)"
	if len(cases) > 0 {
		ids, what = cases, "case(s)"
	}
	if len(ids) == 0 || len(ids) > 500 || len(cases) > 0 && len(r.PostForm["alert_id"]) > 0 {
		u.failPage(w, r, fmt.Errorf("%w: select between 1 and 500 cases or alerts (not both)", alert.ErrBadAction))
		return
	}
	a := alert.Action{Action: alert.ActionKind(r.PostForm.Get("action")), Actor: caller(r.Context()).name,
		Assignee: r.PostForm.Get("assignee"), Outcome: alert.Outcome(r.PostForm.Get("outcome")), Comment: r.PostForm.Get("comment")}
	for _, id := range ids {
		var err error
		if len(cases) > 0 {
			_, err = u.api.alerts.ActCase(r.Context(), id, a, u.api.now())
		} else {
			_, err = u.api.alerts.Act(r.Context(), id, a, u.api.now())
		}
		if err != nil {
			u.failPage(w, r, err)
			return
		}
	}
	back := r.PostForm.Get("back")
	if !strings.HasPrefix(back, "/") || strings.HasPrefix(back, "//") {
		back = "/queue" // only this site's pages
	}
	sep := "?"
	if strings.Contains(back, "?") {
		sep = "&"
	}
	http.Redirect(w, r, back+sep+"done="+url.QueryEscape(fmt.Sprintf("%s: %d %s", a.Action, len(ids), what)), http.StatusSeeOther)
}

// login keeps a valid token in a cookie for this site.
func (u *ui) login(w http.ResponseWriter, r *http.Request) {
	tok := strings.TrimSpace(r.PostFormValue("token"))
	sum := sha256.Sum256([]byte(tok))
	ok := false
	for _, t := range u.tokens() { // every token compared, in constant time
		ok = subtle.ConstantTimeCompare(sum[:], t.sum[:]) == 1 || ok
	}
	if !ok {
		w.WriteHeader(http.StatusUnauthorized)
		u.render(w, r, "login", map[string]any{"Title": "Sign in", "Flash": "That token is not one of http.tokens."})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: tokenCookie, Value: tok, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: r.TLS != nil, MaxAge: 12 * 3600})
	http.Redirect(w, r, "/queue", http.StatusSeeOther)
}

// bar is one bar of a chart.
type bar struct {
	Label string
	Value float64
}

// barChart draws bars as SVG, scaled to top, with an optional target line; labels are
// escaped (they may come from data).
func barChart(bars []bar, top, target float64, unit string) template.HTML {
	if len(bars) == 0 {
		return template.HTML(`<p>No data yet.</p>`)
	}
	const w, h, pad = 720, 200, 30
	bw := float64(w-2*pad) / float64(len(bars))
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" role="img">`, w, h+40)
	for i, x := range bars {
		bh := float64(h-pad) * x.Value / top
		px := float64(pad) + float64(i)*bw
		label := fmt.Sprintf("%.0f", x.Value)
		if unit == "%" {
			label = fmt.Sprintf("%.0f%%", 100*x.Value)
		}
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#1565c0"><title>%s: %s</title></rect>`,
			px+2, float64(h)-bh, bw-4, bh, html.EscapeString(x.Label), label)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="10" text-anchor="middle">%s</text>`, px+bw/2, h+14, html.EscapeString(x.Label))
	}
	if target > 0 {
		y := float64(h) - float64(h-pad)*target/top
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#c62828" stroke-dasharray="4 3"/><text x="%d" y="%.1f" font-size="10" fill="#c62828">target %.0f%%</text>`,
			pad, w-pad, y, y, w-pad-60, y-4, 100*target)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func isNotFound(err error) bool {
	return errors.Is(err, alert.ErrNotFound) || errors.Is(err, lookup.ErrUnknown)
}

func isBad(err error) bool {
	return errors.Is(err, alert.ErrBadQuery) || errors.Is(err, alert.ErrBadAction)
}

// palette colours a chart's series.
var palette = []string{"#1565c0", "#ef6c00", "#2e7d32", "#c62828", "#6a1b9a", "#00838f", "#9e9d24", "#4e342e", "#546e7a", "#ad1457"}

// stackedChart draws a bar per day stacked by series, with a legend.
func stackedChart(days, series []string, counts map[string]map[string]float64) template.HTML {
	if len(days) == 0 {
		return template.HTML(`<p>No alerts in the last 30 days.</p>`)
	}
	top := 1.0
	for _, d := range days {
		sum := 0.0
		for _, v := range counts[d] {
			sum += v
		}
		top = max(top, sum)
	}
	const w, h, pad = 720, 200, 30
	bw := float64(w-2*pad) / float64(len(days))
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" role="img">`, w, h+40+14*((len(series)+3)/4))
	for i, d := range days {
		px, y := float64(pad)+float64(i)*bw, float64(h)
		for si, sname := range series {
			v := counts[d][sname]
			if v == 0 {
				continue
			}
			sh := float64(h-pad) * v / top
			y -= sh
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s: %.0f</title></rect>`,
				px+2, y, bw-4, sh, palette[si%len(palette)], html.EscapeString(d), html.EscapeString(sname), v)
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="10" text-anchor="middle">%s</text>`, px+bw/2, h+14, html.EscapeString(d))
	}
	for si, sname := range series {
		x, y := pad+(si%4)*170, h+30+14*(si/4)
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="10" height="10" fill="%s"/><text x="%d" y="%d" font-size="11">%s</text>`,
			x, y, palette[si%len(palette)], x+14, y+9, html.EscapeString(sname))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// recommendationOptions are the queue's recommendation filter: any, then each one the
// detectors make.
func recommendationOptions() []string {
	out := []string{""}
	for _, r := range detect.Recommendations {
		out = append(out, string(r))
	}
	return out
}
