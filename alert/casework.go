package alert

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/shopspring/decimal"

	"github.com/trackwatch/trackwatch/detect"
	"github.com/trackwatch/trackwatch/sqlfile"
)

// CaseID names the case of an alert: every alert of one order (marketplace and order
// id) is one case, and an alert without an order (a seller-level alert) is in its
// seller's case. It is the first 16 bytes of a SHA-256 in hex, the same as the SQL
// fragment case_id (sql/casework.sql) computes.
func CaseID(marketplace, orderID, sellerID string) string {
	key := "order\x00" + marketplace + "\x00" + orderID
	if orderID == "" {
		key = "seller\x00" + marketplace + "\x00" + sellerID
	}
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:16])
}

// noCase is ErrNotFound for a case: errors.Is(err, ErrNotFound) holds, and it says
// "no such case".
type noCase struct{}

func (noCase) Error() string        { return "no such case" }
func (noCase) Is(target error) bool { return target == ErrNotFound }

// CaseSummary is one case as the queue lists it: the alerts of one order (or of one
// seller, for alerts without an order) taken together.
type CaseSummary struct {
	CaseID      string `ch:"case_id" json:"case_id"`
	Marketplace string `ch:"marketplace" json:"marketplace"`
	// OrderID is "" for a seller's case.
	OrderID         string   `ch:"order_id" json:"order_id"`
	SellerID        string   `ch:"seller_id" json:"seller_id"`
	BuyerID         string   `ch:"buyer_id" json:"buyer_id"`
	TrackingNumbers []string `ch:"tracking_numbers" json:"tracking_numbers"`
	// Detectors are the detectors of its alerts; Signals counts its alerts, Firing
	// those firing.
	Detectors []string `ch:"detectors" json:"detectors"`
	Signals   uint64   `ch:"signals" json:"signals"`
	Firing    uint64   `ch:"firing" json:"firing"`
	// Status is firing while any of its alerts fires, resolved once all are.
	Status Status `ch:"status" json:"status"`
	// Severity and Recommendation are its strongest firing alert's (of all once none
	// fires).
	Severity       Severity       `ch:"severity" json:"severity"`
	Recommendation Recommendation `ch:"recommendation" json:"recommendation"`
	// OpenedAt is when its first alert fired; ResolvedAt when the last resolved.
	OpenedAt         time.Time        `ch:"opened_at" json:"opened_at"`
	LastDetectedAt   time.Time        `ch:"last_detected_at" json:"last_detected_at"`
	ResolvedAt       *time.Time       `ch:"resolved_at" json:"resolved_at"`
	ProtectionEndsAt *time.Time       `ch:"protection_ends_at" json:"protection_ends_at"`
	Amount           *decimal.Decimal `ch:"amount" json:"amount"`
	// Linked counts the other cases that carry one of its tracking numbers (a reuse
	// ring: CaseQuery.LinkedTo lists them).
	Linked uint64 `ch:"linked" json:"linked"`
	// State is the analysts' work on it: closed when every alert is closed,
	// acknowledged when every one is acknowledged or closed, open otherwise (an alert
	// that fires after the case was closed opens it again).
	State    CaseState `ch:"case_state" json:"state"`
	Assignee string    `ch:"assignee" json:"assignee"`
	Outcome  Outcome   `ch:"outcome" json:"outcome"`
	Actions  uint64    `ch:"actions" json:"actions"`
}

// CaseQuery selects a page of cases; zero fields select everything. Query's filters
// apply to the case: Status, Severity and Recommendation are the case's own (its
// strongest alert's), Case and NotClosed its state, Detector selects the cases with an
// alert of that detector, Marketplace .. TrackingNumber the cases with an alert that has
// it, DetectedFrom and DetectedTo when the case opened, ProtectionFrom and ProtectionTo
// its protection's end. Sort is "urgency" (default) or "recency", Limit 1..1000
// (default 50), Cursor CasePage.Next.
type CaseQuery struct {
	Query
	// MinSignals selects the cases with at least this many alerts; Linked those that
	// share a tracking number with another case; LinkedTo the cases that share one with
	// that case (its ring, the case itself included).
	MinSignals int
	Linked     bool
	LinkedTo   string
}

