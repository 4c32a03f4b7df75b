-- Statements over the summaries and indexes the migrations create, for the code that
-- changes stored history in place (package rebuild) and its tests.

-- Makes the next scheduled run of every detector set evaluate every order: written after
-- stored history is changed in place, which no materialized view sees (migration 0014).
{{define "reset_detect_runs"}}
INSERT INTO {{.DB}}.detect_checkpoints (detectors, config_hash, as_of, watermark, full) SELECT '', 0, toDateTime64(0, 3, 'UTC'), toDateTime64(0, 3, 'UTC'), false
{{end}}

-- Indexes every stored order event's number (order_numbers, migration 0014); repeating
-- it adds nothing (the table replaces).
{{define "fill_order_numbers"}}
INSERT INTO {{.DB}}.order_numbers SELECT DISTINCT tracking_number, order_id FROM {{.DB}}.order_events WHERE tracking_number != ''
{{end}}

-- The SELECTs that summarise events into the monthly summaries, per number, carrier and
-- calendar month (carrier_months) and per order and month (order_months), as partial
-- aggregates that merge by sum, min and max: the materialized views' queries, the
-- migrations' fill of older history, and in every detector run the summary of the events
-- stored rows cannot stand for. .From is the events table, .Where a condition on its
-- rows. Their text is part of the checksum of the migrations that use them
-- (summaries.go): a change here needs a migration that alters the views' queries.
--
-- The latest (or earliest) event of a kind is kept as a packed string: the event's time
-- in milliseconds, zero-padded to 15 digits (packed_time), then the values, separated by
-- \x1f. The greatest string is the latest event; see summaries.go.
{{define "packed_time"}}leftPad(toString(toUnixTimestamp64Milli(occurred_at)), 15, '0'){{end}}

{{define "carrier_month_states"}}SELECT
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
    min(if(sub_status = 'cancelled/label_voided', concat({{template "packed_time"}}, '\x1f', raw_status), '~')) AS first_voided,
    max(if(physical, concat({{template "packed_time"}}, '\x1f', sub_status, '\x1f', raw_status), '')) AS last_scan,
    max(if(dest_country != '' OR dest_postal_norm != '' OR dest_city_norm != '',
        concat({{template "packed_time"}}, '\x1f', dest_country, '\x1f', dest_postal_norm, '\x1f', dest_city_norm), '')) AS dest,
    max(if(status = 'delivered',
        concat({{template "packed_time"}}, '\x1f', location_country, '\x1f', location_postal_norm, '\x1f', location_city_norm), '')) AS delivered_place
FROM {{.From}}
WHERE {{.Where}}
GROUP BY tracking_number, carrier, month{{end}}

{{define "order_month_states"}}SELECT
    order_id,
    toStartOfMonth(occurred_at) AS month,
    min(occurred_at) AS first_event_at,
    max(occurred_at) AS last_event_at,
    max(if(status NOT IN ('cancel_requested', 'cancel_rejected', 'dispute_responded', 'dispute_escalated', 'refund_approved'),
        concat({{template "packed_time"}}, '\x1f', status, '\x1f', marketplace, '\x1f', seller_id, '\x1f', buyer_id), '')) AS latest,
    max(if(status = 'shipped', concat({{template "packed_time"}}, '\x1f', tracking_number, '\x1f', carrier), '')) AS shipped,
    minIfOrNull(occurred_at, status = 'placed') AS placed_at,
    max(if(ship_to_country != '' OR ship_to_postal_norm != '' OR ship_to_city_norm != '',
        concat({{template "packed_time"}}, '\x1f', ship_to_country, '\x1f', ship_to_postal_norm, '\x1f', ship_to_city_norm), '')) AS ship_to,
    max(if(protection_days IS NOT NULL, concat({{template "packed_time"}}, '\x1f', toString(assumeNotNull(protection_days))), '')) AS protection,
    max(if(protection_extended_days IS NOT NULL,
        concat({{template "packed_time"}}, '\x1f', toString(assumeNotNull(protection_extended_days))), '')) AS extension,
    max(if(amount IS NOT NULL, concat({{template "packed_time"}}, '\x1f', toString(assumeNotNull(amount))), '')) AS amount_at,
    max(if(payment_method != '', concat({{template "packed_time"}}, '\x1f', payment_method), '')) AS payment,
    minIfOrNull(occurred_at, status IN ('cancel_requested', 'cancel_rejected')) AS cancel_requested_at,
    minIfOrNull(occurred_at, status = 'cancelled') AS cancelled_at,
    maxIfOrNull(occurred_at, status = 'disputed') AS disputed_at,
    maxIfOrNull(occurred_at, status IN ('dispute_responded', 'dispute_escalated')) AS dispute_answered_at,
    minIfOrNull(occurred_at, status = 'refund_approved') AS refund_approved_at,
    max(if(status = 'refund_approved' AND refund_amount IS NOT NULL,
        concat({{template "packed_time"}}, '\x1f', toString(assumeNotNull(refund_amount))), '')) AS refund_due,
    max(if(status = 'refund_completed',
        concat({{template "packed_time"}}, '\x1f', ifNull(toString(refund_amount), '')), '')) AS refund_completed
