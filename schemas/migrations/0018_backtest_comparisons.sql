-- Comparisons of a detector setting's values over the same backtest steps (trackwatch
-- backtest --vary): one row per value and detector, what the report printed, kept so
-- the workspace's overview can chart the latest comparison. Each value's findings are
-- in alert_history under the row's backtest_id.
CREATE TABLE IF NOT EXISTS {{.DB}}.backtest_comparisons{{.OnCluster}}
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
ENGINE = {{engine "ReplacingMergeTree" "created_at"}}
ORDER BY (comparison_id, setting, value, detector);
