package rebuild

import (
	"testing"

	"github.com/trackwatch/trackwatch/schemas"
)

// The statements that rebuild a summary's month render for each summary as they were
// written in Go: the staging table, its sorting key, the view's SELECT of the month, and
// the month's partition ID (a number in the text: ClickHouse takes no parameter there).
func TestSummaryStatements(t *testing.T) {
	const before = "toYYYYMM(occurred_at) = {partition:UInt32} AND ingested_at < {since:DateTime64(3, 'UTC')}"
	const since = "toYYYYMM(occurred_at) = {partition:UInt32} AND ingested_at >= {since:DateTime64(3, 'UTC')}"
	for _, tc := range []struct {
		s                         summary
		table, staging, from, key string
		states                    func(from, where string) string
	}{
		{carrierMonths, "`tw`.`carrier_months`", "`tw`.`carrier_months_rebuild`", "`tw`.`tracking_events`", "tracking_number, carrier, month", schemas.CarrierMonthStates},
		{orderMonths, "`tw`.`order_months`", "`tw`.`order_months_rebuild`", "`tw`.`order_events`", "order_id, month", schemas.OrderMonthStates},
	} {
		data := tc.s.data("tw").With("Partition", 202610)
		for name, want := range map[string]string{
			"event_months":       "SELECT DISTINCT toDateTime(toStartOfMonth(occurred_at), 'UTC') AS month FROM " + tc.from + " ORDER BY month",
			"drop_staging":       "DROP TABLE IF EXISTS " + tc.staging,
			"create_staging":     "CREATE TABLE " + tc.staging + " AS " + tc.table + "\nENGINE = AggregatingMergeTree PARTITION BY toYYYYMM(month) ORDER BY (" + tc.key + ")",
			"fill_staging":       "INSERT INTO " + tc.staging + "\n" + tc.states(tc.from, before),
			"replace_month":      "ALTER TABLE " + tc.table + " REPLACE PARTITION ID '202610' FROM " + tc.staging,
			"fill_since":         "INSERT INTO " + tc.table + "\n" + tc.states(tc.from, since),
			"drop_staging_after": "DROP TABLE " + tc.staging,
		} {
			if got := statements.Text(name, data); got != want {
				t.Errorf("%s %s:\n got %q\nwant %q", tc.s.table, name, got, want)
			}
		}
	}
}

// Renormalise compares every group's key with the keys it changes, as one expression.
func TestRenormaliseStatements(t *testing.T) {
	const key = `concat(carrier, '\0', raw_status, '\0', status, '\0', toString(status_given), '\0', provider_status)`
	for name, want := range map[string]string{
		"wording_months": "SELECT DISTINCT toDateTime(toStartOfMonth(occurred_at), 'UTC') AS month FROM `tw`.tracking_events\nWHERE " + key + " IN {keys:Array(String)} ORDER BY month",
		"renormalise": "ALTER TABLE `tw`.tracking_events UPDATE\n" +
			"  sub_status = transform(" + key + ", {keys:Array(String)}, {subs:Array(String)}, sub_status),\n" +
			"  status = transform(" + key + ", {keys:Array(String)}, {statuses:Array(String)}, status)\n" +
			"WHERE " + key + " IN {keys:Array(String)}",
	} {
		if got := statements.In("tw", name); got != want {
			t.Errorf("%s:\n got %q\nwant %q", name, got, want)
		}
	}
}
