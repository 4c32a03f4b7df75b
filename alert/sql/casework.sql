-- The cases of casework.go: every alert of one order (or, for an alert without an order,
-- of one seller) is one case. Cases are computed from the alerts and their actions, not
-- stored: a case action is recorded on each alert of the case (alert_actions, one
-- action_id on every row), so an alert's own case and the per-detector precision read
-- the same rows as before.

-- An alert row's case id: the first 16 bytes of the SHA-256 of "order", the marketplace
-- and the order id (NUL-separated), in hex; for an alert without an order, of "seller",
-- the marketplace and the seller id. alert.CaseID computes the same in Go.
{{define "case_id"}}lower(hex(substring(SHA256(if(order_id != '', concat('order', '\0', marketplace, '\0', order_id),
    concat('seller', '\0', marketplace, '\0', seller_id))), 1, 16))){{end}}

-- Each acted-on alert's case state, with the moments of its latest assign and close and
-- the ids of its actions (a case action has one id on every alert of the case).
{{define "alert_case_acts"}}SELECT alert_id,
    multiIf(argMaxIf(action, at, action IN ('acknowledge', 'close', 'reopen')) = 'acknowledge', 'acknowledged',
            argMaxIf(action, at, action IN ('acknowledge', 'close', 'reopen')) = 'close', 'closed', 'open') AS case_state,
    argMaxIf(assignee, at, action = 'assign') AS assignee, maxIf(at, action = 'assign') AS assigned_at,
    argMaxIf(outcome, at, action = 'close') AS outcome, maxIf(at, action = 'close') AS closed_at,
    groupArray(action_id) AS action_ids
FROM {{.DB}}.alert_actions FINAL
GROUP BY alert_id{{end}}

-- Every case (the alerts of current_alerts grouped by case id), with the case state its
-- alerts' actions give it: closed when every alert is closed, acknowledged when every one
-- is acknowledged or closed, open otherwise (a new alert reopens a closed case). The
-- case's severity and recommendation are its strongest firing alert's (of all, once
-- none fires): severity first, then the recommendation's strength, the rank of its
-- place in {recs:Array(String)} (weakest first). Narrow keeps the cases that have an
-- alert matching the filters set (CaseID, Marketplace, ..., LinkedTo: an alert carrying
-- a number of that case).
{{define "case_rows"}}
SELECT case_id, any(a.marketplace) AS marketplace, any(a.order_id) AS order_id, any(a.seller_id) AS seller_id, any(a.buyer_id) AS buyer_id,
    arraySort(groupUniqArrayIf(a.tracking_number, a.tracking_number != '')) AS tracking_numbers,
    arraySort(groupUniqArray(a.detector)) AS detectors, count() AS signals, countIf(a.status = 'firing') AS firing,
    if(firing > 0, 'firing', 'resolved') AS status,
    argMax(a.severity, (a.status = 'firing', indexOf(['low', 'medium', 'high', 'critical'], a.severity), indexOf({recs:Array(String)}, a.recommendation))) AS severity,
    argMax(a.recommendation, (a.status = 'firing', indexOf(['low', 'medium', 'high', 'critical'], a.severity), indexOf({recs:Array(String)}, a.recommendation))) AS recommendation,
    min(a.first_detected_at) AS opened_at, max(a.last_detected_at) AS last_detected_at,
    if(firing = 0, max(a.resolved_at), NULL) AS resolved_at,
    if(firing > 0, minIf(a.protection_ends_at, a.status = 'firing'), min(a.protection_ends_at)) AS protection_ends_at, max(a.amount) AS amount,
    multiIf(countIf(ifNull(c.case_state, 'open') = 'closed') = count(), 'closed',
            countIf(ifNull(c.case_state, 'open') IN ('acknowledged', 'closed')) = count(), 'acknowledged', 'open') AS case_state,
    argMax(ifNull(c.assignee, ''), ifNull(c.assigned_at, toDateTime64(0, 3, 'UTC'))) AS assignee,
    if(case_state = 'closed', argMax(ifNull(c.outcome, ''), ifNull(c.closed_at, toDateTime64(0, 3, 'UTC'))), '') AS outcome,
    toUInt64(length(arrayDistinct(arrayFlatten(groupArray(ifNull(c.action_ids, [])))))) AS actions
FROM (SELECT {{template "case_id"}} AS case_id, alert_id, marketplace, order_id, seller_id, buyer_id, tracking_number, detector, status,
        severity, recommendation, first_detected_at, last_detected_at, resolved_at, protection_ends_at, amount
    FROM {{template "current_alerts" .}}) AS a
LEFT JOIN ({{template "alert_case_acts" .}}) AS c ON c.alert_id = a.alert_id
{{- if .Narrow}}
WHERE case_id IN (SELECT {{template "case_id"}} FROM {{.DB}}.alerts FINAL WHERE 1
    {{- if .CaseID}} AND {{template "case_id"}} = {case_id:String}{{end}}
    {{- if .Marketplace}} AND marketplace = {marketplace:String}{{end}}
    {{- if .SellerID}} AND seller_id = {seller_id:String}{{end}}
    {{- if .BuyerID}} AND buyer_id = {buyer_id:String}{{end}}
    {{- if .OrderID}} AND order_id = {order_id:String}{{end}}
    {{- if .TrackingNumber}} AND tracking_number = {tracking_number:String}{{end}}
    {{- if .LinkedTo}} AND tracking_number IN (SELECT tracking_number FROM {{.DB}}.alerts FINAL
        WHERE tracking_number != '' AND {{template "case_id"}} = {linked_to:String}){{end}})
{{- end}}
GROUP BY case_id
SETTINGS join_use_nulls = 1
{{end}}