// CasePage is one page of cases; Next is the cursor of the next page ("" at the end).
type CasePage struct {
	Cases []CaseSummary `json:"cases"`
	Next  string        `json:"next,omitempty"`
}

// caseQueryData is what case_keys and case_rows (sql/casework.sql) are rendered with:
// the filters set, and the cases' own (Narrow: the filters on the cases' alerts, Keys: a
// page's cases by key).
type caseQueryData struct {
	DB sqlfile.Ident
	filterData
	Narrow, Keys, LinkedTo, MinSignals, Linked, Cursor bool
}

// recStrength is the recommendations from the weakest to the strongest, the parameter
// recs of the case statements: detect.Recommendations lists them strongest first. A
// recommendation not in it ranks below all.
func recStrength() []string {
	out := make([]string, 0, len(detect.Recommendations))
	for _, r := range slices.Backward(detect.Recommendations) {
		out = append(out, string(r))
	}
	return out
}

// Cases returns a page of cases matching q.
func (s *Store) Cases(ctx context.Context, q CaseQuery) (CasePage, error) {
	f, args, err := filters(&q.Query)
	if err != nil {
		return CasePage{}, err
	}
	if q.MinSignals < 0 {
		return CasePage{}, fmt.Errorf("%w: min_signals %d is negative", ErrBadQuery, q.MinSignals)
	}
	d := caseQueryData{DB: sqlfile.Ident(s.DB), filterData: f, Linked: q.Linked}
	args = append(args, clickhouse.Named("recs", recStrength()))
	if q.LinkedTo != "" {
		k, ok, err := s.caseKey(ctx, q.LinkedTo)
		if err != nil {
			return CasePage{}, err
		}
		if !ok { // no such case: no ring
			return CasePage{Cases: []CaseSummary{}}, nil
		}
		d.LinkedTo = true
		args = append(args, k.args()...)
	}
	d.Narrow = d.Marketplace || d.SellerID || d.BuyerID || d.OrderID || d.TrackingNumber || d.LinkedTo
	if q.MinSignals > 0 {
		d.MinSignals = true
		args = append(args, clickhouse.Named("min_signals", uint64(q.MinSignals)))
	}
	if q.Cursor != "" {
		c, err := decodeCursor(q.Cursor)
		if err != nil {
			return CasePage{}, err
		}
		if len(c.Case) != 3 {
			return CasePage{}, fmt.Errorf("%w: cursor is not one of a page of cases", ErrBadQuery)
		}
		d.Cursor = true
		args = append(args, clickhouse.Named("ck", c.Key), clickhouse.Named("ca", c.Amt),
			clickhouse.Named("cm", c.Case[0]), clickhouse.Named("co", c.Case[1]), clickhouse.Named("cs", c.Case[2]))
	}
	args = append(args, clickhouse.Named("limit", uint32(q.Limit+1)))
	var keys []struct {
		caseKey
		KUrgency int64  `ch:"k_urgency"`
		KAmount  string `ch:"k_amount"`
		KRecency int64  `ch:"k_recency"`
	}
	if err := s.Conn.Select(ctx, &keys, statements.Text("case_keys", d), args...); err != nil {
		return CasePage{}, fmt.Errorf("list cases: %w", err)
	}
	p := CasePage{Cases: []CaseSummary{}}
	page := make([]caseKey, 0, len(keys))
	for i, k := range keys {
		if i == q.Limit {
			last := keys[i-1]
			key := []string{last.Market, last.Order, last.Seller}
			c := cursor{Key: last.KUrgency, Amt: last.KAmount, Case: key}
			if q.Sort == "recency" {
				c = cursor{Key: last.KRecency, Case: key}
			}
			b, _ := json.Marshal(c)
			p.Next = base64.RawURLEncoding.EncodeToString(b)
			break
		}
		page = append(page, k.caseKey)
	}
	rows, err := s.caseRows(ctx, page...)
	if err != nil {
		return CasePage{}, err
	}
	for _, k := range page { // in the page's order
		if c, ok := rows[k]; ok {
			p.Cases = append(p.Cases, c)
		}
	}
	return p, nil
}

