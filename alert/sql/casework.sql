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
-- the ids of its actions (a case action has one id on every alert of the case); with
-- Narrow, of the alerts case_narrow_ids names only.
{{define "alert_case_acts"}}SELECT alert_id,
    multiIf(argMaxIf(action, at, action IN ('acknowledge', 'close', 'reopen')) = 'acknowledge', 'acknowledged',
            argMaxIf(action, at, action IN ('acknowledge', 'close', 'reopen')) = 'close', 'closed', 'open') AS case_state,
    argMaxIf(assignee, at, action = 'assign') AS assignee, maxIf(at, action = 'assign') AS assigned_at,
    argMaxIf(outcome, at, action = 'close') AS outcome, maxIf(at, action = 'close') AS closed_at,
    groupArray(action_id) AS action_ids
FROM {{.DB}}.alert_actions FINAL
{{- if .Narrow}} WHERE alert_id IN ({{template "case_narrow_ids" .}}){{end}}
GROUP BY alert_id{{end}}

-- A case's key: the columns an alert's case is grouped by (marketplace, order id, and
-- the seller id for an alert without an order); case_id_k is the case id of a key
-- (k_market, k_order, k_seller), the same as case_id of its alerts.
{{define "case_key"}}marketplace, order_id, if(order_id = '', seller_id, ''){{end}}
{{define "case_id_k"}}lower(hex(substring(SHA256(if(k_order != '', concat('order', '\0', k_market, '\0', k_order),
    concat('seller', '\0', k_market, '\0', k_seller))), 1, 16))){{end}}

-- The key of the case whose id is {id:String} (no row: no such case).
{{define "case_key_of"}}
SELECT marketplace AS k_market, order_id AS k_order, if(order_id = '', seller_id, '') AS k_seller FROM {{.DB}}.alerts
WHERE {{template "case_id"}} = {id:String} LIMIT 1
{{end}}

-- The filters of a query of cases on its alerts (Narrow): the alerts of the cases that
-- have an alert matching the filters set (Keys: the cases of the keys km, ko, ks, arrays
-- of one case each; Marketplace, ...; LinkedTo: an alert carrying a number of the case
-- of key_market, key_order, key_seller). A case's identity columns never change, so the
-- narrowing reads alerts without FINAL, and a reader of alerts FINAL narrows as PREWHERE
-- (case_narrow): before the merge, which keeps every row of each alert it keeps. Keys
-- names the cases themselves; the other filters first find the cases, then their alerts.
{{define "case_narrow_ids"}}SELECT alert_id FROM {{.DB}}.alerts WHERE {{template "case_narrow_where" .}}{{end}}
{{define "case_narrow_where"}}
    {{- if .Keys}} order_id IN {ko:Array(String)} AND ({{template "case_key"}}) IN (SELECT t.1, t.2, t.3 FROM (SELECT arrayJoin(arrayZip({km:Array(String)}, {ko:Array(String)}, {ks:Array(String)})) AS t))
    {{- else}} ({{template "case_key"}}) IN (SELECT {{template "case_key"}} FROM {{.DB}}.alerts WHERE 1
        {{- if .Marketplace}} AND marketplace = {marketplace:String}{{end}}
        {{- if .SellerID}} AND seller_id = {seller_id:String}{{end}}
        {{- if .BuyerID}} AND buyer_id = {buyer_id:String}{{end}}
        {{- if .OrderID}} AND order_id = {order_id:String}{{end}}
        {{- if .TrackingNumber}} AND tracking_number = {tracking_number:String}{{end}}
        {{- if .LinkedTo}} AND tracking_number IN (SELECT tracking_number FROM {{.DB}}.alerts WHERE tracking_number != ''
            AND marketplace = {key_market:String} AND order_id = {key_order:String} AND if(order_id = '', seller_id, '') = {key_seller:String}){{end}})
    {{- end}}{{end}}
{{define "case_narrow"}}{{if .Narrow}}
    PREWHERE {{template "case_narrow_where" .}}{{end}}{{end}}

-- The alerts whose latest acknowledge, close or reopen is a close (closed_alerts), or an
-- acknowledge or a close (handled_alerts): alert_case_acts' states, as sets. An action
-- recorded twice is one row twice (same moment, same action), so they need no FINAL.
{{define "closed_alerts"}}SELECT alert_id FROM {{.DB}}.alert_actions WHERE action IN ('acknowledge', 'close', 'reopen')
    GROUP BY alert_id HAVING argMax(action, at) = 'close'{{end}}
{{define "handled_alerts"}}SELECT alert_id FROM {{.DB}}.alert_actions WHERE action IN ('acknowledge', 'close', 'reopen')
    GROUP BY alert_id HAVING argMax(action, at) IN ('acknowledge', 'close'){{end}}

