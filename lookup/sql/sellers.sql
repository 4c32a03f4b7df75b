-- Sellers' figures (Sellers): valid tracking rates from the event tables, alerts and
-- cases from the alert store. Values are parameters: seller ('' for every seller), from
-- and to (the window), scan_days, limit.

-- Every order shipped in the window (latest shipment wins) with whether its number had a
-- physical scan from a day before to scan_days after the shipment: the Valid Tracking
-- Rate's definition, the same as the seller_valid_tracking_rate detector's.
{{define "shipped"}}SELECT o.last_seller AS seller_id, o.order_id AS order_id, o.shipped_at AS shipped_at,
    -- the definition seller_valid_tracking_rate reads (detect.ValidScanSQL)
    {{validScan "o.shipped_at" "{scan_days:UInt16}" "ifNull(t.scans, [])"}} AS valid
FROM (
    SELECT order_id, argMax(seller_id, occurred_at) AS last_seller, argMaxIf(tracking_number, occurred_at, status = 'shipped') AS tn,
        maxIf(occurred_at, status = 'shipped') AS shipped_at
    FROM {{.DB}}.order_events
    WHERE ({seller:String} = '' OR seller_id = {seller:String}) AND occurred_at < {to:DateTime64(3, 'UTC')}
    GROUP BY order_id
    HAVING countIf(status = 'shipped') > 0 AND shipped_at >= {from:DateTime64(3, 'UTC')}
       AND shipped_at <= {to:DateTime64(3, 'UTC')} - toIntervalDay({scan_days:UInt16})
) AS o
LEFT JOIN (
    SELECT tracking_number, groupArray(occurred_at) AS scans FROM {{.DB}}.tracking_events
    WHERE physical AND occurred_at >= {from:DateTime64(3, 'UTC')} - toIntervalDay(1)
      -- one seller: only its numbers (the table is sorted by number, so this reads little)
      AND ({seller:String} = '' OR tracking_number IN (
          SELECT tracking_number FROM {{.DB}}.order_events WHERE seller_id = {seller:String} AND status = 'shipped'))
    GROUP BY tracking_number
) AS t ON t.tracking_number = o.tn
SETTINGS join_use_nulls = 1{{end}}

-- Every seller's figures (or one's), sorted by .Sort, one of a fixed list: vtr (lowest
-- valid tracking rate first), money (most at stake first), alerts (most firing first).
{{define "sellers"}}
SELECT seller_id, ifNull(v.shipped, 0) AS shipped, ifNull(v.valid, 0) AS valid,
    if(shipped = 0, 1, valid / shipped) AS vtr, ifNull(a.firing, 0) AS firing, ifNull(a.by_detector, map()) AS by_detector,
    ifNull(a.confirmed, 0) AS confirmed, ifNull(a.disputes, 0) AS disputes, ifNull(a.money, toDecimal128(0, 4)) AS money
FROM (SELECT seller_id, count() AS shipped, countIf(valid) AS valid FROM ({{template "shipped" .}}) GROUP BY seller_id) AS v
FULL OUTER JOIN (
    SELECT al.seller_id AS seller_id, countIf(al.status = 'firing') AS firing,
        sumMap(map(al.detector, toUInt64(al.status = 'firing'))) AS by_detector,
        countIf(c.outcome = 'confirmed_fake') AS confirmed,
        countIf(al.status = 'firing' AND al.recommendation = 'open_dispute') AS disputes,
        toDecimal128(sumIf(ifNull(al.amount, 0), al.status = 'firing'), 4) AS money
    FROM (SELECT * FROM {{.DB}}.alerts FINAL WHERE {seller:String} = '' OR seller_id = {seller:String}) AS al
    LEFT JOIN ({{alertCases .DB}}) AS c ON c.alert_id = al.alert_id
    GROUP BY al.seller_id
) AS a USING seller_id
ORDER BY {{if eq .Sort "money"}}money DESC{{else if eq .Sort "alerts"}}firing DESC{{else}}vtr ASC, shipped DESC{{end}}, seller_id LIMIT {limit:UInt32}
SETTINGS join_use_nulls = 1
{{end}}

-- One seller's shipped orders, oldest shipment first.
{{define "seller_orders"}}
SELECT shipped_at, valid FROM ({{template "shipped" .}}) ORDER BY shipped_at
{{end}}

-- One seller's alerts, with their cases' outcomes.
{{define "seller_alerts"}}
SELECT a.detector AS detector, a.status AS status, a.recommendation AS recommendation,
    a.amount AS amount, ifNull(c.outcome, '') AS outcome
FROM (SELECT alert_id, detector, status, recommendation, amount FROM {{.DB}}.alerts FINAL WHERE seller_id = {seller:String}) AS a
LEFT JOIN ({{alertCases .DB}}) AS c ON c.alert_id = a.alert_id
SETTINGS join_use_nulls = 1
{{end}}