// caseRows reads the cases of keys in full, with how many other cases share their
// numbers (Linked).
func (s *Store) caseRows(ctx context.Context, keys ...caseKey) (map[caseKey]CaseSummary, error) {
	out := make(map[caseKey]CaseSummary, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	km, ko, ks := make([]string, len(keys)), make([]string, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		km[i], ko[i], ks[i] = k.Market, k.Order, k.Seller
	}
	rows, err := s.readCases(ctx, caseQueryData{DB: sqlfile.Ident(s.DB), Narrow: true, Keys: true},
		clickhouse.Named("km", km), clickhouse.Named("ko", ko), clickhouse.Named("ks", ks))
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		out[r.key()] = r
	}
	return out, nil
}

// key is a case's key.
func (c CaseSummary) key() caseKey { return keyOf(c.Marketplace, c.OrderID, c.SellerID) }

// keyOf is the key of the case of an alert of that marketplace, order and seller.
func keyOf(marketplace, orderID, sellerID string) caseKey {
	k := caseKey{Market: marketplace, Order: orderID}
	if orderID == "" {
		k.Seller = sellerID
	}
	return k
}

// readCases reads the cases case_rows selects when rendered with d, in full, with how
// many other cases share their numbers (Linked: case_links).
func (s *Store) readCases(ctx context.Context, d caseQueryData, args ...any) ([]CaseSummary, error) {
	var rows []CaseSummary
	if err := s.Conn.Select(ctx, &rows, statements.Text("case_rows", d), append(args, clickhouse.Named("recs", recStrength()))...); err != nil {
		return nil, fmt.Errorf("read cases: %w", err)
	}
	var tns []string
	for _, r := range rows {
		tns = append(tns, r.TrackingNumbers...)
	}
	if len(tns) == 0 {
		return rows, nil
	}
	var links []struct {
		TN    string `ch:"tn"`
		Cases uint64 `ch:"cases"`
	}
	if err := s.Conn.Select(ctx, &links, statements.In(s.DB, "case_links"), clickhouse.Named("tns", tns)); err != nil {
		return nil, fmt.Errorf("read linked cases: %w", err)
	}
	cases := make(map[string]uint64, len(links))
	for _, l := range links {
		cases[l.TN] = l.Cases
	}
	for i, r := range rows {
		for _, tn := range r.TrackingNumbers {
			if n := cases[tn]; n > 1 {
				rows[i].Linked += n - 1
			}
		}
	}
	return rows, nil
}

// caseKey is what a case's alerts have in common: the marketplace, the order id, and the
// seller id when the order id is "" (sql/casework.sql, case_key).
type caseKey struct {
	Market string `ch:"k_market"`
	Order  string `ch:"k_order"`
	Seller string `ch:"k_seller"`
}

// args are the key as the parameters key_market, key_order, key_seller.
func (k caseKey) args() []any {
	return []any{clickhouse.Named("key_market", k.Market), clickhouse.Named("key_order", k.Order), clickhouse.Named("key_seller", k.Seller)}
}

// caseKey finds the key of case id; ok is false when no alert is in that case.
func (s *Store) caseKey(ctx context.Context, id string) (k caseKey, ok bool, err error) {
	var rows []caseKey
	if err := s.Conn.Select(ctx, &rows, statements.In(s.DB, "case_key_of"), clickhouse.Named("id", id)); err != nil {
		return caseKey{}, false, fmt.Errorf("find case: %w", err)
	}
	if len(rows) == 0 {
		return caseKey{}, false, nil
	}
	return rows[0], true, nil
}

