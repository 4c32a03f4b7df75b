-- The writer's statements: a block's inserts, and what a consumer reads of a partition
-- when it is assigned. A batch insert names its columns; the writer appends them in
-- this order (trackingTable, orderTable and InsertDeadLetters in sink.go).

{{define "insert_tracking_events"}}
INSERT INTO {{.DB}}.tracking_events (event_id, tracking_number, tracking_number_raw, carrier, status, sub_status, status_given, provider, provider_status, raw_status, occurred_at,
    location_country, location_city, location_city_norm, location_postal, location_postal_norm,
    dest_country, dest_city, dest_city_norm, dest_postal, dest_postal_norm, source_topic, source_partition, source_offset, source_kind, source_file, source_line)
{{end}}

{{define "insert_order_events"}}
INSERT INTO {{.DB}}.order_events (event_id, order_id, marketplace, seller_id, buyer_id, status, occurred_at, tracking_number, tracking_number_raw, carrier,
    ship_to_country, ship_to_city, ship_to_city_norm, ship_to_postal, ship_to_postal_norm,
    protection_days, protection_extended_days, amount, currency, source_topic, source_partition, source_offset, source_kind, source_file, source_line,
    number_verdict, number_couriers, number_problem, number_problem_ja, number_spec, payment_method, refund_amount, reason)
{{end}}

{{define "insert_dead_letters"}}
INSERT INTO {{.DB}}.dead_letters (topic, partition, offset, source_file, source_line, message_key, raw, reason, error, message_time)
{{end}}

-- The highest offset of a partition stored as an event row (Table: the topic's events
-- table) and as a dead letter, NULL where none.
{{define "stored_row_offset"}}
SELECT maxOrNull(source_offset) FROM {{.DB}}.{{.Table}} WHERE source_topic = {topic:String} AND source_partition = {p:Int32}
{{end}}

{{define "stored_dead_letter_offset"}}
SELECT maxOrNull(offset) FROM {{.DB}}.dead_letters WHERE topic = {topic:String} AND partition = {p:Int32}
{{end}}
