-- The detector benchmark's data, generated inside ClickHouse (detect.go), and the
-- statements of its measurements. The data's moment is the parameter as_of.

-- The tracking number of parcel p in the generated data: a China Post S10 number for
-- every third (one in 100 with a wrong check digit), else a Cainiao one. Its digits, the
-- weighted sum of the digits and the S10 check digit are the fragments before it.
{{define "number_digits"}}leftPad(toString(p % 100000000), 8, '0'){{end}}
{{define "number_sum"}}arraySum(arrayMap((i, w) -> toUInt32(substring({{template "number_digits"}}, i, 1)) * w, range(1, 9), [8, 6, 4, 2, 3, 5, 9, 7])){{end}}
{{define "number_check_digit"}}multiIf(11 - {{template "number_sum"}} % 11 = 10, 0, 11 - {{template "number_sum"}} % 11 = 11, 5, 11 - {{template "number_sum"}} % 11){{end}}
{{define "bench_number"}}if(p % 3 = 0, concat('RR', {{template "number_digits"}}, toString(if(p % 100 = 7, ({{template "number_check_digit"}} + 1) % 10, {{template "number_check_digit"}})), 'CN'), concat('LP', leftPad(toString(p), 14, '0'))){{end}}

-- The moment parcel p was shipped: within the 80 days before as_of.
{{define "shipped_at"}}({as_of:DateTime64(3, 'UTC')} - toIntervalSecond((p * 7919) % (80 * 86400) + 3600)){{end}}

-- The columns the generated carrier events give.
{{define "tracking_columns"}}event_id, tracking_number, tracking_number_raw, carrier, status, raw_status, occurred_at,
    location_country, location_city, location_city_norm, location_postal, location_postal_norm,
    dest_country, dest_city, dest_city_norm, dest_postal, dest_postal_norm, source_topic, source_partition, source_offset{{end}}

-- Orders: two order events each (placed, then shipped with the number) for the numbers
-- {from} .. {from} + {count} - 1 of numbers(); orders o and o+1 share a parcel's number
-- when o % 50 = 1.
{{define "generate_orders"}}
INSERT INTO {{.DB}}.order_events (event_id, order_id, marketplace, seller_id, buyer_id, status, occurred_at,
    tracking_number, tracking_number_raw, carrier, ship_to_country, ship_to_city, ship_to_city_norm, ship_to_postal, ship_to_postal_norm,
    protection_days, amount, currency, source_topic, source_partition, source_offset)
SELECT concat('oe-', toString(number)), concat('o-', toString(o)), if(o % 4 = 0, 'amazon', 'aliexpress'),
    concat('s', toString(o % 5000)), concat('b', toString(o % 300007)), if(number % 2 = 0, 'placed', 'shipped'),
    if(number % 2 = 0, {{template "shipped_at"}} - toIntervalDay(1), {{template "shipped_at"}}),
    if(number % 2 = 1, {{template "bench_number"}}, ''), if(number % 2 = 1, {{template "bench_number"}}, ''), if(p % 3 = 0, 'china-post', 'cainiao'),
    'JP', 'Tokyo', 'tokyo', '100-0001', '1000001', 60, toDecimal64(o % 200, 4), 'USD', 'bench', 0, number
FROM (SELECT number, intDiv(number, 2) AS o, if(o % 50 = 1, o - 1, o) AS p FROM numbers({from:UInt64}, {count:UInt64}))
{{end}}

-- Carrier events into .Table: ten for parcel p (event k of it), none for every 25th.
-- Every 20th stalls at "information received", every 40th was scanned a month before its
-- order, every 30th goes to the wrong country. .Part "stored" keeps the events occurring
-- up to as_of, "held" those after it, "" all.
{{define "generate_tracking"}}
INSERT INTO {{.DB}}.{{.Table}} ({{template "tracking_columns"}})
SELECT concat('te-', toString(number)), {{template "bench_number"}}, {{template "bench_number"}}, if(p % 3 = 0, 'china-post', 'cainiao'),
    multiIf(k = 0 OR p % 20 = 3, 'info_received', k = 9, 'delivered', 'in_transit'),
    multiIf(k = 0 OR p % 20 = 3, 'Electronic information received', k = 9, 'Delivered', 'In transit'),
    {{template "shipped_at"}} + toIntervalHour(2 + k * 16) - if(p % 40 = 5, toIntervalDay(30), toIntervalDay(0)) AS occurred_at,
    if(k = 9, dc, 'CN'), if(k = 9, dcity, 'Shenzhen'), if(k = 9, lower(dcity), 'shenzhen'), if(k = 9, dpost, '518000'), if(k = 9, dpost, '518000'),
    dc, dcity, lower(dcity), dpost, dpost, 'bench', 1, number
FROM (SELECT number, intDiv(number, 10) AS p, number % 10 AS k,
        if(p % 30 = 6, 'US', 'JP') AS dc, if(p % 30 = 6, 'Austin', 'Tokyo') AS dcity, if(p % 30 = 6, '73301', '1000001') AS dpost
      FROM numbers({from:UInt64}, {count:UInt64}))
WHERE p % 25 != 4{{if eq .Part "stored"}} AND occurred_at <= {as_of:DateTime64(3, 'UTC')}{{else if eq .Part "held"}} AND occurred_at > {as_of:DateTime64(3, 'UTC')}{{end}}
{{end}}

