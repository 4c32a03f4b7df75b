-- A backtest's statements (backtest.go, report.go): its steps' findings into
-- alert_history, its record in backtests, and its report.

{{define "clear"}}DELETE FROM {{.DB}}.alert_history WHERE backtest_id = {id:String}{{end}}

-- A step's findings, without their timelines ({{.Drafts}}: alert_history keeps no
-- evidence), copied inside ClickHouse; a seller's finding keyed by its seller
-- (seller_key, the end of the table's key: it has no order or number).
{{define "step"}}INSERT INTO {{.DB}}.alert_history (backtest_id, as_of, detector, order_id, tracking_number, seller_id, marketplace, severity, recommendation, protection_ends_at, reason, seller_key)
SELECT {bt_id:String}, {as_of:DateTime64(3, 'UTC')}, detector, order_id, tracking_number, seller_id, marketplace, severity, recommendation, protection_ends_at, reason,
    {{template "history_seller"}}
FROM (
{{.Drafts}}
){{end}}

-- A varied set's step (backtest --vary): each finding into the history of its value's
-- variant ({bt_id} maps each value to its backtest id).
{{define "vary_step"}}INSERT INTO {{.DB}}.alert_history (backtest_id, as_of, detector, order_id, tracking_number, seller_id, marketplace, severity, recommendation, protection_ends_at, reason, seller_key)
SELECT {bt_id:Map(UInt16, String)}[vary_value], {as_of:DateTime64(3, 'UTC')}, detector, order_id, tracking_number, seller_id, marketplace, severity, recommendation, protection_ends_at, reason,
    {{template "history_seller"}}
FROM (
{{.Drafts}}
){{end}}

{{define "record"}}INSERT INTO {{.DB}}.backtests (backtest_id, from_date, to_date, step_seconds, detectors, steps, steps_done, started_at, updated_at)
SELECT {id:String}, {from:DateTime64(3, 'UTC')}, {to:DateTime64(3, 'UTC')}, {step:UInt32}, {detectors:Array(String)}, {steps:UInt32}, {done:UInt32},
    {started:DateTime64(3, 'UTC')}, now64(3){{end}}

-- The alerts of each step, per detector (h.detector is '' where a step has none).
{{define "per_step"}}SELECT s.as_of AS as_of, d AS detector, countIf(h.detector != '') AS alerts FROM (SELECT arrayJoin(range(0, toUInt32(steps))) AS i, from_date + toIntervalSecond(i * step_seconds) AS as_of, detectors  FROM {{.DB}}.backtests FINAL WHERE backtest_id = {id:String}) AS s ARRAY JOIN s.detectors AS d LEFT JOIN (SELECT as_of, detector, order_id FROM {{.DB}}.alert_history FINAL WHERE backtest_id = {id:String}) AS h ON h.as_of = s.as_of AND h.detector = d GROUP BY as_of, detector ORDER BY as_of, detector{{end}}

-- A row's seller, for an alert without an order (the sellers' detector): its marketplace
-- and seller id; '' for an order's alert.
{{define "history_seller"}}if(order_id = '', concat(marketplace, '\0', seller_id), ''){{end}}