FROM {{.From}}
WHERE {{.Where}}
GROUP BY order_id, month{{end}}

-- order_month_states as migration 0013 created order_months_mv with (its checksum holds
-- this text): 0016 replaced it with the one above.
{{define "order_month_states_0013"}}SELECT
    order_id,
    toStartOfMonth(occurred_at) AS month,
    min(occurred_at) AS first_event_at,
    max(occurred_at) AS last_event_at,
    max(concat({{template "packed_time"}}, '\x1f', status, '\x1f', marketplace, '\x1f', seller_id, '\x1f', buyer_id)) AS latest,
    max(if(status = 'shipped', concat({{template "packed_time"}}, '\x1f', tracking_number, '\x1f', carrier), '')) AS shipped,
    minIfOrNull(occurred_at, status = 'placed') AS placed_at,
    max(if(ship_to_country != '' OR ship_to_postal_norm != '' OR ship_to_city_norm != '',
        concat({{template "packed_time"}}, '\x1f', ship_to_country, '\x1f', ship_to_postal_norm, '\x1f', ship_to_city_norm), '')) AS ship_to,
    max(if(protection_days IS NOT NULL, concat({{template "packed_time"}}, '\x1f', toString(assumeNotNull(protection_days))), '')) AS protection,
    max(if(protection_extended_days IS NOT NULL,
        concat({{template "packed_time"}}, '\x1f', toString(assumeNotNull(protection_extended_days))), '')) AS extension,
    max(if(amount IS NOT NULL, concat({{template "packed_time"}}, '\x1f', toString(assumeNotNull(amount))), '')) AS amount_at
FROM {{.From}}
WHERE {{.Where}}
GROUP BY order_id, month{{end}}

-- The SELECT lists that merge the rows of carrier_months and order_months with the same
-- key, as FINAL does (GROUP BY the key): a scoped detector run copies its numbers' and
-- orders' rows with them. The aggregates must be those of the tables' columns.
{{define "carrier_months_merged"}}tracking_number, carrier, month, sum(events) AS events, sum(moving_events) AS moving_events,
    sum(preadvice_events) AS preadvice_events, sum(voided_events) AS voided_events, sum(delivered_events) AS delivered_events,
    min(first_event_at) AS first_event_at, max(last_event_at) AS last_event_at, min(first_scan_at) AS first_scan_at,
    min(first_voided) AS first_voided, max(last_scan) AS last_scan, max(dest) AS dest, max(delivered_place) AS delivered_place{{end}}
{{define "order_months_merged"}}order_id, month, min(first_event_at) AS first_event_at, max(last_event_at) AS last_event_at,
    max(latest) AS latest, max(shipped) AS shipped, min(placed_at) AS placed_at, max(ship_to) AS ship_to,
    max(protection) AS protection, max(extension) AS extension, max(amount_at) AS amount_at, max(payment) AS payment,
    min(cancel_requested_at) AS cancel_requested_at, min(cancelled_at) AS cancelled_at, max(disputed_at) AS disputed_at,
    max(dispute_answered_at) AS dispute_answered_at, min(refund_approved_at) AS refund_approved_at, max(refund_due) AS refund_due,
    max(refund_completed) AS refund_completed{{end}}
