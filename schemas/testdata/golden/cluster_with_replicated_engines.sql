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

