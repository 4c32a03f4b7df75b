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
	for _, name := range []string{"query_rows", "stats_by_detector_day", "stats_queue", "stats_precision", "case_act", "case_actions", "case_of", "case_alerts", "case_history", "case_act_all", "case_links", "case_key_of"} {
		q, err := statements.Render(name, sqlfile.DB("t`w"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(q, "`t``w`.") || strings.Contains(q, "{{") || strings.Contains(q, "$") {
			t.Errorf("%s:\n%s", name, q)
		}
	}
	all := queryData{DB: "tw", Status: true, Detector: true, Severity: true, Recommendation: true, Marketplace: true, SellerID: true,
		BuyerID: true, OrderID: true, TrackingNumber: true, DetectedFrom: true, DetectedTo: true, ProtectionFrom: true, ProtectionTo: true,
		NotClosed: true, Case: true, Cursor: true}
	for _, tc := range []struct {
		d         queryData
		want, not []string
	}{
		{queryData{DB: "tw", Sort: "urgency"}, []string{"WHERE 1) AS a", "ORDER BY k_urgency ASC, toDecimal64(k_amount, 4) DESC, alert_id ASC"},
			[]string{"{status:String}", "case_state != 'closed'", "{ck:Int64}"}},
		{queryData{DB: "tw", Sort: "recency", Cursor: true}, []string{"AND (k_recency < {ck:Int64} OR", "ORDER BY k_recency DESC, alert_id ASC"},
			[]string{"k_urgency >"}},
		{func() queryData { d := all; d.Sort = "urgency"; return d }(), []string{"AND seller_id = {seller_id:String}",
			"AND protection_ends_at < {protection_to:DateTime64(3, 'UTC')}) AS a", "AND case_state != 'closed' AND case_state = {case:String}",
			"AND (k_urgency > {ck:Int64} OR"}, nil},
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