// decodeCursor reads a page's cursor (Page.Next, CasePage.Next).
func decodeCursor(s string) (cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	var c cursor
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil {
		return cursor{}, fmt.Errorf("%w: cursor is not one this API gave", ErrBadQuery)
	}
	return c, nil
}

// CaseDetail is one case in full: its summary, its alerts (strongest first, with their
// reasons and evidence), its actions, the dispute text and the cases linked to it.
type CaseDetail struct {
	CaseSummary
	Alerts  []Alert  `json:"alerts"`
	Actions []Action `json:"actions"`
	// Dispute is one text per reason language stating each alert's facts once, then
	// the request of the strongest (CaseDispute).
	Dispute map[string]string `json:"dispute"`
	// LinkedCases are the other cases that carry one of its tracking numbers.
	LinkedCases []CaseSummary `json:"linked_cases"`
}

// GetCase returns a case in full, or ErrNotFound.
func (s *Store) GetCase(ctx context.Context, caseID string) (CaseDetail, error) {
	alerts, err := s.caseAlerts(ctx, caseID)
	if err != nil {
		return CaseDetail{}, err
	}
	k := keyOf(alerts[0].Marketplace, alerts[0].OrderID, alerts[0].SellerID)
	// the case and its ring: the cases that carry one of its numbers
	keys := []caseKey{k}
	var tns []string
	for _, a := range alerts {
		if a.TrackingNumber != "" && !slices.Contains(tns, a.TrackingNumber) {
			tns = append(tns, a.TrackingNumber)
		}
	}
	if len(tns) > 0 {
		var ring []caseKey
		if err := s.Conn.Select(ctx, &ring, statements.In(s.DB, "case_ring"), clickhouse.Named("tns", tns)); err != nil {
			return CaseDetail{}, fmt.Errorf("read the case's ring: %w", err)
		}
		for _, r := range ring {
			if r != k {
				keys = append(keys, r)
			}
		}
	}
	rows, err := s.caseRows(ctx, keys...)
	if err != nil {
		return CaseDetail{}, err
	}
	var d CaseDetail
	found := false
	d.LinkedCases = []CaseSummary{}
	for _, c := range rows {
		if c.key() == k {
			d.CaseSummary, found = c, true
		} else {
			d.LinkedCases = append(d.LinkedCases, c)
		}
	}
	if !found {
		return CaseDetail{}, noCase{}
	}
	slices.SortFunc(d.LinkedCases, func(a, b CaseSummary) int { return strings.Compare(a.CaseID, b.CaseID) })
	d.Alerts = alerts
	ids := make([]string, len(d.Alerts))
	for i, a := range d.Alerts {
		ids[i] = a.AlertID
	}
	d.Actions = []Action{}
	if err := s.Conn.Select(ctx, &d.Actions, statements.In(s.DB, "case_history"), clickhouse.Named("ids", ids)); err != nil {
		return CaseDetail{}, fmt.Errorf("read case actions: %w", err)
	}
	d.Dispute = CaseDispute(d.Alerts)
	return d, nil
}

// caseSummary reads the summary of the case of key k, or ErrNotFound.
func (s *Store) caseSummary(ctx context.Context, k caseKey) (CaseSummary, error) {
	rows, err := s.caseRows(ctx, k)
	if err != nil {
		return CaseSummary{}, err
	}
	c, ok := rows[k]
	if !ok {
		return CaseSummary{}, noCase{}
	}
	return c, nil
}

// caseAlerts reads the alerts of case id in full, strongest first, or ErrNotFound.
func (s *Store) caseAlerts(ctx context.Context, id string) ([]Alert, error) {
	var as []Alert
	if err := s.Conn.Select(ctx, &as, statements.In(s.DB, "case_alerts"), clickhouse.Named("recs", recStrength()), clickhouse.Named("id", id)); err != nil {
		return nil, fmt.Errorf("read case alerts: %w", err)
	}
	if len(as) == 0 {
		return nil, noCase{}
	}
	return as, nil
}

