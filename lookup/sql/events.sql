-- The event tables' reads: carrier timelines (tracking_events) and order histories
-- (order_events), each row by its latest version (FINAL). Values are parameters: tn (a
-- tracking number), o (an order id), as_of (a moment: events after it are not known yet).

-- A carrier event's columns, as Event reads them.
{{define "event_columns"}}occurred_at, status, sub_status, physical, raw_status, carrier, location_country, location_city, dest_country, dest_city, dest_postal{{end}}

-- An order event's columns, as OrderEvent reads them.
{{define "order_columns"}}occurred_at, order_id, status, seller_id, buyer_id, tracking_number, carrier, ship_to_country, ship_to_city, ship_to_postal,
    payment_method, ifNull(toString(refund_amount), '') AS refund_amount, reason{{end}}

-- A number's carrier timeline: its first 500 events.
{{define "carrier_timeline"}}
SELECT {{template "event_columns"}} FROM {{.DB}}.tracking_events FINAL
WHERE tracking_number = {tn:String} ORDER BY occurred_at LIMIT 500
{{end}}

-- A number's carrier timeline as of a moment: its first 500 events.
{{define "carrier_timeline_as_of"}}
SELECT {{template "event_columns"}} FROM {{.DB}}.tracking_events FINAL
WHERE tracking_number = {tn:String} AND occurred_at <= {as_of:DateTime64(3, 'UTC')} ORDER BY occurred_at LIMIT 500
{{end}}

-- An order's history: its first 500 events.
{{define "order_history"}}
SELECT {{template "order_columns"}} FROM {{.DB}}.order_events FINAL
WHERE order_id = {o:String} ORDER BY occurred_at LIMIT 500
{{end}}

-- An order's history as of a moment: its first 1,000 events.
{{define "order_history_as_of"}}
SELECT {{template "order_columns"}} FROM {{.DB}}.order_events FINAL
WHERE order_id = {o:String} AND occurred_at <= {as_of:DateTime64(3, 'UTC')} ORDER BY occurred_at LIMIT 1000
{{end}}

-- The events of up to 100 other orders (not o) that carry the number.
{{define "orders_sharing"}}
SELECT {{template "order_columns"}} FROM {{.DB}}.order_events FINAL
WHERE order_id IN (
    SELECT DISTINCT order_id FROM {{.DB}}.order_events WHERE tracking_number = {tn:String} AND order_id != {o:String} LIMIT 100
) ORDER BY order_id, occurred_at LIMIT 1000
{{end}}

-- The events as of a moment of up to 200 orders that carry the number.
{{define "orders_of_number_as_of"}}
SELECT {{template "order_columns"}} FROM {{.DB}}.order_events FINAL
WHERE order_id IN (
    SELECT DISTINCT order_id FROM {{.DB}}.order_events WHERE tracking_number = {tn:String} LIMIT 200
) AND occurred_at <= {as_of:DateTime64(3, 'UTC')} ORDER BY order_id, occurred_at LIMIT 2000
{{end}}