-- Each case's state from its alerts' actions (c: alert_case_acts joined to each alert
-- a): closed when every alert is closed, acknowledged when every one is acknowledged or
-- closed, open otherwise (a new alert reopens a closed case).
{{define "case_state"}}multiIf(countIf(ifNull(c.case_state, 'open') = 'closed') = count(), 'closed',
            countIf(ifNull(c.case_state, 'open') IN ('acknowledged', 'closed')) = count(), 'acknowledged', 'open'){{end}}

-- A case's strongest alert's severity and recommendation: the firing ones first (all,
-- once none fires), then severity, then the recommendation's strength, the rank of its
-- place in {recs:Array(String)} (weakest first).
{{define "strongest"}}(a.status = 'firing', indexOf(['low', 'medium', 'high', 'critical'], a.severity), indexOf({recs:Array(String)}, a.recommendation)){{end}}

-- A page of cases matching a CaseQuery: their keys and sort keys only (the page's cases
-- are read in full after, by key: case_rows), ties broken by the key (the case id, a
-- hash, is computed for the page's cases only). Each filter adds what it needs of the
-- case's alerts; rendered with caseQueryData, like query_keys. Every request groups
-- every alert, so the grouping reads alerts FINAL as they are (the detectors' latest
-- runs only for the recency sort), counts the case's closed and handled alerts from the
-- action sets (closed_alerts, handled_alerts: case_state's rule) only where a filter
-- needs them, and sorts on the columns' own types (k_amount, a decimal's text, is made
-- for the page's rows only).
-- Linked needs rings: the number of other cases sharing each tracking number that more
-- than one case carries.
{{define "case_keys"}}
{{- if .Linked}}
WITH (SELECT CAST((groupArray(tn), groupArray(others)), 'Map(String, UInt64)') FROM (
        SELECT tracking_number AS tn, uniqExact({{template "case_key"}}) - 1 AS others FROM {{.DB}}.alerts
        WHERE tracking_number != '' GROUP BY tn HAVING others > 0)) AS rings
{{- end}}
SELECT k_market, k_order, k_seller, k_urgency, toString(amount) AS k_amount, k_recency FROM (
SELECT k_market, k_order, k_seller,
    toInt64(toUnixTimestamp64Milli(ifNull(protection_ends_at, toDateTime64('2200-01-01 00:00:00', 3, 'UTC')))) AS k_urgency,
    ifNull(amount, toDecimal64(0, 4)) AS amount, {{if eq .Sort "recency"}}toInt64(toUnixTimestamp64Milli(last_detected_at)){{else}}toInt64(0){{end}} AS k_recency
FROM (
    SELECT marketplace AS k_market, order_id AS k_order, if(order_id = '', seller_id, '') AS k_seller, countIf(status = 'firing') AS firing,
        if(firing > 0, minIf(protection_ends_at, status = 'firing'), min(protection_ends_at)) AS protection_ends_at, max(amount) AS amount
        {{- if eq .Sort "recency"}}, greatest(max(last_detected_at), maxIf({{template "detector_latest" .}}[detector], status = 'firing')) AS last_detected_at{{end}}
        {{- if or .DetectedFrom .DetectedTo}}, min(first_detected_at) AS opened_at{{end}}
        {{- if or .NotClosed .Case}}, count() AS alerts, countIf(alert_id IN ({{template "closed_alerts" .}})) AS closed{{end}}
        {{- if .Case}}, countIf(alert_id IN ({{template "handled_alerts" .}})) AS handled{{end}}
        {{- if .Detector}}, countIf(detector = {detector:String}) AS with_detector{{end}}
        {{- if .Severity}}, argMax(severity, {{template "strongest"}}) AS severity{{end}}
        {{- if .Recommendation}}, argMax(recommendation, {{template "strongest"}}) AS recommendation{{end}}
        {{- if .MinSignals}}, count() AS signals{{end}}
        {{- if .Linked}}, toUInt64(arraySum(arrayMap(n -> rings[n], groupUniqArrayIf(tracking_number, tracking_number != '')))) AS linked{{end}}
    FROM {{.DB}}.alerts AS a FINAL
    {{- template "case_narrow" .}}
    GROUP BY k_market, k_order, k_seller
)
WHERE 1
{{- if .Status}} AND if(firing > 0, 'firing', 'resolved') = {status:String}{{end}}
{{- if .NotClosed}} AND closed < alerts{{end}}
{{- if .Case}} AND multiIf(closed = alerts, 'closed', handled = alerts, 'acknowledged', 'open') = {case:String}{{end}}
{{- if .Detector}} AND with_detector > 0{{end}}
{{- if .Severity}} AND severity = {severity:String}{{end}}
{{- if .Recommendation}} AND recommendation = {recommendation:String}{{end}}
{{- if .MinSignals}} AND signals >= {min_signals:UInt64}{{end}}
{{- if .Linked}} AND linked > 0{{end}}
{{- if .DetectedFrom}} AND opened_at >= {detected_from:DateTime64(3, 'UTC')}{{end}}
{{- if .DetectedTo}} AND opened_at < {detected_to:DateTime64(3, 'UTC')}{{end}}
{{- if .ProtectionFrom}} AND protection_ends_at >= {protection_from:DateTime64(3, 'UTC')}{{end}}
{{- if .ProtectionTo}} AND protection_ends_at < {protection_to:DateTime64(3, 'UTC')}{{end}}
{{- if .Cursor}}{{if eq .Sort "recency"}} AND (k_recency < {ck:Int64} OR (k_recency = {ck:Int64} AND (k_market, k_order, k_seller) > ({cm:String}, {co:String}, {cs:String})))
{{- else}} AND (k_urgency > {ck:Int64} OR (k_urgency = {ck:Int64} AND (amount < toDecimal64({ca:String}, 4)
    OR (amount = toDecimal64({ca:String}, 4) AND (k_market, k_order, k_seller) > ({cm:String}, {co:String}, {cs:String})))))
{{- end}}{{end}}
ORDER BY {{if eq .Sort "recency"}}k_recency DESC{{else}}k_urgency ASC, amount DESC{{end}}, k_market, k_order, k_seller
LIMIT {limit:UInt32}
)
ORDER BY {{if eq .Sort "recency"}}k_recency DESC{{else}}k_urgency ASC, amount DESC{{end}}, k_market, k_order, k_seller
{{end}}

-- The cases of a page (Narrow and Keys) in full, with their case state and
-- actions (alert_case_acts); case_links, read after, counts their linked cases.
{{define "case_rows"}}
SELECT {{template "case_id_k"}} AS case_id, k_market AS marketplace, k_order AS order_id, any(a.seller_id) AS seller_id, any(a.buyer_id) AS buyer_id,
    arraySort(groupUniqArrayIf(a.tracking_number, a.tracking_number != '')) AS tracking_numbers,
    arraySort(groupUniqArray(a.detector)) AS detectors, count() AS signals, countIf(a.status = 'firing') AS firing,
    if(firing > 0, 'firing', 'resolved') AS status,
    argMax(a.severity, {{template "strongest"}}) AS severity, argMax(a.recommendation, {{template "strongest"}}) AS recommendation,
    min(a.first_detected_at) AS opened_at,
    greatest(max(a.last_detected_at), maxIf({{template "detector_latest" .}}[a.detector], a.status = 'firing')) AS last_detected_at,
    if(firing = 0, max(a.resolved_at), NULL) AS resolved_at,
    if(firing > 0, minIf(a.protection_ends_at, a.status = 'firing'), min(a.protection_ends_at)) AS protection_ends_at, max(a.amount) AS amount,
    {{template "case_state"}} AS case_state,
    argMax(ifNull(c.assignee, ''), ifNull(c.assigned_at, toDateTime64(0, 3, 'UTC'))) AS assignee,
    if(case_state = 'closed', argMax(ifNull(c.outcome, ''), ifNull(c.closed_at, toDateTime64(0, 3, 'UTC'))), '') AS outcome,
    toUInt64(length(arrayDistinct(arrayFlatten(groupArray(ifNull(c.action_ids, [])))))) AS actions
FROM (SELECT marketplace AS k_market, order_id AS k_order, if(order_id = '', seller_id, '') AS k_seller, alert_id, seller_id, buyer_id,
        tracking_number, detector, status, severity, recommendation, first_detected_at, last_detected_at, resolved_at, protection_ends_at, amount
    FROM {{.DB}}.alerts FINAL
    {{- template "case_narrow" .}}) AS a
LEFT JOIN ({{template "alert_case_acts" .}}) AS c ON c.alert_id = a.alert_id
GROUP BY k_market, k_order, k_seller
SETTINGS join_use_nulls = 1
{{end}}

-- How many cases carry each of the tracking numbers {tns:Array(String)}, where more than
-- one does (a case's Linked sums the others over its numbers: readCases).
{{define "case_links"}}
SELECT tracking_number AS tn, uniqExact({{template "case_key"}}) AS cases FROM {{.DB}}.alerts
WHERE tracking_number IN {tns:Array(String)} GROUP BY tn HAVING cases > 1
{{end}}

-- The keys of the cases that carry one of the tracking numbers {tns:Array(String)} (a
-- case's ring, with the case itself).
{{define "case_ring"}}
SELECT DISTINCT marketplace AS k_market, order_id AS k_order, if(order_id = '', seller_id, '') AS k_seller FROM {{.DB}}.alerts
WHERE tracking_number IN {tns:Array(String)}
{{end}}

-- The alerts of the case whose id is {id:String} in full, strongest first (none: no
-- such case).
{{define "case_alerts"}}
SELECT {{template "alert_columns"}} FROM {{template "current_alerts" .}}
WHERE alert_id IN (SELECT alert_id FROM {{.DB}}.alerts WHERE {{template "case_id"}} = {id:String})
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
