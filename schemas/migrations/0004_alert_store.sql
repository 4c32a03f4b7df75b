-- The alert store (package alert). alerts keeps one row per alert, now versioned by the
-- as-of moment of the run that wrote it instead of the time of the write, so a run for
-- an earlier moment, or a slower instance's write arriving late, never replaces a later
-- state. The existing alerts are carried over, their version taken from the moment they
-- were last detected or resolved (the statement reads only columns both versions of the
-- table have, so it can run again).
CREATE OR REPLACE TABLE {{.DB}}.alerts{{.OnCluster}}
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
ENGINE = {{engine "ReplacingMergeTree" "as_of"}}
ORDER BY alert_id
AS SELECT alert_id, detector, order_id, tracking_number, seller_id, buyer_id, marketplace, severity, recommendation,
    reason, evidence, protection_ends_at, amount, first_detected_at, last_detected_at, status, resolved_at,
    if(status = 'resolved', coalesce(resolved_at, last_detected_at), last_detected_at) AS as_of, updated_at
FROM {{.DB}}.alerts FINAL;

-- The change log and delivery outbox: every change of an alert's state (fired, refired
-- after a resolve, resolved), written by the run that made it before the alert itself,
-- with a snapshot of the alert. change_id is sipHash128(alert_id, kind, as_of): the same
-- change computed by two instances, or by a run repeated after a crash, has one id, which
-- notifications carry as their idempotency key (webhook-id).
CREATE TABLE IF NOT EXISTS {{.DB}}.alert_changes{{.OnCluster}}
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
ENGINE = {{engine "ReplacingMergeTree" ""}}
ORDER BY change_id
TTL toDateTime(created_at) + INTERVAL 90 DAY;

-- One row per detector per recorded run: how many alerts fired, and the latest moment
-- recorded for each detector (a run for an earlier moment records nothing).
CREATE TABLE IF NOT EXISTS {{.DB}}.alert_runs{{.OnCluster}}
(
    detector     LowCardinality(String),
    as_of        DateTime64(3, 'UTC'),
    firing       UInt32,
    fired        UInt32,
    refired      UInt32,
    resolved     UInt32,
    recorded_at  DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = {{engine "ReplacingMergeTree" "recorded_at"}}
ORDER BY (detector, as_of);

-- Every delivery attempt of a change to a receiver (package alert/notify), appended:
-- the latest attempt of a (receiver, change) is its state. A replay appends an attempt
-- that makes the change due again.
CREATE TABLE IF NOT EXISTS {{.DB}}.notify_attempts{{.OnCluster}}
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
ENGINE = {{engine "ReplacingMergeTree" "attempted_at"}}
ORDER BY (receiver, change_id, attempt)
TTL toDateTime(attempted_at) + INTERVAL 90 DAY;

-- Claims on changes, so that several trackwatch instances deliver each change to a
-- receiver once: among unexpired claims of a (receiver, change), the earliest wins.
CREATE TABLE IF NOT EXISTS {{.DB}}.notify_claims{{.OnCluster}}
(
    receiver     LowCardinality(String),
    change_id    String,
    instance     String,
    claimed_at   DateTime64(6, 'UTC') DEFAULT now64(6),
    claim_until  DateTime64(3, 'UTC')
)
ENGINE = {{engine "MergeTree" ""}}
ORDER BY (receiver, change_id, claimed_at)
TTL toDateTime(claim_until) + INTERVAL 1 DAY;

-- Receivers disabled by an answer 410 Gone (or by hand), until `trackwatch receivers
-- enable`.
CREATE TABLE IF NOT EXISTS {{.DB}}.notify_receivers{{.OnCluster}}
(
    receiver    LowCardinality(String),
    disabled    UInt8,
    reason      String,
    changed_at  DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = {{engine "ReplacingMergeTree" "changed_at"}}
ORDER BY receiver;
