package schemas

import "strings"

// carrierMonthStates is the SELECT that summarises tracking events into carrier_months
// rows (per number, carrier and calendar month, as partial aggregates that merge by sum,
// min and max): the materialized view's query, the migration's fill of older history,
// and in every detector run (package detect) the summary of the events that stored rows
// cannot stand for. $from is the events table and $where a condition on its rows.
//
// The latest (or earliest) event of a kind is kept as a packed string: the event's time
// in milliseconds, zero-padded to 15 digits, then the values, separated by \x1f (control
// characters never reach the tables). The greatest string is the latest event, and
// between events at the same millisecond the greatest values win, so the result never
// depends on the order rows are read in. An empty string (or "~" for an earliest) means
// no such event. ClickHouse compares strings far faster than tuples, and argMax states
// cost more again. UnpackLatest in package detect reads them.
//
// The types must equal carrier_months' columns; a change here needs a migration that
// alters the view's query (a migration that uses it has it in its checksum).
const carrierMonthStates = `SELECT
    tracking_number,
    carrier,
    toStartOfMonth(occurred_at) AS month,
    count() AS events,
    countIf(physical) AS moving_events,
    countIf(sub_status = 'info_received/pre_advice') AS preadvice_events,
    countIf(sub_status = 'cancelled/label_voided') AS voided_events,
    countIf(status = 'delivered') AS delivered_events,
    min(occurred_at) AS first_event_at,
    max(occurred_at) AS last_event_at,
    minIfOrNull(occurred_at, physical) AS first_scan_at,
    min(if(sub_status = 'cancelled/label_voided', concat(` + packedTime + `, '\x1f', raw_status), '~')) AS first_voided,
    max(if(physical, concat(` + packedTime + `, '\x1f', sub_status, '\x1f', raw_status), '')) AS last_scan,
    max(if(dest_country != '' OR dest_postal_norm != '' OR dest_city_norm != '',
        concat(` + packedTime + `, '\x1f', dest_country, '\x1f', dest_postal_norm, '\x1f', dest_city_norm), '')) AS dest,
    max(if(status = 'delivered',
        concat(` + packedTime + `, '\x1f', location_country, '\x1f', location_postal_norm, '\x1f', location_city_norm), '')) AS delivered_place
FROM $from
WHERE $where
GROUP BY tracking_number, carrier, month`

// orderMonthStates is carrierMonthStates for orders: each order's events per calendar
// month, into order_months (the latest event's status and parties, the latest shipment's
// number and carrier, the first placement, the latest ship-to address, protection,
// extension and amount, each where an event gave one).
const orderMonthStates = `SELECT
    order_id,
    toStartOfMonth(occurred_at) AS month,
    min(occurred_at) AS first_event_at,
    max(occurred_at) AS last_event_at,
    max(concat(` + packedTime + `, '\x1f', status, '\x1f', marketplace, '\x1f', seller_id, '\x1f', buyer_id)) AS latest,
    max(if(status = 'shipped', concat(` + packedTime + `, '\x1f', tracking_number, '\x1f', carrier), '')) AS shipped,
    minIfOrNull(occurred_at, status = 'placed') AS placed_at,
    max(if(ship_to_country != '' OR ship_to_postal_norm != '' OR ship_to_city_norm != '',
        concat(` + packedTime + `, '\x1f', ship_to_country, '\x1f', ship_to_postal_norm, '\x1f', ship_to_city_norm), '')) AS ship_to,
    max(if(protection_days IS NOT NULL, concat(` + packedTime + `, '\x1f', toString(assumeNotNull(protection_days))), '')) AS protection,
    max(if(protection_extended_days IS NOT NULL,
        concat(` + packedTime + `, '\x1f', toString(assumeNotNull(protection_extended_days))), '')) AS extension,
    max(if(amount IS NOT NULL, concat(` + packedTime + `, '\x1f', toString(assumeNotNull(amount))), '')) AS amount_at
FROM $from
WHERE $where
GROUP BY order_id, month`

const packedTime = `leftPad(toString(toUnixTimestamp64Milli(occurred_at)), 15, '0')`

// OrderMonthStates returns the order-summarising SELECT over table from, for the rows
// where where holds.
func OrderMonthStates(from, where string) string {
	return strings.NewReplacer("$from", from, "$where", where).Replace(orderMonthStates)
}

// CarrierMonthStates returns the summarising SELECT over table from, for the rows where
// where holds.
func CarrierMonthStates(from, where string) string {
	return strings.NewReplacer("$from", from, "$where", where).Replace(carrierMonthStates)
}

// CarrierMonthsMerged and OrderMonthsMerged are the SELECT lists that merge the rows of
// carrier_months and order_months with the same key, as FINAL does (GROUP BY the key):
// a scoped detector run copies its numbers' and orders' rows with them. The aggregates
// must be those of the tables' columns.
const (
	CarrierMonthsMerged = `tracking_number, carrier, month, sum(events) AS events, sum(moving_events) AS moving_events,
    sum(preadvice_events) AS preadvice_events, sum(voided_events) AS voided_events, sum(delivered_events) AS delivered_events,
    min(first_event_at) AS first_event_at, max(last_event_at) AS last_event_at, min(first_scan_at) AS first_scan_at,
    min(first_voided) AS first_voided, max(last_scan) AS last_scan, max(dest) AS dest, max(delivered_place) AS delivered_place`
	OrderMonthsMerged = `order_id, month, min(first_event_at) AS first_event_at, max(last_event_at) AS last_event_at,
    max(latest) AS latest, max(shipped) AS shipped, min(placed_at) AS placed_at, max(ship_to) AS ship_to,
    max(protection) AS protection, max(extension) AS extension, max(amount_at) AS amount_at`
)