-- Per detector: alerts per step, the orders flagged (the sellers, for a seller's
-- alerts), how many ended badly and how long before their protection ended they were
-- first flagged, and how many were disputed or refunded after their first alert.
{{define "report"}}WITH per_step AS ({{template "per_step" .}}),
first AS (
    SELECT detector, order_id, {{template "history_seller"}} AS seller, min(as_of) AS first_at, argMin(protection_ends_at, as_of) AS ends
    FROM {{.DB}}.alert_history FINAL WHERE backtest_id = {id:String} GROUP BY detector, order_id, seller
),
bad AS (SELECT DISTINCT order_id FROM {{.DB}}.order_events WHERE status IN {bad:Array(String)}),
later AS (SELECT order_id, max(occurred_at) AS last_at FROM {{.DB}}.order_events WHERE status IN {later:Array(String)} GROUP BY order_id),
lead AS (
    SELECT f.detector AS detector, count() AS orders,
        countIf(f.order_id IN (SELECT order_id FROM bad)) AS ended_badly,
        quantileExactIf(0.5)(dateDiff('second', f.first_at, f.ends) / 86400, f.order_id IN (SELECT order_id FROM bad) AND f.ends IS NOT NULL) AS median_lead,
        quantileExactIf(0.1)(dateDiff('second', f.first_at, f.ends) / 86400, f.order_id IN (SELECT order_id FROM bad) AND f.ends IS NOT NULL) AS p10_lead,
        countIf(f.order_id IN (SELECT order_id FROM bad) AND f.ends IS NOT NULL AND f.first_at > f.ends) AS after_protection,
        countIf(f.order_id IN (SELECT order_id FROM bad) AND f.ends IS NOT NULL) AS with_deadline,
        countIf(l.last_at > f.first_at) AS later_dispute_or_refund
    FROM first AS f LEFT JOIN later AS l ON l.order_id = f.order_id GROUP BY f.detector
)
SELECT p.detector AS detector, min(p.alerts) AS min_per_step, median(p.alerts) AS median_per_step, max(p.alerts) AS max_per_step,
    any(l.orders) AS orders, any(l.ended_badly) AS ended_badly,
    if(any(l.with_deadline) > 0, any(l.median_lead), NULL) AS median_lead_days,
    if(any(l.with_deadline) > 0, any(l.p10_lead), NULL) AS p10_lead_days,
    any(l.after_protection) AS after_protection, any(l.later_dispute_or_refund) AS later_dispute_or_refund
FROM per_step AS p LEFT JOIN lead AS l ON l.detector = p.detector
GROUP BY p.detector ORDER BY p.detector{{end}}

{{define "first_alerts"}}SELECT detector, order_id, min(as_of) AS first_at, argMin(protection_ends_at, as_of) AS protection_ends_at FROM {{.DB}}.alert_history FINAL WHERE backtest_id = {id:String} GROUP BY detector, order_id ORDER BY detector, order_id{{end}}

-- Per detector, the orders (sellers, for a seller's alerts) a backtest flagged whose
-- live alert from the same detector an analyst closed as confirmed fake or as a false
-- positive ({{.Cases}}: the alerts' cases, alert.CaseSQL).
{{define "outcomes"}}SELECT h.detector AS detector,
    uniqExactIf((h.order_id, h.seller), c.outcome = 'confirmed_fake') AS confirmed_fake,
    uniqExactIf((h.order_id, h.seller), c.outcome = 'false_positive') AS false_positive
FROM (SELECT DISTINCT detector, order_id, {{template "history_seller"}} AS seller FROM {{.DB}}.alert_history WHERE backtest_id = {id:String}) AS h
INNER JOIN (SELECT alert_id, detector, order_id, {{template "history_seller"}} AS seller FROM {{.DB}}.alerts FINAL) AS a
    ON a.detector = h.detector AND a.order_id = h.order_id AND a.seller = h.seller
INNER JOIN ({{.Cases}}) AS c ON c.alert_id = a.alert_id
WHERE c.case_state = 'closed' AND c.outcome IN ('confirmed_fake', 'false_positive')
GROUP BY h.detector ORDER BY h.detector{{end}}

-- A comparison (backtest --vary), one row per value and detector.
{{define "keep_comparison"}}INSERT INTO {{.DB}}.backtest_comparisons (comparison_id, created_at, setting, value, setting_value, detector, backtest_id, from_date, to_date,
    step_seconds, steps, shared, min_per_step, median_per_step, max_per_step, orders, ended_badly, median_lead_days, p10_lead_days,
    after_protection, later_dispute_or_refund, confirmed_fake, false_positive){{end}}

-- The latest comparison kept.
{{define "last_comparison"}}SELECT comparison_id, created_at, setting, setting_value, detector, backtest_id, from_date, to_date, step_seconds, steps, shared,
    min_per_step, median_per_step, max_per_step, orders, ended_badly, median_lead_days, p10_lead_days, after_protection, later_dispute_or_refund, confirmed_fake, false_positive
FROM {{.DB}}.backtest_comparisons FINAL
WHERE comparison_id = (SELECT argMax(comparison_id, created_at) FROM {{.DB}}.backtest_comparisons)
ORDER BY value, detector{{end}}
