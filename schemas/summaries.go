package schemas

import "github.com/trackwatch/trackwatch/sqlfile"

// carrier_month_states (sql/summaries.sql) is the SELECT that summarises tracking
// events into carrier_months rows (per number, carrier and calendar month, as partial
// aggregates that merge by sum, min and max): the materialized view's query, the
// migration's fill of older history, and in every detector run (package detect) the
// summary of the events that stored rows cannot stand for.
//
// The latest (or earliest) event of a kind is kept as a packed string: the event's time
// in milliseconds, zero-padded to 15 digits, then the values, separated by \x1f (control
// characters never reach the tables). The greatest string is the latest event, and
// between events at the same millisecond the greatest values win, so the result never
// depends on the order rows are read in. An empty string (or "~" for an earliest) means
// no such event. ClickHouse compares strings far faster than tuples, and argMax states
// cost more again. UnpackLatest in package detect reads them.
//
// The types must equal carrier_months' columns; a change needs a migration that alters
// the view's query (a migration that uses it has its text, with $from and $where, in its
// checksum). order_month_states is the same for orders: each order's events per
// calendar month, into order_months (the latest event's status and parties, the latest
// shipment's number and carrier, the first placement, the latest ship-to address,
// protection, extension and amount, each where an event gave one).

// OrderMonthStates returns the order-summarising SELECT over table from, for the rows
// where where holds.
func OrderMonthStates(from, where string) string {
	return monthStates("order_month_states", from, where)
}

// orderMonthStates0013 is OrderMonthStates as migration 0013 created order_months_mv
// with, before migration 0016 added the buyer's journey: that migration renders it, so
// that its text (and checksum) stays as released.
func orderMonthStates0013(from, where string) string {
	return monthStates("order_month_states_0013", from, where)
}

// CarrierMonthStates returns the summarising SELECT over table from, for the rows where
// where holds.
func CarrierMonthStates(from, where string) string {
	return monthStates("carrier_month_states", from, where)
}

func monthStates(name, from, where string) string {
	return statements.Text(name, sqlfile.Data{"From": from, "Where": where})
}

// CarrierMonthsMerged and OrderMonthsMerged are the SELECT lists that merge the rows of
// carrier_months and order_months with the same key, as FINAL does (GROUP BY the key):
// a scoped detector run copies its numbers' and orders' rows with them. The aggregates
// must be those of the tables' columns (sql/summaries.sql).
func CarrierMonthsMerged() string { return statements.Text("carrier_months_merged", nil) }

// OrderMonthsMerged: see CarrierMonthsMerged.
func OrderMonthsMerged() string { return statements.Text("order_months_merged", nil) }
