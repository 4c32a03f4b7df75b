package alert

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
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
}

// ErrBadQuery is returned for a query parameter out of its range.
var ErrBadQuery = fmt.Errorf("bad query")

// listSQL selects the sort keys of the alerts matching $where, with their case; the
// page's whole rows are read after, by id (reading evidence and reasons of every alert
// to sort them would cost most of the query).
const listSQL = `SELECT a.alert_id AS alert_id, ifNull(c.case_state, 'open') AS case_state, ifNull(c.assignee, '') AS assignee,
    ifNull(c.outcome, '') AS outcome, ifNull(c.actions, 0) AS actions,
    toInt64(toUnixTimestamp64Milli(ifNull(a.protection_ends_at, toDateTime64('2200-01-01 00:00:00', 3, 'UTC')))) AS k_urgency,
    toString(ifNull(a.amount, toDecimal64(0, 4))) AS k_amount, toInt64(toUnixTimestamp64Milli(a.last_detected_at)) AS k_recency
FROM (SELECT alert_id, protection_ends_at, amount, last_detected_at FROM $current WHERE $where) AS a
LEFT JOIN ($cases) AS c ON c.alert_id = a.alert_id
SETTINGS join_use_nulls = 1`

// listColumns are an alert's columns in a list: not its evidence nor its reasons in
// every language (the alert itself has them), which are most of its bytes and of the
// time it takes to read a page.
const listColumns = "alert_id, detector, order_id, tracking_number, seller_id, buyer_id, marketplace, severity, recommendation, " +
	"reason, protection_ends_at, amount, first_detected_at, last_detected_at, status, resolved_at, as_of"

