-- The alert reads of query.go: a page of alerts (Query) and the overview (Stats). They
-- include common.sql's fragments current_alerts and cases.

-- An alert's columns in a list: not its evidence nor its reasons in every language (the
-- alert itself has them), which are most of its bytes and of the time it takes to read
-- a page.
{{define "query_columns"}}alert_id, detector, order_id, tracking_number, seller_id, buyer_id, marketplace, severity, recommendation, reason, protection_ends_at, amount, first_detected_at, last_detected_at, status, resolved_at, as_of{{end}}

-- The sort keys of a page of alerts matching a Query, with their case; the page's whole
-- rows are read after, by id (query_rows: reading evidence and reasons of every alert to
-- sort them would cost most of the query). Rendered with queryData: each filter that is
-- set adds its condition, its value a parameter named as in the condition; Sort is
-- urgency (protection ending soonest first, then the largest amount) or recency (latest
-- detection first); Cursor continues after the sort key ck, ca, ci.
{{define "query_keys"}}
SELECT * FROM (
SELECT a.alert_id AS alert_id, ifNull(c.case_state, 'open') AS case_state, ifNull(c.assignee, '') AS assignee,
    ifNull(c.outcome, '') AS outcome, ifNull(c.actions, 0) AS actions,
    toInt64(toUnixTimestamp64Milli(ifNull(a.protection_ends_at, toDateTime64('2200-01-01 00:00:00', 3, 'UTC')))) AS k_urgency,
    toString(ifNull(a.amount, toDecimal64(0, 4))) AS k_amount, toInt64(toUnixTimestamp64Milli(a.last_detected_at)) AS k_recency
FROM (SELECT alert_id, protection_ends_at, amount, last_detected_at FROM {{template "current_alerts" .}}
    WHERE 1
    {{- if .Status}} AND status = {status:String}{{end}}
    {{- if .Detector}} AND detector = {detector:String}{{end}}
    {{- if .Severity}} AND severity = {severity:String}{{end}}
    {{- if .Recommendation}} AND recommendation = {recommendation:String}{{end}}
    {{- if .Marketplace}} AND marketplace = {marketplace:String}{{end}}
    {{- if .SellerID}} AND seller_id = {seller_id:String}{{end}}
    {{- if .BuyerID}} AND buyer_id = {buyer_id:String}{{end}}
    {{- if .OrderID}} AND order_id = {order_id:String}{{end}}
    {{- if .TrackingNumber}} AND tracking_number = {tracking_number:String}{{end}}
    {{- if .DetectedFrom}} AND first_detected_at >= {detected_from:DateTime64(3, 'UTC')}{{end}}
    {{- if .DetectedTo}} AND first_detected_at < {detected_to:DateTime64(3, 'UTC')}{{end}}
    {{- if .ProtectionFrom}} AND protection_ends_at >= {protection_from:DateTime64(3, 'UTC')}{{end}}
    {{- if .ProtectionTo}} AND protection_ends_at < {protection_to:DateTime64(3, 'UTC')}{{end}}) AS a
LEFT JOIN ({{template "cases" .}}) AS c ON c.alert_id = a.alert_id
SETTINGS join_use_nulls = 1
)
WHERE 1
{{- if .NotClosed}} AND case_state != 'closed'{{end}}
{{- if .Case}} AND case_state = {case:String}{{end}}
{{- if .Cursor}}{{if eq .Sort "recency"}} AND (k_recency < {ck:Int64} OR (k_recency = {ck:Int64} AND alert_id > {ci:String}))
{{- else}} AND (k_urgency > {ck:Int64} OR (k_urgency = {ck:Int64} AND (toDecimal64(k_amount, 4) < toDecimal64({ca:String}, 4) OR (k_amount = {ca:String} AND alert_id > {ci:String}))))
{{- end}}{{end}}
ORDER BY {{if eq .Sort "recency"}}k_recency DESC, alert_id ASC{{else}}k_urgency ASC, toDecimal64(k_amount, 4) DESC, alert_id ASC{{end}}
LIMIT {limit:UInt32}
{{end}}

-- The page's alerts (ids) in full, but for their evidence and reasons.
{{define "query_rows"}}
SELECT {{template "query_columns"}} FROM {{template "current_alerts" .}} WHERE alert_id IN {ids:Array(String)}
{{end}}

-- Alerts by the day they first fired, per detector, over the 30 days before now.
{{define "stats_by_detector_day"}}
SELECT toDate(first_detected_at) AS day, detector, count() AS alerts
FROM {{.DB}}.alerts FINAL WHERE first_detected_at >= {now:DateTime64(3, 'UTC')} - toIntervalDay(30)
GROUP BY day, detector ORDER BY day, detector
{{end}}

-- The firing alerts nobody closed (queue), those nobody acted on (untouched), and when
-- the oldest of those fired; and the same of cases (casework.sql): the firing cases not
-- closed (the queue of cases) and those with no action on any of their alerts. An alert
-- is closed when its latest state action is a close (closed_alerts).
{{define "stats_queue"}}
SELECT sum(c_queue) AS queue, sum(c_untouched) AS untouched, minIf(c_oldest, c_untouched > 0) AS oldest,
    countIf(firing > 0 AND closed < alerts) AS queue_cases, countIf(firing > 0 AND acted = 0) AS untouched_cases
FROM (
    SELECT countIf(status = 'firing' AND NOT is_closed) AS c_queue, countIf(status = 'firing' AND NOT is_acted) AS c_untouched,
        minIf(first_detected_at, status = 'firing' AND NOT is_acted) AS c_oldest,
        countIf(status = 'firing') AS firing, count() AS alerts, countIf(is_closed) AS closed, countIf(is_acted) AS acted
    FROM (SELECT marketplace, order_id, seller_id, status, first_detected_at,
            alert_id IN ({{template "closed_alerts" .}}) AS is_closed, alert_id IN (SELECT alert_id FROM {{.DB}}.alert_actions) AS is_acted
        FROM {{.DB}}.alerts FINAL)
    GROUP BY {{template "case_key"}}
)
{{end}}

-- Per detector, the closed cases confirmed fake among those closed as confirmed fake or
-- false positive.
{{define "stats_precision"}}
SELECT a.detector AS detector, countIf(c.outcome = 'confirmed_fake') AS confirmed_fake,
    countIf(c.outcome = 'false_positive') AS false_positive, confirmed_fake / greatest(1, confirmed_fake + false_positive) AS precision
FROM ({{template "cases" .}}) AS c INNER JOIN (SELECT alert_id, detector FROM {{.DB}}.alerts FINAL) AS a ON a.alert_id = c.alert_id
WHERE c.case_state = 'closed' AND c.outcome IN ('confirmed_fake', 'false_positive')
GROUP BY detector ORDER BY detector
{{end}}
