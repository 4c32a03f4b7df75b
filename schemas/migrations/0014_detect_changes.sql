-- What a scheduled detector run needs to evaluate only what can have changed since the
-- previous one (package detect, "scoped runs"):
--
-- detect_changes: every carrier and order event's key (tracking number or order id),
-- when it occurred and when the server stored it, kept at insert by two materialized
-- views. A run reads the keys stored since the previous run's watermark (late events
-- included) and those whose event became visible since the previous run's moment (an
-- event stored before it but occurring after it). Sorted by occurred_at, with a minmax
-- index on ingested_at, so that both reads touch only the granules they need. Kept 30
-- days after an event is both stored and due; a run whose previous run is older
-- evaluates everything.
CREATE TABLE IF NOT EXISTS {{.DB}}.detect_changes{{.OnCluster}}
(
    kind         Enum8('number' = 1, 'order' = 2),
    key          String COMMENT 'the tracking number (number) or the order id (order)',
    occurred_at  DateTime64(3, 'UTC'),
    ingested_at  DateTime64(3, 'UTC') COMMENT 'the server''s clock when the event was stored',
    INDEX idx_ingested_at ingested_at TYPE minmax GRANULARITY 1
)
ENGINE = {{engine "MergeTree" ""}}
PARTITION BY toYYYYMM(ingested_at)
ORDER BY (occurred_at, kind, key)
TTL toDateTime(greatest(ingested_at, occurred_at)) + INTERVAL 30 DAY;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{.DB}}.detect_changes_tracking_mv{{.OnCluster}} TO {{.DB}}.detect_changes AS
SELECT 'number' AS kind, tracking_number AS key, occurred_at, ingested_at FROM {{.DB}}.tracking_events;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{.DB}}.detect_changes_order_mv{{.OnCluster}} TO {{.DB}}.detect_changes AS
SELECT 'order' AS kind, order_id AS key, occurred_at, ingested_at FROM {{.DB}}.order_events;

-- Every order that ever named a tracking number, by number: the orders a change to a
-- number's carrier history can affect, and the other orders on the same number
-- (tracking_reuse).
CREATE TABLE IF NOT EXISTS {{.DB}}.order_numbers{{.OnCluster}}
(
    tracking_number  String,
    order_id         String
)
ENGINE = {{engine "ReplacingMergeTree" ""}}
ORDER BY (tracking_number, order_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS {{.DB}}.order_numbers_mv{{.OnCluster}} TO {{.DB}}.order_numbers AS
SELECT DISTINCT tracking_number, order_id FROM {{.DB}}.order_events WHERE tracking_number != '';

-- The history stored before this migration (on a cluster: `trackwatch migrate --rebuild-summaries`).
{{- if not .OnCluster}}
INSERT INTO {{.DB}}.order_numbers
SELECT DISTINCT tracking_number, order_id FROM {{.DB}}.order_events WHERE tracking_number != '';
{{- end}}

-- For each order a run evaluated, the next moment a detector's condition (or the text of
-- its alert) can change by time alone, with nothing new stored: a stalled number
-- becomes stalled, protection nears its end, a day passes in a count of days. The next
-- run evaluates the orders whose moment it has reached. Replacing: a full run writes the
-- same rows again.
CREATE TABLE IF NOT EXISTS {{.DB}}.detect_next_checks{{.OnCluster}}
(
    detectors   LowCardinality(String) COMMENT 'the run''s detectors, comma-separated',
    check_at    DateTime64(3, 'UTC'),
    order_id    String,
    written_at  DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = {{engine "ReplacingMergeTree" ""}}
ORDER BY (detectors, check_at, order_id)
TTL toDateTime(greatest(check_at, written_at)) + INTERVAL 7 DAY;

-- Each recorded scheduled run: the moment it evaluated, the server's clock when it read
-- the changes (the next run reads the changes stored after it), and whether it evaluated
-- every order. A row with no detectors resets every schedule: the next run of each
-- evaluates everything (written when stored history is changed in place).
CREATE TABLE IF NOT EXISTS {{.DB}}.detect_checkpoints{{.OnCluster}}
(
    detectors    LowCardinality(String) COMMENT 'the run''s detectors, comma-separated; empty: a reset of all',
    config_hash  UInt64 COMMENT 'of the detectors'' SQL and thresholds: a change makes the next run full',
    as_of        DateTime64(3, 'UTC'),
    watermark    DateTime64(3, 'UTC'),
    full         Bool,
    written_at   DateTime64(6, 'UTC') DEFAULT now64(6)
)
ENGINE = {{engine "MergeTree" ""}}
ORDER BY (detectors, written_at)
TTL toDateTime(written_at) + INTERVAL 30 DAY;
