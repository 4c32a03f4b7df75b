-- The alert reads of query.go: a page of alerts (Query) and the overview (Stats). They
-- include common.sql's fragments current_alerts and cases.

-- An alert's columns in a list: not its evidence nor its reasons in every language (the
-- alert itself has them), which are most of its bytes and of the time it takes to read
-- a page.
{{define "query_columns"}}alert_id, detector, order_id, tracking_number, seller_id, buyer_id, marketplace, severity, recommendation, reason, protection_ends_at, amount, first_detected_at, last_detected_at, status, resolved_at, as_of{{end}}

-- The sort keys of a page of alerts matching a Query; the page's whole rows are read
-- after, by id (query_rows: reading evidence and reasons of every alert to sort them
-- would cost most of the query), and their cases (cases_of). Rendered with queryData:
-- each filter that is set adds its condition, its value a parameter named as in the
-- condition; the case filters test the alert against the action sets (casework.sql's
-- closed_alerts, handled_alerts: the cases fragment's rule); Sort is urgency
-- (protection ending soonest first, then the largest amount) or recency (latest
-- detection first: the detectors' latest runs are read for it only); Cursor continues
-- after the sort key ck, ca, ci.
{{define "query_keys"}}
SELECT alert_id, k_urgency, toString(amount) AS k_amount, k_recency FROM (
SELECT alert_id, toInt64(toUnixTimestamp64Milli(ifNull(protection_ends_at, toDateTime64('2200-01-01 00:00:00', 3, 'UTC')))) AS k_urgency,
    ifNull(amount, toDecimal64(0, 4)) AS amount, {{if eq .Sort "recency"}}toInt64(toUnixTimestamp64Milli(last_detected_at)){{else}}toInt64(0){{end}} AS k_recency
FROM {{if eq .Sort "recency"}}{{template "current_alerts" .}}{{else}}{{.DB}}.alerts FINAL{{end}}
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
{{- if .ProtectionTo}} AND protection_ends_at < {protection_to:DateTime64(3, 'UTC')}{{end}}
{{- if .NotClosed}} AND alert_id NOT IN ({{template "closed_alerts" .}}){{end}}
{{- if .Case}} AND multiIf(alert_id IN ({{template "closed_alerts" .}}), 'closed', alert_id IN ({{template "handled_alerts" .}}), 'acknowledged', 'open') = {case:String}{{end}}
{{- if .Cursor}}{{if eq .Sort "recency"}} AND (k_recency < {ck:Int64} OR (k_recency = {ck:Int64} AND alert_id > {ci:String}))
{{- else}} AND (k_urgency > {ck:Int64} OR (k_urgency = {ck:Int64} AND (amount < toDecimal64({ca:String}, 4) OR (amount = toDecimal64({ca:String}, 4) AND alert_id > {ci:String}))))
{{- end}}{{end}}
ORDER BY {{if eq .Sort "recency"}}k_recency DESC{{else}}k_urgency ASC, amount DESC{{end}}, alert_id ASC
LIMIT {limit:UInt32}
)
ORDER BY {{if eq .Sort "recency"}}k_recency DESC{{else}}k_urgency ASC, amount DESC{{end}}, alert_id ASC
{{end}}

-- The page's alerts (ids) in full, but for their evidence and reasons.
{{define "query_rows"}}
SELECT {{template "query_columns"}} FROM {{template "current_alerts" .}} WHERE alert_id IN {ids:Array(String)}
{{end}}

-- The cases of the alerts ids that someone acted on.
{{define "cases_of"}}
SELECT * FROM ({{template "cases" .}}) WHERE alert_id IN {ids:Array(String)}
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
