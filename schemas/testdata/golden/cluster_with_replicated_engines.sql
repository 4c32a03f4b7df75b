CREATE DATABASE IF NOT EXISTS `tw` ON CLUSTER `prod_cluster`;

CREATE TABLE IF NOT EXISTS `tw`.schema_migrations ON CLUSTER `prod_cluster`
(
    version     UInt32,
    name        String,
    checksum    String,
    applied_at  DateTime64(3, 'UTC')
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', applied_at)
ORDER BY version;

-- 0001_events.sql
CREATE TABLE IF NOT EXISTS `tw`.tracking_events ON CLUSTER `prod_cluster`
(
    event_id              String,
    tracking_number       String COMMENT 'upper case, no spaces or dashes',
    tracking_number_raw   String CODEC(ZSTD(1)),
    carrier               LowCardinality(String),
    status                LowCardinality(String) COMMENT 'normalised status, or unknown',
    raw_status            LowCardinality(String),
    occurred_at           DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    location_country      LowCardinality(String) COMMENT 'ISO 3166-1 alpha-2',
    location_city         String CODEC(ZSTD(1)),
    location_city_norm    LowCardinality(String),
    location_postal       String CODEC(ZSTD(1)),
    location_postal_norm  String CODEC(ZSTD(1)),
    dest_country          LowCardinality(String) COMMENT 'ISO 3166-1 alpha-2',
    dest_city             String CODEC(ZSTD(1)),
    dest_city_norm        LowCardinality(String),
    dest_postal           String CODEC(ZSTD(1)),
    dest_postal_norm      String CODEC(ZSTD(1)),
    source_topic          LowCardinality(String),
    source_partition      Int32 CODEC(ZSTD(1)),
    source_offset         Int64 CODEC(Delta, ZSTD(1)),
    ingested_at           DateTime64(3, 'UTC') DEFAULT now64(3) CODEC(Delta, ZSTD(1))
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', ingested_at)
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (tracking_number, occurred_at, event_id)
SETTINGS replicated_deduplication_window = 10000, replicated_deduplication_window_seconds = 604800;

CREATE TABLE IF NOT EXISTS `tw`.order_events ON CLUSTER `prod_cluster`
(
    event_id                  String,
    order_id                  String,
    marketplace               LowCardinality(String),
    seller_id                 String CODEC(ZSTD(1)),
    buyer_id                  String CODEC(ZSTD(1)),
    status                    LowCardinality(String),
    occurred_at               DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    tracking_number           String COMMENT 'upper case, no spaces or dashes; empty if none',
    tracking_number_raw       String CODEC(ZSTD(1)),
    carrier                   LowCardinality(String),
    ship_to_country           LowCardinality(String) COMMENT 'ISO 3166-1 alpha-2',
    ship_to_city              String CODEC(ZSTD(1)),
    ship_to_city_norm         LowCardinality(String),
    ship_to_postal            String CODEC(ZSTD(1)),
    ship_to_postal_norm       String CODEC(ZSTD(1)),
    protection_days           Nullable(UInt16),
    protection_extended_days  Nullable(UInt16),
    amount                    Nullable(Decimal(18, 4)),
    currency                  LowCardinality(String),
    source_topic              LowCardinality(String),
    source_partition          Int32 CODEC(ZSTD(1)),
    source_offset             Int64 CODEC(Delta, ZSTD(1)),
    ingested_at               DateTime64(3, 'UTC') DEFAULT now64(3) CODEC(Delta, ZSTD(1)),
    INDEX idx_tracking_number tracking_number TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', ingested_at)
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (order_id, occurred_at, event_id)
SETTINGS replicated_deduplication_window = 10000, replicated_deduplication_window_seconds = 604800;

CREATE TABLE IF NOT EXISTS `tw`.dead_letters ON CLUSTER `prod_cluster`
(
    topic             LowCardinality(String),
    partition         Int32,
    offset            Int64,
    message_key       String CODEC(ZSTD(1)),
    raw               String CODEC(ZSTD(3)),
    reason            LowCardinality(String) COMMENT 'not_json, missing_field, bad_timestamp, too_large, invalid_value',
    error             String CODEC(ZSTD(1)),
    message_time      DateTime64(3, 'UTC') COMMENT 'the Kafka record timestamp',
    dead_lettered_at  DateTime64(3, 'UTC') DEFAULT now64(3) CODEC(Delta, ZSTD(1))
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', dead_lettered_at)
ORDER BY (topic, partition, offset)
SETTINGS replicated_deduplication_window = 10000, replicated_deduplication_window_seconds = 604800;

-- 0002_dead_letter_replays.sql
CREATE TABLE IF NOT EXISTS `tw`.dead_letter_replays ON CLUSTER `prod_cluster`
(
    topic        LowCardinality(String),
    partition    Int32,
    offset       Int64,
    replayed_at  DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1))
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', replayed_at)
ORDER BY (topic, partition, offset);

-- 0003_alerts.sql
CREATE TABLE IF NOT EXISTS `tw`.alerts ON CLUSTER `prod_cluster`
(
    alert_id            String,
    detector            LowCardinality(String),
    order_id            String,
    tracking_number     String,
    seller_id           String,
    buyer_id            String,
    marketplace         LowCardinality(String),
    severity            LowCardinality(String) COMMENT 'critical, high, medium, low',
    recommendation      LowCardinality(String) COMMENT 'open_dispute, extend_protection, contact_seller, none',
    reason              String COMMENT 'a paragraph a buyer can paste into a dispute',
    evidence            String COMMENT 'JSON: timeline, mismatching fields, other orders',
    protection_ends_at  Nullable(DateTime64(3, 'UTC')),
    amount              Nullable(Decimal(18, 4)),
    first_detected_at   DateTime64(3, 'UTC'),
    last_detected_at    DateTime64(3, 'UTC'),
    status              LowCardinality(String) COMMENT 'firing, resolved',
    resolved_at         Nullable(DateTime64(3, 'UTC')),
    updated_at          DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', updated_at)
ORDER BY alert_id;

-- 0004_alert_store.sql
CREATE OR REPLACE TABLE `tw`.alerts ON CLUSTER `prod_cluster`
(
    alert_id            String,
    detector            LowCardinality(String),
    order_id            String,
    tracking_number     String,
    seller_id           String,
    buyer_id            String,
    marketplace         LowCardinality(String),
    severity            LowCardinality(String) COMMENT 'critical, high, medium, low',
    recommendation      LowCardinality(String) COMMENT 'open_dispute, extend_protection',
    reason              String COMMENT 'a paragraph a buyer can paste into a dispute',
    evidence            String COMMENT 'JSON object: timeline, mismatching fields, other orders',
    protection_ends_at  Nullable(DateTime64(3, 'UTC')),
    amount              Nullable(Decimal(18, 4)),
    first_detected_at   DateTime64(3, 'UTC') COMMENT 'start of the current firing episode',
    last_detected_at    DateTime64(3, 'UTC'),
    status              LowCardinality(String) COMMENT 'firing, resolved',
    resolved_at         Nullable(DateTime64(3, 'UTC')),
    as_of               DateTime64(3, 'UTC') COMMENT 'the moment the writing run evaluated: the row version',
    updated_at          DateTime64(3, 'UTC') DEFAULT now64(3) COMMENT 'when the row was written'
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', as_of)
ORDER BY alert_id
AS SELECT alert_id, detector, order_id, tracking_number, seller_id, buyer_id, marketplace, severity, recommendation,
    reason, evidence, protection_ends_at, amount, first_detected_at, last_detected_at, status, resolved_at,
    if(status = 'resolved', coalesce(resolved_at, last_detected_at), last_detected_at) AS as_of, updated_at
FROM `tw`.alerts FINAL;

CREATE TABLE IF NOT EXISTS `tw`.alert_changes ON CLUSTER `prod_cluster`
(
    change_id           String,
    kind                LowCardinality(String) COMMENT 'fired, refired, resolved',
    alert_id            String,
    detector            LowCardinality(String),
    order_id            String,
    tracking_number     String,
    seller_id           String,
    buyer_id            String,
    marketplace         LowCardinality(String),
    severity            LowCardinality(String),
    recommendation      LowCardinality(String),
    reason              String CODEC(ZSTD(1)),
    evidence            String CODEC(ZSTD(3)),
    protection_ends_at  Nullable(DateTime64(3, 'UTC')),
    amount              Nullable(Decimal(18, 4)),
    first_detected_at   DateTime64(3, 'UTC'),
    last_detected_at    DateTime64(3, 'UTC'),
    status              LowCardinality(String) COMMENT 'the alert after the change',
    resolved_at         Nullable(DateTime64(3, 'UTC')),
    as_of               DateTime64(3, 'UTC') COMMENT 'the moment of the run that made the change',
    created_at          DateTime64(3, 'UTC') DEFAULT now64(3),
    INDEX idx_created_at created_at TYPE minmax GRANULARITY 1
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
ORDER BY change_id
TTL toDateTime(created_at) + INTERVAL 90 DAY;

CREATE TABLE IF NOT EXISTS `tw`.alert_runs ON CLUSTER `prod_cluster`
(
    detector     LowCardinality(String),
    as_of        DateTime64(3, 'UTC'),
    firing       UInt32,
    fired        UInt32,
    refired      UInt32,
    resolved     UInt32,
    recorded_at  DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', recorded_at)
ORDER BY (detector, as_of);

CREATE TABLE IF NOT EXISTS `tw`.notify_attempts ON CLUSTER `prod_cluster`
(
    receiver         LowCardinality(String),
    change_id        String,
    attempt          UInt32 COMMENT '1, 2, ...; a replay takes the next number',
    outcome          LowCardinality(String) COMMENT 'delivered, retry, failed, gone, replay',
    status_code      UInt16 COMMENT 'HTTP status, 0 when there was no answer',
    error            String,
    message_id       String COMMENT 'the webhook-id the request carried',
    instance         String,
    attempted_at     DateTime64(3, 'UTC'),
    next_attempt_at  Nullable(DateTime64(3, 'UTC')) COMMENT 'when the next attempt is due (retry, replay)',
    duration_ms      UInt32
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', attempted_at)
ORDER BY (receiver, change_id, attempt)
TTL toDateTime(attempted_at) + INTERVAL 90 DAY;

CREATE TABLE IF NOT EXISTS `tw`.notify_claims ON CLUSTER `prod_cluster`
(
    receiver     LowCardinality(String),
    change_id    String,
    instance     String,
    claimed_at   DateTime64(6, 'UTC') DEFAULT now64(6),
    claim_until  DateTime64(3, 'UTC')
)
ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
ORDER BY (receiver, change_id, claimed_at)
TTL toDateTime(claim_until) + INTERVAL 1 DAY;

CREATE TABLE IF NOT EXISTS `tw`.notify_receivers ON CLUSTER `prod_cluster`
(
    receiver    LowCardinality(String),
    disabled    UInt8,
    reason      String,
    changed_at  DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', changed_at)
ORDER BY receiver;

-- 0005_carrier_status.sql
ALTER TABLE `tw`.tracking_events ON CLUSTER `prod_cluster`
    ADD COLUMN IF NOT EXISTS sub_status LowCardinality(String) DEFAULT multiIf(
        status = 'info_received', 'info_received/pre_advice', status = 'picked_up', 'picked_up/accepted',
        status = 'in_transit', 'in_transit/in_transit', status = 'out_for_delivery', 'out_for_delivery/on_route',
        status = 'delivered', 'delivered/delivered', status = 'failed_attempt', 'failed_attempt/attempted',
        status = 'exception', 'exception/other', status = 'returned', 'returned/returning',
        status = 'cancelled', 'cancelled/label_voided', 'unknown/unknown')
        COMMENT 'status/detail, see package carrier' AFTER status,
    ADD COLUMN IF NOT EXISTS status_given UInt8 DEFAULT 0 COMMENT '1: the producer sent status; 0: derived from raw_status' AFTER sub_status,
    ADD COLUMN IF NOT EXISTS physical UInt8 ALIAS sub_status NOT IN ('info_received/pre_advice', 'cancelled/label_voided', 'unknown/unknown')
        COMMENT 'a physical scan: the parcel was in a carrier''s hands';

-- 0006_reason_languages.sql
ALTER TABLE `tw`.alerts ON CLUSTER `prod_cluster`
    ADD COLUMN IF NOT EXISTS reasons Map(String, String) COMMENT 'language -> reason' AFTER reason;

ALTER TABLE `tw`.alert_changes ON CLUSTER `prod_cluster`
    ADD COLUMN IF NOT EXISTS reasons Map(String, String) CODEC(ZSTD(1)) AFTER reason;

-- 0007_alert_actions.sql
CREATE TABLE IF NOT EXISTS `tw`.alert_actions ON CLUSTER `prod_cluster`
(
    action_id  String,
    alert_id   String,
    action     LowCardinality(String) COMMENT 'acknowledge, assign, comment, close, reopen',
    actor      String COMMENT 'the API token''s name',
    assignee   String,
    outcome    LowCardinality(String) COMMENT 'with close: confirmed_fake, false_positive, buyer_refunded, duplicate',
    comment    String CODEC(ZSTD(1)),
    at         DateTime64(3, 'UTC')
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', at)
ORDER BY (alert_id, at, action_id);

-- 0008_backfill.sql
ALTER TABLE `tw`.tracking_events ON CLUSTER `prod_cluster`
    ADD COLUMN IF NOT EXISTS source_kind LowCardinality(String) DEFAULT 'kafka' AFTER source_offset,
    ADD COLUMN IF NOT EXISTS source_file String DEFAULT '' CODEC(ZSTD(1)) AFTER source_kind,
    ADD COLUMN IF NOT EXISTS source_line Int64 DEFAULT 0 CODEC(Delta, ZSTD(1)) AFTER source_file;

ALTER TABLE `tw`.order_events ON CLUSTER `prod_cluster`
    ADD COLUMN IF NOT EXISTS source_kind LowCardinality(String) DEFAULT 'kafka' AFTER source_offset,
    ADD COLUMN IF NOT EXISTS source_file String DEFAULT '' CODEC(ZSTD(1)) AFTER source_kind,
    ADD COLUMN IF NOT EXISTS source_line Int64 DEFAULT 0 CODEC(Delta, ZSTD(1)) AFTER source_file;

ALTER TABLE `tw`.dead_letters ON CLUSTER `prod_cluster`
    ADD COLUMN IF NOT EXISTS source_file String,
    ADD COLUMN IF NOT EXISTS source_line Int64,
    MODIFY ORDER BY (topic, partition, offset, source_file, source_line);

ALTER TABLE `tw`.dead_letter_replays ON CLUSTER `prod_cluster`
    ADD COLUMN IF NOT EXISTS source_file String,
    ADD COLUMN IF NOT EXISTS source_line Int64,
    MODIFY ORDER BY (topic, partition, offset, source_file, source_line);

CREATE TABLE IF NOT EXISTS `tw`.backfill_files ON CLUSTER `prod_cluster`
(
    file_id        String COMMENT 'sha256 of the file as stored (compressed or not)',
    path           String COMMENT 'as named when last loaded',
    kind           LowCardinality(String) COMMENT 'tracking or order',
    format         LowCardinality(String) COMMENT 'ndjson, csv, parquet',
    size           UInt64,
    batch_rows     UInt32 COMMENT 'records per block: a resumed load cuts the same blocks',
    position       Int64 COMMENT 'last line or row stored (0: none yet)',
    records        UInt64 COMMENT 'records read up to position',
    rows_stored    UInt64,
    duplicates     UInt64 COMMENT 'records whose event_id repeated one in the same block',
    dead_lettered  UInt64,
    done           Bool,
    started_at     DateTime64(3, 'UTC'),
    updated_at     DateTime64(3, 'UTC')
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', updated_at)
ORDER BY file_id;

CREATE TABLE IF NOT EXISTS `tw`.backtests ON CLUSTER `prod_cluster`
(
    backtest_id   String,
    from_date     DateTime64(3, 'UTC'),
    to_date       DateTime64(3, 'UTC'),
    step_seconds  UInt32,
    detectors     Array(LowCardinality(String)),
    steps         UInt32,
    steps_done    UInt32,
    started_at    DateTime64(3, 'UTC'),
    updated_at    DateTime64(3, 'UTC')
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', updated_at)
ORDER BY backtest_id;

CREATE TABLE IF NOT EXISTS `tw`.alert_history ON CLUSTER `prod_cluster`
(
    backtest_id         String,
    as_of               DateTime64(3, 'UTC'),
    detector            LowCardinality(String),
    order_id            String,
    tracking_number     String,
    seller_id           String CODEC(ZSTD(1)),
    marketplace         LowCardinality(String),
    severity            LowCardinality(String),
    recommendation      LowCardinality(String),
    protection_ends_at  Nullable(DateTime64(3, 'UTC')),
    reason              String CODEC(ZSTD(3))
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
ORDER BY (backtest_id, detector, order_id, tracking_number, as_of);

-- 0009_detect_ticks.sql
CREATE TABLE IF NOT EXISTS `tw`.detect_ticks ON CLUSTER `prod_cluster`
(
    schedule    String COMMENT 'the cron spec, naming the detectors that run on it',
    tick        DateTime64(3, 'UTC') COMMENT 'the moment the run evaluates',
    instance    String,
    claimed_at  DateTime64(6, 'UTC') DEFAULT now64(6)
)
ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
ORDER BY (schedule, tick, claimed_at)
TTL toDateTime(claimed_at) + INTERVAL 7 DAY
SETTINGS replicated_deduplication_window = 10000, replicated_deduplication_window_seconds = 604800;

-- 0010_claims_in_commit_order.sql
ALTER TABLE `tw`.notify_claims ON CLUSTER `prod_cluster` MODIFY SETTING enable_block_number_column = 1;

-- 0011_carrier_months.sql
CREATE TABLE IF NOT EXISTS `tw`.carrier_months ON CLUSTER `prod_cluster`
(
    tracking_number   String,
    carrier           LowCardinality(String),
    month             Date COMMENT 'toStartOfMonth(occurred_at), UTC',
    events            SimpleAggregateFunction(sum, UInt64),
    moving_events     SimpleAggregateFunction(sum, UInt64) COMMENT 'physical scans',
    preadvice_events  SimpleAggregateFunction(sum, UInt64),
    voided_events     SimpleAggregateFunction(sum, UInt64),
    delivered_events  SimpleAggregateFunction(sum, UInt64),
    first_event_at    SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
    last_event_at     SimpleAggregateFunction(max, DateTime64(3, 'UTC')),
    first_scan_at     SimpleAggregateFunction(min, Nullable(DateTime64(3, 'UTC'))) COMMENT 'the first physical scan',
    first_voided      SimpleAggregateFunction(min, String) COMMENT 'packed: time, raw_status; ~ when none',
    last_scan         SimpleAggregateFunction(max, String) COMMENT 'packed: time, sub_status, raw_status of the last physical scan',
    dest              SimpleAggregateFunction(max, String) COMMENT 'packed: time, country, postal, city of the latest destination',
    delivered_place   SimpleAggregateFunction(max, String) COMMENT 'packed: time, country, postal, city of the latest delivery'
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(month)
ORDER BY (tracking_number, carrier, month);

CREATE MATERIALIZED VIEW IF NOT EXISTS `tw`.carrier_months_mv ON CLUSTER `prod_cluster` TO `tw`.carrier_months AS
SELECT
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
    min(if(sub_status = 'cancelled/label_voided', concat(leftPad(toString(toUnixTimestamp64Milli(occurred_at)), 15, '0'), '\x1f', raw_status), '~')) AS first_voided,
    max(if(physical, concat(leftPad(toString(toUnixTimestamp64Milli(occurred_at)), 15, '0'), '\x1f', sub_status, '\x1f', raw_status), '')) AS last_scan,
    max(if(dest_country != '' OR dest_postal_norm != '' OR dest_city_norm != '',
        concat(leftPad(toString(toUnixTimestamp64Milli(occurred_at)), 15, '0'), '\x1f', dest_country, '\x1f', dest_postal_norm, '\x1f', dest_city_norm), '')) AS dest,
    max(if(status = 'delivered',
        concat(leftPad(toString(toUnixTimestamp64Milli(occurred_at)), 15, '0'), '\x1f', location_country, '\x1f', location_postal_norm, '\x1f', location_city_norm), '')) AS delivered_place
FROM `tw`.tracking_events
WHERE 1
GROUP BY tracking_number, carrier, month;

-- 0012_alert_content_hash.sql
ALTER TABLE `tw`.alerts ON CLUSTER `prod_cluster`
    ADD COLUMN IF NOT EXISTS content_hash UInt64 DEFAULT 0 COMMENT 'what the alert says, hashed: unchanged alerts are not rewritten';

-- 0013_order_months.sql
CREATE TABLE IF NOT EXISTS `tw`.order_months ON CLUSTER `prod_cluster`
(
    order_id          String,
    month             Date COMMENT 'toStartOfMonth(occurred_at), UTC',
    first_event_at    SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
    last_event_at     SimpleAggregateFunction(max, DateTime64(3, 'UTC')),
    latest            SimpleAggregateFunction(max, String) COMMENT 'packed: time, status, marketplace, seller_id, buyer_id',
    shipped           SimpleAggregateFunction(max, String) COMMENT 'packed: time, tracking_number, carrier of the latest shipped event',
    placed_at         SimpleAggregateFunction(min, Nullable(DateTime64(3, 'UTC'))),
    ship_to           SimpleAggregateFunction(max, String) COMMENT 'packed: time, country, postal, city',
    protection        SimpleAggregateFunction(max, String) COMMENT 'packed: time, protection_days',
    extension         SimpleAggregateFunction(max, String) COMMENT 'packed: time, protection_extended_days',
    amount_at         SimpleAggregateFunction(max, String) COMMENT 'packed: time, amount'
)
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(month)
ORDER BY (order_id, month);

CREATE MATERIALIZED VIEW IF NOT EXISTS `tw`.order_months_mv ON CLUSTER `prod_cluster` TO `tw`.order_months AS
SELECT
    order_id,
    toStartOfMonth(occurred_at) AS month,
    min(occurred_at) AS first_event_at,
    max(occurred_at) AS last_event_at,
    max(concat(leftPad(toString(toUnixTimestamp64Milli(occurred_at)), 15, '0'), '\x1f', status, '\x1f', marketplace, '\x1f', seller_id, '\x1f', buyer_id)) AS latest,
    max(if(status = 'shipped', concat(leftPad(toString(toUnixTimestamp64Milli(occurred_at)), 15, '0'), '\x1f', tracking_number, '\x1f', carrier), '')) AS shipped,
    minIfOrNull(occurred_at, status = 'placed') AS placed_at,
    max(if(ship_to_country != '' OR ship_to_postal_norm != '' OR ship_to_city_norm != '',
        concat(leftPad(toString(toUnixTimestamp64Milli(occurred_at)), 15, '0'), '\x1f', ship_to_country, '\x1f', ship_to_postal_norm, '\x1f', ship_to_city_norm), '')) AS ship_to,
    max(if(protection_days IS NOT NULL, concat(leftPad(toString(toUnixTimestamp64Milli(occurred_at)), 15, '0'), '\x1f', toString(assumeNotNull(protection_days))), '')) AS protection,
    max(if(protection_extended_days IS NOT NULL,
        concat(leftPad(toString(toUnixTimestamp64Milli(occurred_at)), 15, '0'), '\x1f', toString(assumeNotNull(protection_extended_days))), '')) AS extension,
    max(if(amount IS NOT NULL, concat(leftPad(toString(toUnixTimestamp64Milli(occurred_at)), 15, '0'), '\x1f', toString(assumeNotNull(amount))), '')) AS amount_at
FROM `tw`.order_events
WHERE 1
GROUP BY order_id, month;

-- 0014_detect_changes.sql
CREATE TABLE IF NOT EXISTS `tw`.detect_changes ON CLUSTER `prod_cluster`
(
    kind         Enum8('number' = 1, 'order' = 2),
    key          String COMMENT 'the tracking number (number) or the order id (order)',
    occurred_at  DateTime64(3, 'UTC'),
    ingested_at  DateTime64(3, 'UTC') COMMENT 'the server''s clock when the event was stored',
    INDEX idx_ingested_at ingested_at TYPE minmax GRANULARITY 1
)
ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(ingested_at)
ORDER BY (occurred_at, kind, key)
TTL toDateTime(greatest(ingested_at, occurred_at)) + INTERVAL 30 DAY;

CREATE MATERIALIZED VIEW IF NOT EXISTS `tw`.detect_changes_tracking_mv ON CLUSTER `prod_cluster` TO `tw`.detect_changes AS
SELECT 'number' AS kind, tracking_number AS key, occurred_at, ingested_at FROM `tw`.tracking_events;

CREATE MATERIALIZED VIEW IF NOT EXISTS `tw`.detect_changes_order_mv ON CLUSTER `prod_cluster` TO `tw`.detect_changes AS
SELECT 'order' AS kind, order_id AS key, occurred_at, ingested_at FROM `tw`.order_events;

CREATE TABLE IF NOT EXISTS `tw`.order_numbers ON CLUSTER `prod_cluster`
(
    tracking_number  String,
    order_id         String
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
ORDER BY (tracking_number, order_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS `tw`.order_numbers_mv ON CLUSTER `prod_cluster` TO `tw`.order_numbers AS
SELECT DISTINCT tracking_number, order_id FROM `tw`.order_events WHERE tracking_number != '';

CREATE TABLE IF NOT EXISTS `tw`.detect_next_checks ON CLUSTER `prod_cluster`
(
    detectors   LowCardinality(String) COMMENT 'the run''s detectors, comma-separated',
    check_at    DateTime64(3, 'UTC'),
    order_id    String,
    written_at  DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
ORDER BY (detectors, check_at, order_id)
TTL toDateTime(greatest(check_at, written_at)) + INTERVAL 7 DAY;

CREATE TABLE IF NOT EXISTS `tw`.detect_checkpoints ON CLUSTER `prod_cluster`
(
    detectors    LowCardinality(String) COMMENT 'the run''s detectors, comma-separated; empty: a reset of all',
    config_hash  UInt64 COMMENT 'of the detectors'' SQL and thresholds: a change makes the next run full',
    as_of        DateTime64(3, 'UTC'),
    watermark    DateTime64(3, 'UTC'),
    full         Bool,
    written_at   DateTime64(6, 'UTC') DEFAULT now64(6)
)
ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
ORDER BY (detectors, written_at)
TTL toDateTime(written_at) + INTERVAL 30 DAY;

-- 0015_number_checks.sql
CREATE TABLE IF NOT EXISTS `tw`.number_checks ON CLUSTER `prod_cluster`
(
    tracking_number  String COMMENT 'upper case, no spaces or dashes',
    carrier          LowCardinality(String) COMMENT 'the declared carrier slug, or empty',
    verdict          LowCardinality(String) COMMENT 'invalid, other_courier, or unchecked (courier detection only)',
    couriers         Array(LowCardinality(String)) COMMENT 'the carriers whose formats the number fits',
    problem          LowCardinality(String) COMMENT 'few distinct texts: a dictionary per part',
    problem_ja       LowCardinality(String),
    spec             LowCardinality(String),
    checked_at       DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', checked_at)
ORDER BY (tracking_number, carrier);

CREATE TABLE IF NOT EXISTS `tw`.number_check_runs ON CLUSTER `prod_cluster`
(
    spec         LowCardinality(String),
    pairs        UInt64,
    finished_at  DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
ORDER BY finished_at;

ALTER TABLE `tw`.order_events ON CLUSTER `prod_cluster`
    ADD COLUMN IF NOT EXISTS number_verdict LowCardinality(String) DEFAULT '' COMMENT 'invalid, other_courier, unchecked (couriers named), or empty: nothing to say' AFTER source_line,
    ADD COLUMN IF NOT EXISTS number_couriers Array(LowCardinality(String)) AFTER number_verdict,
    ADD COLUMN IF NOT EXISTS number_problem LowCardinality(String) DEFAULT '' AFTER number_couriers,
    ADD COLUMN IF NOT EXISTS number_problem_ja LowCardinality(String) DEFAULT '' AFTER number_problem,
    ADD COLUMN IF NOT EXISTS number_spec LowCardinality(String) DEFAULT '' AFTER number_problem_ja;

CREATE MATERIALIZED VIEW IF NOT EXISTS `tw`.number_checks_mv ON CLUSTER `prod_cluster` TO `tw`.number_checks AS
SELECT tracking_number, carrier, number_verdict AS verdict, number_couriers AS couriers, number_problem AS problem,
    number_problem_ja AS problem_ja, number_spec AS spec
FROM `tw`.order_events
WHERE number_verdict != '';

-- 0016_order_journey.sql
ALTER TABLE `tw`.order_events ON CLUSTER `prod_cluster`
    ADD COLUMN IF NOT EXISTS payment_method LowCardinality(String) DEFAULT '' COMMENT 'card_credit, card_debit, paypal, bank_transfer, convenience_store, wallet, other; on paid' AFTER number_spec,
    ADD COLUMN IF NOT EXISTS refund_amount Nullable(Decimal(18, 4)) COMMENT 'on refund_approved: due; on refund_completed: refunded in all so far' AFTER payment_method,
    ADD COLUMN IF NOT EXISTS reason String DEFAULT '' COMMENT 'the stated reason of a cancellation request, a dispute, a refund' CODEC(ZSTD(1)) AFTER refund_amount;

ALTER TABLE `tw`.order_months ON CLUSTER `prod_cluster`
    ADD COLUMN IF NOT EXISTS payment SimpleAggregateFunction(max, String) DEFAULT '' COMMENT 'packed: time, payment_method' AFTER amount_at,
    ADD COLUMN IF NOT EXISTS cancel_requested_at SimpleAggregateFunction(min, Nullable(DateTime64(3, 'UTC'))) COMMENT 'the first cancel_requested or cancel_rejected' AFTER payment,
    ADD COLUMN IF NOT EXISTS cancelled_at SimpleAggregateFunction(min, Nullable(DateTime64(3, 'UTC'))) COMMENT 'the first cancelled' AFTER cancel_requested_at,
    ADD COLUMN IF NOT EXISTS disputed_at SimpleAggregateFunction(max, Nullable(DateTime64(3, 'UTC'))) COMMENT 'the latest disputed' AFTER cancelled_at,
    ADD COLUMN IF NOT EXISTS dispute_answered_at SimpleAggregateFunction(max, Nullable(DateTime64(3, 'UTC'))) COMMENT 'the latest dispute_responded or dispute_escalated' AFTER disputed_at,
    ADD COLUMN IF NOT EXISTS refund_approved_at SimpleAggregateFunction(min, Nullable(DateTime64(3, 'UTC'))) COMMENT 'the first refund_approved' AFTER dispute_answered_at,
    ADD COLUMN IF NOT EXISTS refund_due SimpleAggregateFunction(max, String) DEFAULT '' COMMENT 'packed: time, refund_amount of the latest refund_approved that gave one' AFTER refund_approved_at,
    ADD COLUMN IF NOT EXISTS refund_completed SimpleAggregateFunction(max, String) DEFAULT '' COMMENT 'packed: time, refund_amount (empty if none) of the latest refund_completed' AFTER refund_due;

DROP VIEW IF EXISTS `tw`.order_months_mv ON CLUSTER `prod_cluster`;

CREATE MATERIALIZED VIEW IF NOT EXISTS `tw`.order_months_mv ON CLUSTER `prod_cluster` TO `tw`.order_months AS
SELECT
    order_id,
    toStartOfMonth(occurred_at) AS month,
    min(occurred_at) AS first_event_at,
    max(occurred_at) AS last_event_at,
    max(if(status NOT IN ('cancel_requested', 'cancel_rejected', 'dispute_responded', 'dispute_escalated', 'refund_approved'),
        concat(leftPad(toString(toUnixTimestamp64Milli(occurred_at)), 15, '0'), '\x1f', status, '\x1f', marketplace, '\x1f', seller_id, '\x1f', buyer_id), '')) AS latest,
    max(if(status = 'shipped', concat(leftPad(toString(toUnixTimestamp64Milli(occurred_at)), 15, '0'), '\x1f', tracking_number, '\x1f', carrier), '')) AS shipped,
    minIfOrNull(occurred_at, status = 'placed') AS placed_at,
    max(if(ship_to_country != '' OR ship_to_postal_norm != '' OR ship_to_city_norm != '',
        concat(leftPad(toString(toUnixTimestamp64Milli(occurred_at)), 15, '0'), '\x1f', ship_to_country, '\x1f', ship_to_postal_norm, '\x1f', ship_to_city_norm), '')) AS ship_to,
    max(if(protection_days IS NOT NULL, concat(leftPad(toString(toUnixTimestamp64Milli(occurred_at)), 15, '0'), '\x1f', toString(assumeNotNull(protection_days))), '')) AS protection,
    max(if(protection_extended_days IS NOT NULL,
        concat(leftPad(toString(toUnixTimestamp64Milli(occurred_at)), 15, '0'), '\x1f', toString(assumeNotNull(protection_extended_days))), '')) AS extension,
    max(if(amount IS NOT NULL, concat(leftPad(toString(toUnixTimestamp64Milli(occurred_at)), 15, '0'), '\x1f', toString(assumeNotNull(amount))), '')) AS amount_at,
    max(if(payment_method != '', concat(leftPad(toString(toUnixTimestamp64Milli(occurred_at)), 15, '0'), '\x1f', payment_method), '')) AS payment,
    minIfOrNull(occurred_at, status IN ('cancel_requested', 'cancel_rejected')) AS cancel_requested_at,
    minIfOrNull(occurred_at, status = 'cancelled') AS cancelled_at,
    maxIfOrNull(occurred_at, status = 'disputed') AS disputed_at,
    maxIfOrNull(occurred_at, status IN ('dispute_responded', 'dispute_escalated')) AS dispute_answered_at,
    minIfOrNull(occurred_at, status = 'refund_approved') AS refund_approved_at,
    max(if(status = 'refund_approved' AND refund_amount IS NOT NULL,
        concat(leftPad(toString(toUnixTimestamp64Milli(occurred_at)), 15, '0'), '\x1f', toString(assumeNotNull(refund_amount))), '')) AS refund_due,
    max(if(status = 'refund_completed',
        concat(leftPad(toString(toUnixTimestamp64Milli(occurred_at)), 15, '0'), '\x1f', ifNull(toString(refund_amount), '')), '')) AS refund_completed
FROM `tw`.order_events
WHERE 1
GROUP BY order_id, month;

-- 0017_provider_status.sql
ALTER TABLE `tw`.tracking_events ON CLUSTER `prod_cluster`
    ADD COLUMN IF NOT EXISTS provider LowCardinality(String) DEFAULT '' COMMENT 'the aggregator that sent the event (aftership, 17track, ...), or empty' AFTER status_given,
    ADD COLUMN IF NOT EXISTS provider_status LowCardinality(String) DEFAULT '' COMMENT 'the provider''s reading as status/detail, or empty' AFTER provider;

-- 0018_backtest_comparisons.sql
CREATE TABLE IF NOT EXISTS `tw`.backtest_comparisons ON CLUSTER `prod_cluster`
(
    comparison_id     String,
    created_at        DateTime64(3, 'UTC'),
    setting           LowCardinality(String),
    value             UInt32,
    detector          LowCardinality(String),
    backtest_id       String,
    from_date         DateTime64(3, 'UTC'),
    to_date           DateTime64(3, 'UTC'),
    step_seconds      UInt32,
    steps             UInt32,
    shared            Bool COMMENT 'the values were evaluated in one run per step (else one run per value)',
    min_per_step      UInt64,
    median_per_step   Float64,
    max_per_step      UInt64,
    orders            UInt64,
    ended_badly       UInt64,
    median_lead_days  Nullable(Float64),
    p10_lead_days     Nullable(Float64),
    after_protection  UInt64,
    later_dispute_or_refund UInt64,
    confirmed_fake    UInt64,
    false_positive    UInt64
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', created_at)
ORDER BY (comparison_id, setting, value, detector);

-- 0019_comparison_shares.sql
ALTER TABLE `tw`.backtest_comparisons ON CLUSTER `prod_cluster`
    ADD COLUMN IF NOT EXISTS setting_value Float64 DEFAULT toFloat64(value) COMMENT 'the value compared (value is its key: a share in millionths)' AFTER value;

-- 0020_alert_history_sellers.sql
ALTER TABLE `tw`.alert_history ON CLUSTER `prod_cluster`
    ADD COLUMN IF NOT EXISTS seller_key String COMMENT 'a seller''s alert: marketplace NUL seller_id; empty for an order''s',
    MODIFY ORDER BY (backtest_id, detector, order_id, tracking_number, as_of, seller_key);

