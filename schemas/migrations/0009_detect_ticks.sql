-- Claims on scheduled detector ticks, so that several `trackwatch run` instances on one
-- ClickHouse run each tick once. Every instance whose schedule fires inserts a claim on
-- the tick (schedule, as-of moment) under the deduplication token of the tick: the
-- server keeps the first and drops the others, atomically, so every instance reads the
-- same single claim and its instance runs the tick. An instance that dies mid-run loses
-- that tick only; the next tick is claimed afresh.
CREATE TABLE IF NOT EXISTS {{.DB}}.detect_ticks{{.OnCluster}}
(
    schedule    String COMMENT 'the cron spec, naming the detectors that run on it',
    tick        DateTime64(3, 'UTC') COMMENT 'the moment the run evaluates',
    instance    String,
    claimed_at  DateTime64(6, 'UTC') DEFAULT now64(6)
)
ENGINE = {{engine "MergeTree" ""}}
ORDER BY (schedule, tick, claimed_at)
TTL toDateTime(claimed_at) + INTERVAL 7 DAY
SETTINGS {{dedupWindow}};