// Query returns a page of alerts matching q, each without its evidence and reasons
// (Detail has them).
func (s *Store) Query(ctx context.Context, q Query) (Page, error) {
	if q.Limit == 0 {
		q.Limit = 50
	}
	if q.Sort == "" {
		q.Sort = "urgency"
	}
	if q.Limit < 1 || q.Limit > 1000 {
		return Page{}, fmt.Errorf("%w: limit %d is out of range 1..1000", ErrBadQuery, q.Limit)
	}
	if q.Sort != "urgency" && q.Sort != "recency" {
		return Page{}, fmt.Errorf("%w: sort %q is not urgency or recency", ErrBadQuery, q.Sort)
	}
	var where []string
	args := []any{}
	eq := func(col, v string) {
		if v != "" {
			where = append(where, col+" = {"+col+":String}")
			args = append(args, clickhouse.Named(col, v))
		}
	}
	eq("status", string(q.Status))
	eq("detector", q.Detector)
	eq("severity", q.Severity)
	eq("recommendation", q.Recommendation)
	eq("marketplace", q.Marketplace)
	eq("seller_id", q.SellerID)
	eq("buyer_id", q.BuyerID)
	eq("order_id", q.OrderID)
	eq("tracking_number", strings.ToUpper(strings.TrimSpace(q.TrackingNumber)))
	rng := func(col, name string, t time.Time, op string) {
		if !t.IsZero() {
			where = append(where, col+" "+op+" {"+name+":DateTime64(3, 'UTC')}")
			args = append(args, clickhouse.Named(name, t.UTC()))
		}
	}
	rng("first_detected_at", "detected_from", q.DetectedFrom, ">=")
	rng("first_detected_at", "detected_to", q.DetectedTo, "<")
	rng("protection_ends_at", "protection_from", q.ProtectionFrom, ">=")
	rng("protection_ends_at", "protection_to", q.ProtectionTo, "<")
	if len(where) == 0 {
		where = append(where, "1")
	}
	outer := []string{"1"}
	if q.NotClosed {
		outer = append(outer, "case_state != 'closed'")
	}
	if q.Case != "" {
		outer = append(outer, "case_state = {case:String}")
		args = append(args, clickhouse.Named("case", string(q.Case)))
	}
	order := "k_urgency ASC, toDecimal64(k_amount, 4) DESC, alert_id ASC"
	if q.Sort == "recency" {
		order = "k_recency DESC, alert_id ASC"
	}
	if q.Cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(q.Cursor)
		var c cursor
		if err == nil {
			err = json.Unmarshal(b, &c)
		}
		if err != nil {
			return Page{}, fmt.Errorf("%w: cursor is not one this API gave", ErrBadQuery)
		}
		if q.Sort == "urgency" {
			outer = append(outer, "(k_urgency > {ck:Int64} OR (k_urgency = {ck:Int64} AND (toDecimal64(k_amount, 4) < toDecimal64({ca:String}, 4) "+
				"OR (k_amount = {ca:String} AND alert_id > {ci:String}))))")
		} else {
			outer = append(outer, "(k_recency < {ck:Int64} OR (k_recency = {ck:Int64} AND alert_id > {ci:String}))")
		}
		args = append(args, clickhouse.Named("ck", c.Key), clickhouse.Named("ca", c.Amt), clickhouse.Named("ci", c.ID))
	}
	inner := strings.NewReplacer("$where", strings.Join(where, " AND "), "$cases", CaseSQL(s.DB), "$current", CurrentAlertsSQL(s.DB),
		"$db", "`"+s.DB+"`").Replace(listSQL)
	query := "SELECT * FROM (" + inner + ") WHERE " + strings.Join(outer, " AND ") + " ORDER BY " + order + " LIMIT {limit:UInt32}"
	args = append(args, clickhouse.Named("limit", uint32(q.Limit+1)))
	var rows []struct {
		AlertID  string    `ch:"alert_id"`
		State    CaseState `ch:"case_state"`
		Assignee string    `ch:"assignee"`
		Outcome  Outcome   `ch:"outcome"`
		Actions  uint64    `ch:"actions"`
		KUrgency int64     `ch:"k_urgency"`
		KAmount  string    `ch:"k_amount"`
		KRecency int64     `ch:"k_recency"`
	}
	if err := s.Conn.Select(ctx, &rows, query, args...); err != nil {
		return Page{}, fmt.Errorf("list alerts: %w", err)
	}
	ids := make([]string, 0, len(rows))
	for _, r := range rows {
		ids = append(ids, r.AlertID)
	}
	var full []Alert
	if err := s.Conn.Select(ctx, &full, "SELECT "+listColumns+" FROM "+CurrentAlertsSQL(s.DB)+" WHERE alert_id IN {ids:Array(String)}",
		clickhouse.Named("ids", ids)); err != nil {
		return Page{}, fmt.Errorf("list alerts: %w", err)
	}
	byID := make(map[string]Alert, len(full))
	for _, a := range full {
		byID[a.AlertID] = a
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
		p.Alerts = append(p.Alerts, Listed{Alert: byID[r.AlertID], Case: Case{State: r.State, Assignee: r.Assignee, Outcome: r.Outcome, Actions: r.Actions}})
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
	r := strings.NewReplacer("$cases", CaseSQL(s.DB), "$db", "`"+s.DB+"`")
	if err := s.Conn.Select(ctx, &st.ByDetectorDay, r.Replace(`SELECT toDate(first_detected_at) AS day, detector, count() AS alerts
FROM $db.alerts FINAL WHERE first_detected_at >= {now:DateTime64(3, 'UTC')} - toIntervalDay(30)
GROUP BY day, detector ORDER BY day, detector`), clickhouse.Named("now", now.UTC())); err != nil {
		return st, fmt.Errorf("stats: %w", err)
	}
	var q []struct {
		Queue     uint64    `ch:"queue"`
		Untouched uint64    `ch:"untouched"`
		Oldest    time.Time `ch:"oldest"`
	}
	if err := s.Conn.Select(ctx, &q, r.Replace(`SELECT countIf(ifNull(c.case_state, 'open') != 'closed') AS queue,
    countIf(c.alert_id IS NULL) AS untouched, minIf(a.first_detected_at, c.alert_id IS NULL) AS oldest
FROM (SELECT alert_id, first_detected_at FROM $db.alerts FINAL WHERE status = 'firing') AS a
LEFT JOIN ($cases) AS c ON c.alert_id = a.alert_id
SETTINGS join_use_nulls = 1`)); err != nil {
		return st, fmt.Errorf("stats: %w", err)
	}
	if len(q) == 1 {
		st.Queue, st.Untouched = q[0].Queue, q[0].Untouched
		if q[0].Untouched > 0 {
			o := q[0].Oldest.UTC()
			st.OldestUntouched = &o
		}
	}
	if err := s.Conn.Select(ctx, &st.Precision, r.Replace(`SELECT a.detector AS detector, countIf(c.outcome = 'confirmed_fake') AS confirmed_fake,
    countIf(c.outcome = 'false_positive') AS false_positive, confirmed_fake / greatest(1, confirmed_fake + false_positive) AS precision
FROM ($cases) AS c INNER JOIN (SELECT alert_id, detector FROM $db.alerts FINAL) AS a ON a.alert_id = c.alert_id
WHERE c.case_state = 'closed' AND c.outcome IN ('confirmed_fake', 'false_positive')
GROUP BY detector ORDER BY detector`)); err != nil {
		return st, fmt.Errorf("stats: %w", err)
	}
	return st, nil
}