-- A page of cases matching a CaseQuery, with how many other cases share a tracking
-- number with each (linked). Rendered with caseQueryData, like query_keys.
{{define "case_query"}}
SELECT * FROM (
    SELECT r.*, toUInt64(ifNull(l.linked, 0)) AS linked,
        toInt64(toUnixTimestamp64Milli(ifNull(r.protection_ends_at, toDateTime64('2200-01-01 00:00:00', 3, 'UTC')))) AS k_urgency,
        toString(ifNull(r.amount, toDecimal64(0, 4))) AS k_amount, toInt64(toUnixTimestamp64Milli(r.last_detected_at)) AS k_recency
    FROM ({{template "case_rows" .}}) AS r
    LEFT JOIN (
        -- per case, the other cases that carry one of its numbers
        SELECT p.case_id AS case_id, uniqExact(q.case_id) AS linked
        FROM (SELECT DISTINCT {{template "case_id"}} AS case_id, tracking_number FROM {{.DB}}.alerts FINAL WHERE tracking_number != '') AS p
        INNER JOIN (SELECT DISTINCT {{template "case_id"}} AS case_id, tracking_number FROM {{.DB}}.alerts FINAL WHERE tracking_number != '') AS q
            ON q.tracking_number = p.tracking_number
        WHERE q.case_id != p.case_id
        GROUP BY p.case_id
    ) AS l ON l.case_id = r.case_id
    SETTINGS join_use_nulls = 1
)
WHERE 1
{{- if .Status}} AND status = {status:String}{{end}}
{{- if .NotClosed}} AND case_state != 'closed'{{end}}
{{- if .Case}} AND case_state = {case:String}{{end}}
{{- if .Detector}} AND has(detectors, {detector:String}){{end}}
{{- if .Severity}} AND severity = {severity:String}{{end}}
{{- if .Recommendation}} AND recommendation = {recommendation:String}{{end}}
{{- if .MinSignals}} AND signals >= {min_signals:UInt64}{{end}}
{{- if .Linked}} AND linked > 0{{end}}
{{- if .DetectedFrom}} AND opened_at >= {detected_from:DateTime64(3, 'UTC')}{{end}}
{{- if .DetectedTo}} AND opened_at < {detected_to:DateTime64(3, 'UTC')}{{end}}
{{- if .ProtectionFrom}} AND protection_ends_at >= {protection_from:DateTime64(3, 'UTC')}{{end}}
{{- if .ProtectionTo}} AND protection_ends_at < {protection_to:DateTime64(3, 'UTC')}{{end}}
{{- if .Cursor}}{{if eq .Sort "recency"}} AND (k_recency < {ck:Int64} OR (k_recency = {ck:Int64} AND case_id > {ci:String}))
{{- else}} AND (k_urgency > {ck:Int64} OR (k_urgency = {ck:Int64} AND (toDecimal64(k_amount, 4) < toDecimal64({ca:String}, 4) OR (k_amount = {ca:String} AND case_id > {ci:String}))))
{{- end}}{{end}}
ORDER BY {{if eq .Sort "recency"}}k_recency DESC, case_id ASC{{else}}k_urgency ASC, toDecimal64(k_amount, 4) DESC, case_id ASC{{end}}
LIMIT {limit:UInt32}
{{end}}

-- The alerts of one case (id) in full.
{{define "case_alerts"}}
SELECT {{template "alert_columns"}} FROM {{template "current_alerts" .}} WHERE {{template "case_id"}} = {id:String}
ORDER BY status = 'firing' DESC, indexOf(['low', 'medium', 'high', 'critical'], severity) DESC, indexOf({recs:Array(String)}, recommendation) DESC, detector, alert_id
{{end}}

-- A case's actions: one row per case action (one action_id on every alert it was
-- recorded on), and an action on one alert alone, oldest first.
{{define "case_history"}}
SELECT action_id, any(x.alert_id) AS alert_id, any(x.action) AS action, any(x.actor) AS actor, any(x.assignee) AS assignee,
    any(x.outcome) AS outcome, any(x.comment) AS comment, min(x.at) AS at
FROM (SELECT * FROM {{.DB}}.alert_actions FINAL WHERE alert_id IN {ids:Array(String)}) AS x
GROUP BY action_id ORDER BY at, action_id
{{end}}

-- Records one case action on each of the case's alerts (ids), under one action id.
{{define "case_act_all"}}
INSERT INTO {{.DB}}.alert_actions (action_id, alert_id, action, actor, assignee, outcome, comment, at)
SELECT {id:String}, arrayJoin({ids:Array(String)}), {action:String}, {actor:String}, {assignee:String}, {outcome:String}, {comment:String}, {at:DateTime64(3, 'UTC')}
{{end}}
