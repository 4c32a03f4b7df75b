package alert

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/trackwatch/trackwatch/sqlfile"
)

// Query selects a page of alerts for the workspace; zero fields select everything.
type Query struct {
	Status Status
	Case   CaseState
	// NotClosed selects the alerts whose case is not closed (the queue).
	NotClosed                                              bool
	Detector, Severity, Recommendation, Marketplace        string
	SellerID, BuyerID, OrderID, TrackingNumber             string
	DetectedFrom, DetectedTo, ProtectionFrom, ProtectionTo time.Time // zero: open-ended
	// Sort is "urgency" (protection ending soonest first, then the largest amount) or
	// "recency" (latest detection first). Default urgency.
	Sort string
	// Limit is the page size, 1..1000; default 50.
	Limit int
	// Cursor continues after the last alert of the previous page (Page.Next).
	Cursor string
}

// Listed is an alert with its case, as lists show it.
type Listed struct {
	Alert
	Case Case `json:"case"`
}

// Page is one page of alerts; Next is the cursor of the next page ("" at the end).
type Page struct {
	Alerts []Listed `json:"alerts"`
	Next   string   `json:"next,omitempty"`
}

// cursor is the sort key of the last alert of a page.
type cursor struct {
	Key int64  `json:"k"` // protection end (urgency) or last detection (recency), Unix ms
	Amt string `json:"a"` // amount (urgency)
	ID  string `json:"i"`
	// Case is a case's key (marketplace, order, seller) on a page of cases.
	Case []string `json:"c,omitempty"`
}

// ErrBadQuery is returned for a query parameter out of its range.
var ErrBadQuery = fmt.Errorf("bad query")

// filterData is which of a Query's filters are set, for the statements that list alerts
// (query_keys) and cases (case_keys): each set filter is a condition on its parameter.
type filterData struct {
	Status, Case, Detector, Severity, Recommendation                  bool
	Marketplace, SellerID, BuyerID, OrderID, TrackingNumber           bool
	DetectedFrom, DetectedTo, ProtectionFrom, ProtectionTo, NotClosed bool
	Sort                                                              string // urgency or recency
}

// filters checks q's page (its limit and sort, defaults filled in) and returns which of
// its filters are set, with their values as named parameters.
func filters(q *Query) (filterData, []any, error) {
	if q.Limit == 0 {
		q.Limit = 50
	}
	if q.Sort == "" {
		q.Sort = "urgency"
	}
	if q.Limit < 1 || q.Limit > 1000 {
		return filterData{}, nil, fmt.Errorf("%w: limit %d is out of range 1..1000", ErrBadQuery, q.Limit)
	}
	if q.Sort != "urgency" && q.Sort != "recency" {
		return filterData{}, nil, fmt.Errorf("%w: sort %q is not urgency or recency", ErrBadQuery, q.Sort)
	}
	d := filterData{NotClosed: q.NotClosed, Sort: q.Sort}
	var args []any
	eq := func(set *bool, name, v string) {
		if v != "" {
			*set = true
			args = append(args, clickhouse.Named(name, v))
		}
	}
	eq(&d.Status, "status", string(q.Status))
	eq(&d.Case, "case", string(q.Case))
	eq(&d.Detector, "detector", q.Detector)
	eq(&d.Severity, "severity", q.Severity)
	eq(&d.Recommendation, "recommendation", q.Recommendation)
	eq(&d.Marketplace, "marketplace", q.Marketplace)
	eq(&d.SellerID, "seller_id", q.SellerID)
	eq(&d.BuyerID, "buyer_id", q.BuyerID)
	eq(&d.OrderID, "order_id", q.OrderID)
	eq(&d.TrackingNumber, "tracking_number", strings.ToUpper(strings.TrimSpace(q.TrackingNumber)))
	rng := func(set *bool, name string, t time.Time) {
		if !t.IsZero() {
			*set = true
			args = append(args, clickhouse.Named(name, t.UTC()))
		}
	}
	rng(&d.DetectedFrom, "detected_from", q.DetectedFrom)
	rng(&d.DetectedTo, "detected_to", q.DetectedTo)
	rng(&d.ProtectionFrom, "protection_from", q.ProtectionFrom)
	rng(&d.ProtectionTo, "protection_to", q.ProtectionTo)
	return d, args, nil
}

// queryData is what the statement query_keys (sql/query.sql) is rendered with: the
// database, which filters are set, the sort, and whether a cursor continues a page.
type queryData struct {
	DB sqlfile.Ident
	filterData
	Cursor bool
}

