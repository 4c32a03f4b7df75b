-- One row per alert, rewritten on every detector run that sees it. alert_id is
-- deterministic (detector, order, tracking number), so re-runs and several trackwatch
-- instances converge on one row per condition; read with FINAL.
CREATE TABLE IF NOT EXISTS {{.DB}}.alerts{{.OnCluster}}
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
ENGINE = {{engine "ReplacingMergeTree" "updated_at"}}
ORDER BY alert_id;
