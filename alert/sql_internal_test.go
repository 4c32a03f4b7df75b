package alert

import (
	"strings"
	"testing"

	"github.com/trackwatch/trackwatch/sqlfile"
)

// The readers' statements (query.sql, cases.sql) render for a database, with the
// database quoted and nothing left of the template; a page's filters and order come from
// the statement's own text, their values from parameters.
func TestReadersStatementsRender(t *testing.T) {
	for _, name := range []string{"query_rows", "stats_by_detector_day", "stats_queue", "stats_precision", "case_act", "case_actions", "case_of", "case_alerts", "case_history", "case_act_all", "case_links", "case_ring", "case_key_of"} {
		q, err := statements.Render(name, sqlfile.DB("t`w"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(q, "`t``w`.") || strings.Contains(q, "{{") || strings.Contains(q, "$") {
			t.Errorf("%s:\n%s", name, q)
		}
	}
	every := filterData{Status: true, Detector: true, Severity: true, Recommendation: true, Marketplace: true, SellerID: true,
		BuyerID: true, OrderID: true, TrackingNumber: true, DetectedFrom: true, DetectedTo: true, ProtectionFrom: true, ProtectionTo: true,
		NotClosed: true, Case: true, Sort: "urgency"}
	all := queryData{DB: "tw", Cursor: true, filterData: every}
	for _, tc := range []struct {
		d         queryData
		want, not []string
	}{
		{queryData{DB: "tw", filterData: filterData{Sort: "urgency"}}, []string{"FROM `tw`.alerts FINAL\nWHERE 1\nORDER BY k_urgency ASC, amount DESC, alert_id ASC"},
			[]string{"{status:String}", "alert_actions", "alert_runs", "{ck:Int64}"}},
		{queryData{DB: "tw", Cursor: true, filterData: filterData{Sort: "recency", NotClosed: true}}, []string{"AND (k_recency < {ck:Int64} OR",
			"ORDER BY k_recency DESC, alert_id ASC", "FROM `tw`.alert_runs", "AND alert_id NOT IN (SELECT alert_id FROM `tw`.alert_actions"},
			[]string{"k_urgency >", "handled"}},
		{all, []string{"AND seller_id = {seller_id:String}", "AND protection_ends_at < {protection_to:DateTime64(3, 'UTC')} AND alert_id NOT IN (SELECT",
			"'acknowledged', 'open') = {case:String}", "AND (k_urgency > {ck:Int64} OR"}, nil},
	} {
		q := statements.Text("query_keys", tc.d)
		for _, w := range tc.want {
			if !strings.Contains(q, w) {
				t.Errorf("%+v: lacks %q:\n%s", tc.d, w, q)
			}
		}
		for _, w := range tc.not {
			if strings.Contains(q, w) {
				t.Errorf("%+v: has %q:\n%s", tc.d, w, q)
			}
		}
	}
}

// A page of cases renders each filter that is set as a condition on its parameter, and
// only the aggregates the filters need; the cases in full are narrowed by key.
func TestCaseStatementsRender(t *testing.T) {
	all := caseQueryData{DB: "tw", Narrow: true, LinkedTo: true, MinSignals: true, Linked: true, Cursor: true, filterData: filterData{Status: true,
		Detector: true, Severity: true, Recommendation: true, Case: true, Marketplace: true, SellerID: true, BuyerID: true, OrderID: true,
		TrackingNumber: true, DetectedFrom: true, DetectedTo: true, ProtectionFrom: true, ProtectionTo: true, NotClosed: true, Sort: "urgency"}}
	for _, tc := range []struct {
		name      string
		d         caseQueryData
		want, not []string
	}{
		{"case_keys", caseQueryData{DB: "tw", filterData: filterData{Sort: "urgency"}}, []string{"FROM `tw`.alerts AS a FINAL", "ORDER BY k_urgency ASC, amount DESC"},
			[]string{"rings", "{detector:String}", "{recs:Array(String)}", "alert_actions", "alert_runs", "PREWHERE"}},
		{"case_keys", caseQueryData{DB: "tw", filterData: filterData{Sort: "recency", NotClosed: true}}, []string{"FROM `tw`.alert_runs", "AND closed < alerts",
			"countIf(alert_id IN (SELECT alert_id FROM `tw`.alert_actions WHERE action IN ('acknowledge', 'close', 'reopen')", "ORDER BY k_recency DESC"},
			[]string{"handled", "k_urgency ASC"}},
		{"case_keys", all, []string{"AS rings", "countIf(detector = {detector:String}) AS with_detector", "AND signals >= {min_signals:UInt64}",
			"AS handled", "'acknowledged', 'open') = {case:String}",
			"PREWHERE  (marketplace, order_id, if(order_id = '', seller_id, '')) IN (SELECT", "AND seller_id = {seller_id:String}",
			"AND tracking_number = {tracking_number:String}", "{key_market:String}", "AND (k_urgency > {ck:Int64} OR", "({cm:String}, {co:String}, {cs:String})"}, nil},
		{"case_rows", caseQueryData{DB: "tw", Narrow: true, Keys: true}, []string{"PREWHERE  order_id IN {ko:Array(String)} AND",
			"arrayZip({km:Array(String)}, {ko:Array(String)}, {ks:Array(String)})", "alert_actions FINAL WHERE alert_id IN (SELECT alert_id"}, []string{"{key_market"}},
	} {
		q := statements.Text(tc.name, tc.d)
		if strings.Contains(q, "{{") || strings.Contains(q, "<no value>") {
			t.Errorf("%s: not rendered:\n%s", tc.name, q)
		}
		for _, w := range tc.want {
			if !strings.Contains(q, w) {
				t.Errorf("%s %+v: lacks %q:\n%s", tc.name, tc.d, w, q)
			}
		}
		for _, w := range tc.not {
			if strings.Contains(q, w) {
				t.Errorf("%s %+v: has %q:\n%s", tc.name, tc.d, w, q)
			}
		}
	}
}