// Query returns a page of alerts matching q, each without its evidence and reasons
// (Get, and lookup's Detail, have them).
func (s *Store) Query(ctx context.Context, q Query) (Page, error) {
	f, args, err := filters(&q)
	if err != nil {
		return Page{}, err
	}
	d := queryData{DB: sqlfile.Ident(s.DB), filterData: f}
	if q.Cursor != "" {
		c, err := decodeCursor(q.Cursor)
		if err != nil {
			return Page{}, err
		}
		d.Cursor = true
		args = append(args, clickhouse.Named("ck", c.Key), clickhouse.Named("ca", c.Amt), clickhouse.Named("ci", c.ID))
	}
	args = append(args, clickhouse.Named("limit", uint32(q.Limit+1)))
	var rows []struct {
		AlertID  string `ch:"alert_id"`
		KUrgency int64  `ch:"k_urgency"`
		KAmount  string `ch:"k_amount"`
		KRecency int64  `ch:"k_recency"`
	}
	if err := s.Conn.Select(ctx, &rows, statements.Text("query_keys", d), args...); err != nil {
		return Page{}, fmt.Errorf("list alerts: %w", err)
	}
	ids := make([]string, 0, len(rows))
	for _, r := range rows {
		ids = append(ids, r.AlertID)
	}
	var full []Alert
	if err := s.Conn.Select(ctx, &full, statements.In(s.DB, "query_rows"), clickhouse.Named("ids", ids)); err != nil {
		return Page{}, fmt.Errorf("list alerts: %w", err)
	}
	byID := make(map[string]Alert, len(full))
	for _, a := range full {
		byID[a.AlertID] = a
	}
	var acted []struct {
		AlertID string `ch:"alert_id"`
		Case
	}
	if err := s.Conn.Select(ctx, &acted, statements.In(s.DB, "cases_of"), clickhouse.Named("ids", ids)); err != nil {
		return Page{}, fmt.Errorf("list alerts' cases: %w", err)
	}
	cases := make(map[string]Case, len(acted))
	for _, c := range acted {
		cases[c.AlertID] = c.Case
	}
	var p Page
	p.Alerts = []Listed{}
	for i, r := range rows {
		if i == q.Limit {
			last := rows[i-1]
			c := cursor{Key: last.KUrgency, Amt: last.KAmount, ID: last.AlertID}
			if q.Sort == "recency" {
				c = cursor{Key: last.KRecency, ID: last.AlertID}
			}
			b, _ := json.Marshal(c)
			p.Next = base64.RawURLEncoding.EncodeToString(b)
			break
		}
		c, ok := cases[r.AlertID]
		if !ok {
			c.State = CaseOpen
		}
		p.Alerts = append(p.Alerts, Listed{Alert: byID[r.AlertID], Case: c})
	}
	return p, nil
}

// Stats is the workspace's overview.
type Stats struct {
	// ByDetectorDay counts alerts by the day they first fired, per detector, over the
	// last 30 days.
	ByDetectorDay []struct {
		Day      time.Time `ch:"day" json:"day"`
		Detector string    `ch:"detector" json:"detector"`
		Alerts   uint64    `ch:"alerts" json:"alerts"`
	} `json:"by_detector_day"`
	// Queue is the firing alerts nobody closed; Untouched those nobody acted on at all.
	Queue     uint64 `json:"queue"`
	Untouched uint64 `json:"untouched"`
	// QueueCases is the queue of cases: the firing cases not closed (CaseQuery's
	// firing, not closed); UntouchedCases those with no action on any of their alerts.
	QueueCases     uint64 `json:"queue_cases"`
	UntouchedCases uint64 `json:"untouched_cases"`
	// OldestUntouched is when the oldest untouched firing alert fired.
	OldestUntouched *time.Time `json:"oldest_untouched,omitempty"`
	// Precision is, per detector, the closed cases confirmed fake among those closed as
	// confirmed fake or false positive: the first field measurement of precision.
	Precision []struct {
		Detector       string  `ch:"detector" json:"detector"`
		ConfirmedFake  uint64  `ch:"confirmed_fake" json:"confirmed_fake"`
		FalsePositives uint64  `ch:"false_positive" json:"false_positive"`
		Precision      float64 `ch:"precision" json:"precision"`
	} `json:"precision"`
}

// Stats computes the overview as of now.
func (s *Store) Stats(ctx context.Context, now time.Time) (Stats, error) {
	var st Stats
	if err := s.Conn.Select(ctx, &st.ByDetectorDay, statements.In(s.DB, "stats_by_detector_day"), clickhouse.Named("now", now.UTC())); err != nil {
		return st, fmt.Errorf("stats: %w", err)
	}
	var q []struct {
		Queue          uint64    `ch:"queue"`
		Untouched      uint64    `ch:"untouched"`
		Oldest         time.Time `ch:"oldest"`
		QueueCases     uint64    `ch:"queue_cases"`
		UntouchedCases uint64    `ch:"untouched_cases"`
	}
	if err := s.Conn.Select(ctx, &q, statements.In(s.DB, "stats_queue")); err != nil {
		return st, fmt.Errorf("stats: %w", err)
	}
	if len(q) == 1 {
		st.Queue, st.Untouched, st.QueueCases, st.UntouchedCases = q[0].Queue, q[0].Untouched, q[0].QueueCases, q[0].UntouchedCases
		if q[0].Untouched > 0 {
			o := q[0].Oldest.UTC()
			st.OldestUntouched = &o
		}
	}
	if err := s.Conn.Select(ctx, &st.Precision, statements.In(s.DB, "stats_precision")); err != nil {
		return st, fmt.Errorf("stats: %w", err)
	}
	return st, nil
}