-- The buyer's journey of some orders (--journeys), for orders {from} .. {from} + {count} - 1:
-- every 10th order paid (a payment method in turn), every 50th asked to cancel 12 hours
-- before it was shipped (half of them numbers that stall at "information received"),
-- every 40th disputed 20 days after the shipment (every 80th answered 2 days later),
-- every 60th refunded: approved after 15 days (every 120th completed 3 days later).
-- Only what occurred by as_of.
{{define "generate_journeys"}}
INSERT INTO {{.DB}}.order_events (event_id, order_id, marketplace, seller_id, buyer_id, status, occurred_at,
    payment_method, refund_amount, reason, source_topic, source_partition, source_offset)
SELECT concat('oj-', toString(o), '-', ev.1), concat('o-', toString(o)), if(o % 4 = 0, 'amazon', 'aliexpress'),
    concat('s', toString(o % 5000)), concat('b', toString(o % 300007)), ev.1, shipped + toIntervalSecond(ev.2) AS occurred_at,
    if(ev.1 = 'paid', ['card_credit', 'card_debit', 'paypal', 'bank_transfer', 'convenience_store', 'wallet'][o % 6 + 1], ''),
    if(ev.1 IN ('refund_approved', 'refund_completed'), toDecimal64(o % 200, 4), NULL),
    if(ev.1 IN ('cancel_requested', 'disputed'), 'not received', ''), 'bench', 2, o
FROM (SELECT number AS o, if(o % 50 = 1, o - 1, o) AS p, {{template "shipped_at"}} AS shipped FROM numbers({from:UInt64}, {count:UInt64}))
ARRAY JOIN arrayFilter(e -> e.1 != '', [
    (if(o % 10 = 3, 'paid', ''), toInt64(600 - 86400)),
    (if(o % 50 = 3, 'cancel_requested', ''), toInt64(-43200)),
    (if(o % 40 = 9, 'disputed', ''), toInt64(20 * 86400)),
    (if(o % 80 = 9, 'dispute_responded', ''), toInt64(22 * 86400)),
    (if(o % 60 = 11, 'refund_approved', ''), toInt64(15 * 86400)),
    (if(o % 120 = 11, 'refund_completed', ''), toInt64(18 * 86400))]) AS ev
WHERE occurred_at <= {as_of:DateTime64(3, 'UTC')}
{{end}}

-- The table the carrier events occurring after as_of are held in (.Held).
{{define "create_held_events"}}CREATE TABLE IF NOT EXISTS {{.DB}}.{{.Held}} AS {{.DB}}.tracking_events ENGINE = MergeTree ORDER BY occurred_at{{end}}

-- The held events occurring in ({from}, {to}], counted, and stored as the ingest would
-- have stored them when they occurred.
{{define "held_window"}} WHERE occurred_at > {from:DateTime64(3, 'UTC')} AND occurred_at <= {to:DateTime64(3, 'UTC')}{{end}}
{{define "count_held"}}SELECT count() FROM {{.DB}}.{{.Held}}{{template "held_window"}}{{end}}
{{define "deliver_held"}}INSERT INTO {{.DB}}.tracking_events ({{template "tracking_columns"}})
SELECT {{template "tracking_columns"}} FROM {{.DB}}.{{.Held}}{{template "held_window"}}{{end}}

-- Merges still running in database {db} after the load.
{{define "merges_running"}}SELECT count() FROM system.merges WHERE database = {db:String}{{end}}

{{define "truncate_table"}}TRUNCATE TABLE {{.DB}}.{{.Table}}{{end}}

-- A minute of ingest from {from}: {scans} new carrier scans for parcels spread over the
-- {parcels} of the data, and {confirms} order events (buyers confirming receipt).
{{define "ingest_minute_scans"}}
INSERT INTO {{.DB}}.tracking_events (event_id, tracking_number, tracking_number_raw, carrier, status, raw_status,
    occurred_at, location_country, location_city, location_city_norm, location_postal, location_postal_norm, source_topic, source_partition, source_offset)
SELECT concat('tm-', toString(number)), {{template "bench_number"}}, {{template "bench_number"}}, if(p % 3 = 0, 'china-post', 'cainiao'), 'in_transit', 'In transit',
    {from:DateTime64(3, 'UTC')} + toIntervalMillisecond(intDiv((number + 1) * 60000, {scans:UInt64})), 'JP', 'Tokyo', 'tokyo', '1000001', '1000001', 'bench', 2, number
FROM (SELECT number, (number * 7919 + 13) % {parcels:UInt64} AS p FROM numbers({scans:UInt64}))
{{end}}

{{define "ingest_minute_confirms"}}
INSERT INTO {{.DB}}.order_events (event_id, order_id, marketplace, seller_id, buyer_id, status, occurred_at, source_topic, source_partition, source_offset)
SELECT concat('om-', toString(number)), concat('o-', toString(o)), if(o % 4 = 0, 'amazon', 'aliexpress'), concat('s', toString(o % 5000)),
    concat('b', toString(o % 300007)), 'confirmed', {from:DateTime64(3, 'UTC')} + toIntervalMillisecond(intDiv((number + 1) * 60000, {confirms:UInt64})),
    'bench', 2, number
FROM (SELECT number, (number * 104729 + 7) % {parcels:UInt64} AS o FROM numbers({confirms:UInt64}))
{{end}}
