-- What a user would build instead of trackwatch: ClickHouse's Kafka table engine with a
-- materialized view per topic, parsing the same JSON into the same tables, with the
-- normalisation that SQL makes easy (numbers, postal codes, case). It does less than
-- trackwatch: no country-name mapping, a shorter status mapping, no dead-letter table
-- (a bad message stops or is skipped), and no exactly-once guarantee across restarts.
-- The statements run in the order of kafka_engine in ingest.go: the tables, then the views.

{{define "kafka_tracking"}}
CREATE TABLE {{.DB}}.kafka_tracking (raw String) ENGINE = Kafka SETTINGS
    kafka_broker_list = {brokers:String}, kafka_topic_list = {tracking_topic:String}, kafka_group_name = {tracking_group:String},
    kafka_format = 'JSONAsString', kafka_num_consumers = {consumers:UInt32}, kafka_thread_per_consumer = 1
{{end}}

{{define "kafka_orders"}}
CREATE TABLE {{.DB}}.kafka_orders (raw String) ENGINE = Kafka SETTINGS
    kafka_broker_list = {brokers:String}, kafka_topic_list = {order_topic:String}, kafka_group_name = {order_group:String},
    kafka_format = 'JSONAsString', kafka_num_consumers = {consumers:UInt32}, kafka_thread_per_consumer = 1
{{end}}

{{define "kafka_tracking_mv"}}
CREATE MATERIALIZED VIEW {{.DB}}.kafka_tracking_mv TO {{.DB}}.tracking_events AS
SELECT
    JSONExtractString(raw, 'event_id') AS event_id,
    upper(replaceRegexpAll(JSONExtractString(raw, 'tracking_number'), '[\\s\\-_.]', '')) AS tracking_number,
    JSONExtractString(raw, 'tracking_number') AS tracking_number_raw,
    lower(JSONExtractString(raw, 'carrier')) AS carrier,
    multiIf(JSONHas(raw, 'status'), JSONExtractString(raw, 'status'),
        positionCaseInsensitive(JSONExtractString(raw, 'raw_status'), 'delivered') > 0, 'delivered',
        positionCaseInsensitive(JSONExtractString(raw, 'raw_status'), 'out for delivery') > 0, 'out_for_delivery',
        positionCaseInsensitive(JSONExtractString(raw, 'raw_status'), 'information received') > 0, 'info_received',
        positionCaseInsensitive(JSONExtractString(raw, 'raw_status'), 'accepted') > 0, 'picked_up',
        'in_transit') AS status,
    JSONExtractString(raw, 'raw_status') AS raw_status,
    parseDateTime64BestEffort(JSONExtractString(raw, 'occurred_at'), 3, 'UTC') AS occurred_at,
    upper(JSONExtractString(raw, 'location', 'country')) AS location_country,
    JSONExtractString(raw, 'location', 'city') AS location_city,
    lower(JSONExtractString(raw, 'location', 'city')) AS location_city_norm,
    JSONExtractString(raw, 'location', 'postal_code') AS location_postal,
    upper(replaceRegexpAll(JSONExtractString(raw, 'location', 'postal_code'), '[\\s\\-]', '')) AS location_postal_norm,
    upper(JSONExtractString(raw, 'destination', 'country')) AS dest_country,
    JSONExtractString(raw, 'destination', 'city') AS dest_city,
    lower(JSONExtractString(raw, 'destination', 'city')) AS dest_city_norm,
    JSONExtractString(raw, 'destination', 'postal_code') AS dest_postal,
    upper(replaceRegexpAll(JSONExtractString(raw, 'destination', 'postal_code'), '[\\s\\-]', '')) AS dest_postal_norm,
    _topic AS source_topic, toInt32(_partition) AS source_partition, toInt64(_offset) AS source_offset
FROM {{.DB}}.kafka_tracking
{{end}}

{{define "kafka_orders_mv"}}
CREATE MATERIALIZED VIEW {{.DB}}.kafka_orders_mv TO {{.DB}}.order_events AS
SELECT
    JSONExtractString(raw, 'event_id') AS event_id,
    JSONExtractString(raw, 'order_id') AS order_id,
    lower(JSONExtractString(raw, 'marketplace')) AS marketplace,
    JSONExtractString(raw, 'seller_id') AS seller_id,
    JSONExtractString(raw, 'buyer_id') AS buyer_id,
    JSONExtractString(raw, 'status') AS status,
    parseDateTime64BestEffort(JSONExtractString(raw, 'occurred_at'), 3, 'UTC') AS occurred_at,
    upper(replaceRegexpAll(JSONExtractString(raw, 'tracking_number'), '[\\s\\-_.]', '')) AS tracking_number,
    JSONExtractString(raw, 'tracking_number') AS tracking_number_raw,
    lower(JSONExtractString(raw, 'carrier')) AS carrier,
    upper(JSONExtractString(raw, 'ship_to', 'country')) AS ship_to_country,
    JSONExtractString(raw, 'ship_to', 'city') AS ship_to_city,
    lower(JSONExtractString(raw, 'ship_to', 'city')) AS ship_to_city_norm,
    JSONExtractString(raw, 'ship_to', 'postal_code') AS ship_to_postal,
    upper(replaceRegexpAll(JSONExtractString(raw, 'ship_to', 'postal_code'), '[\\s\\-]', '')) AS ship_to_postal_norm,
    JSONExtract(raw, 'protection_days', 'Nullable(UInt16)') AS protection_days,
    JSONExtract(raw, 'protection_extended_days', 'Nullable(UInt16)') AS protection_extended_days,
    toDecimal64OrNull(JSONExtractRaw(raw, 'amount'), 4) AS amount,
    upper(JSONExtractString(raw, 'currency')) AS currency,
    _topic AS source_topic, toInt32(_partition) AS source_partition, toInt64(_offset) AS source_offset
FROM {{.DB}}.kafka_orders
{{end}}
