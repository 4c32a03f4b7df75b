-- Fragments the alert store's statements and its readers share.

-- The columns alerts and alert_changes share, in table order.
{{define "alert_columns"}}alert_id, detector, order_id, tracking_number, seller_id, buyer_id, marketplace, severity, recommendation, reason, reasons, evidence, protection_ends_at, amount, first_detected_at, last_detected_at, status, resolved_at, as_of{{end}}

-- Every alert's latest row (alerts FINAL), for readers: a firing alert was last detected
-- by its detector's latest run, later than the run that last rewrote it when nothing it
-- says has changed since.
{{define "current_alerts"}}(SELECT * REPLACE (if(status = 'firing', greatest(last_detected_at, {{template "detector_latest" .}}[detector]), last_detected_at) AS last_detected_at)
    FROM {{.DB}}.alerts FINAL){{end}}

-- Each detector's latest run (a map from the detector to its moment).
{{define "detector_latest"}}(SELECT CAST((groupArray(detector), groupArray(latest)), 'Map(String, DateTime64(3, \'UTC\'))')
        FROM (SELECT detector, max(as_of) AS latest FROM {{.DB}}.alert_runs GROUP BY detector)){{end}}

-- Each acted-on alert's case from its actions (alert_id, case_state, assignee, outcome,
-- actions): the latest acknowledge, close or reopen sets the state.
{{define "cases"}}SELECT alert_id,
    multiIf(argMaxIf(action, at, action IN ('acknowledge', 'close', 'reopen')) = 'acknowledge', 'acknowledged',
            argMaxIf(action, at, action IN ('acknowledge', 'close', 'reopen')) = 'close', 'closed', 'open') AS case_state,
    argMaxIf(assignee, at, action = 'assign') AS assignee,
    if(case_state = 'closed', argMaxIf(outcome, at, action = 'close'), '') AS outcome,
    count() AS actions
FROM {{.DB}}.alert_actions FINAL
GROUP BY alert_id{{end}}

-- An alert's id, from a finding: its detector, order and number; a seller's alert
-- (seller_valid_tracking_rate: no order, no number) from its detector, seller and
-- marketplace instead.
{{define "alert_id"}}lower(hex(if(order_id = '' AND tracking_number = '', sipHash128(detector, seller_id, marketplace), sipHash128(detector, order_id, tracking_number)))){{end}}
