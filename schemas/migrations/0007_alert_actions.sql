-- Case actions on alerts (the trust-and-safety workspace), appended and never changed:
-- who acknowledged, assigned, commented, closed with which outcome, or reopened an alert,
-- and when. An alert's case state is derived from them.
CREATE TABLE IF NOT EXISTS {{.DB}}.alert_actions{{.OnCluster}}
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
ENGINE = {{engine "ReplacingMergeTree" "at"}}
ORDER BY (alert_id, at, action_id);