// ActCase records a case action on every alert of a case (one action id on each, so
// the case's history lists it once and each alert's own case and the precision per
// detector count it) and returns the case's state after it.
func (s *Store) ActCase(ctx context.Context, caseID string, a Action, now time.Time) (CaseSummary, error) {
	if err := a.validate(); err != nil {
		return CaseSummary{}, err
	}
	as, err := s.caseAlerts(ctx, caseID)
	if err != nil {
		return CaseSummary{}, err
	}
	k := keyOf(as[0].Marketplace, as[0].OrderID, as[0].SellerID)
	ids := make([]string, len(as))
	for i, x := range as {
		ids[i] = x.AlertID
	}
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	if err := s.Conn.Exec(ctx, statements.In(s.DB, "case_act_all"),
		clickhouse.Named("id", hex.EncodeToString(b)), clickhouse.Named("ids", ids), clickhouse.Named("action", string(a.Action)),
		clickhouse.Named("actor", a.Actor), clickhouse.Named("assignee", strings.TrimSpace(a.Assignee)), clickhouse.Named("outcome", string(a.Outcome)),
		clickhouse.Named("comment", a.Comment), clickhouse.Named("at", now.UTC())); err != nil {
		return CaseSummary{}, fmt.Errorf("record action: %w", err)
	}
	return s.caseSummary(ctx, k)
}

// CaseDispute is a case's dispute text in each language its alerts' reasons have: the
// facts of every alert once (each reason's sentences but its last, a sentence already
// stated left out), strongest alert first, then the request that closes the strongest
// alert's reason. Firing alerts only, unless none fires. alerts are strongest first
// (as GetCase reads them).
func CaseDispute(alerts []Alert) map[string]string {
	use := alerts[:0:0]
	for _, a := range alerts {
		if a.Status == StatusFiring {
			use = append(use, a)
		}
	}
	if len(use) == 0 {
		use = alerts
	}
	out := map[string]string{}
	langs := map[string]bool{}
	for _, a := range use {
		for l := range a.Reasons {
			langs[l] = true
		}
	}
	for lang := range langs {
		var facts []string
		seen := map[string]bool{}
		request := ""
		for _, a := range use {
			text := strings.TrimSpace(a.Reasons[lang])
			if text == "" {
				continue
			}
			ss := sentences(text)
			last := len(ss)
			if len(ss) > 1 {
				last = len(ss) - 1
				if request == "" {
					request = ss[len(ss)-1]
				}
			}
			for _, x := range ss[:last] {
				if !seen[x] {
					seen[x] = true
					facts = append(facts, x)
				}
			}
		}
		if request != "" && !seen[request] {
			facts = append(facts, request)
		}
		sep := " "
		if lang == "ja" || lang == "zh" {
			sep = ""
		}
		out[lang] = strings.Join(facts, sep)
	}
	return out
}

// sentences splits a reason into its sentences: after ". ", "! ", "? " or "。".
func sentences(text string) []string {
	var out []string
	start := 0
	rs := []rune(text)
	for i := 0; i < len(rs); i++ {
		end := -1
		switch {
		case rs[i] == '。' || rs[i] == '！' || rs[i] == '？':
			end = i + 1
		case (rs[i] == '.' || rs[i] == '!' || rs[i] == '?') && i+1 < len(rs) && rs[i+1] == ' ':
			end = i + 1
		}
		if end < 0 {
			continue
		}
		if s := strings.TrimSpace(string(rs[start:end])); s != "" {
			out = append(out, s)
		}
		start = end
	}
	if s := strings.TrimSpace(string(rs[start:])); s != "" {
		out = append(out, s)
	}
	return out
}

// CaseIDSQL is the SQL expression of an alert row's case id (CaseID), over the columns
// marketplace, order_id and seller_id, for other packages' statements.
func CaseIDSQL() string { return statements.In("", "case_id") }
