-- seller_valid_tracking_rate: a seller whose valid tracking rate is below target. The
-- rate is the workspace's (lookup's sellers.sql reads the same valid_scan): of the
-- orders the seller shipped in the last {seller_vtr_window_days} days and at least
-- {seller_vtr_scan_days} days ago (latest shipment wins), the share whose number had a
-- physical carrier scan from a day before to {seller_vtr_scan_days} days after the
-- shipment (Amazon's Valid Tracking Rate: at least one physical scan). A seller with
-- fewer than {seller_vtr_min_orders} such orders is not judged. Every setting per
-- marketplace (th with no carrier: a seller's rate spans its carriers).
--
-- A detector of sellers, not orders: it is no part of the candidates. A run over every
-- order, and the first scoped run of each hour, evaluates every seller in a stage of
-- its own (sellers.go: a seller's rate moves with any of its orders, and by time alone
-- as orders enter and leave the window), and findings.sql adds its rows: no order id, no tracking number, the seller
-- and marketplace. On a cluster, shard 0 evaluates the sellers for the whole cluster:
-- the orders are on every node, the scans read through the Distributed tables.

-- valid_scan: whether a shipped order's number counts as valid: one of its physical
-- scans (an array of times) from a day before to ScanDays after the shipment. Shared
-- with the workspace's seller figures (detect.ValidScanSQL), so both agree.
{{define "valid_scan"}}arrayExists(x -> x >= {{.Shipped}} - toIntervalDay(1) AND x <= {{.Shipped}} + toIntervalDay({{.ScanDays}}), {{.Scans}}){{end}}

-- The longest window any marketplace has: no shipment before it is read.
{{define "window_max"}}greatest({seller_vtr_window_days:UInt16}, arrayMax(arrayConcat([toUInt16(0)], mapValues({seller_vtr_window_days_by_marketplace:Map(String, UInt16)})))){{end}}

{{define "target"}}if(mapContains({seller_vtr_target_by_marketplace:Map(String, Float64)}, marketplace), {seller_vtr_target_by_marketplace:Map(String, Float64)}[marketplace], {seller_vtr_target:Float64}){{end}}

-- Every order shipped in its marketplace's window (latest shipment up to the moment
-- wins), with the seller and number of that shipment.
{{define "seller_orders"}}CREATE TEMPORARY TABLE {{.SellerOrders}} ENGINE = Memory AS
SELECT order_id, seller_id, marketplace, tracking_number, shipped_at,
    {{th "seller_vtr_window_days" "''" "marketplace"}} AS window_days, {{th "seller_vtr_scan_days" "''" "marketplace"}} AS scan_days
FROM (
    SELECT order_id, argMax(seller_id, occurred_at) AS seller_id, argMax(marketplace, occurred_at) AS marketplace,
        argMax(tracking_number, occurred_at) AS tracking_number, max(occurred_at) AS shipped_at
    FROM {{.DB}}.order_events
    WHERE status = 'shipped' AND occurred_at <= {as_of:DateTime64(3, 'UTC')}
      AND occurred_at >= {as_of:DateTime64(3, 'UTC')} - toIntervalDay({{template "window_max"}})
    GROUP BY order_id
)
WHERE seller_id != '' AND shipped_at >= {as_of:DateTime64(3, 'UTC')} - toIntervalDay(window_days)
  AND shipped_at <= {as_of:DateTime64(3, 'UTC')} - toIntervalDay(scan_days){{if .Skip}} AND 0{{end}}{{end}}

-- The sellers below target, as findings (the columns of findings.sql, in its order).
{{define "sellers"}}CREATE TEMPORARY TABLE {{.Sellers}} ENGINE = Memory AS
SELECT
    '{{.Name}}' AS detector, '' AS order_id, '' AS tracking_number, s.seller_id AS seller_id, '' AS buyer_id, s.marketplace AS marketplace,
    -- by how far below target: 30 points or more critical, 15 high, 5 medium, less low
    multiIf(s.target - s.rate >= 0.30, 'critical', s.target - s.rate >= 0.15, 'high', s.target - s.rate >= 0.05, 'medium', 'low') AS severity,
    'review_seller' AS recommendation,
    mapFilter((lang, text) -> has({reason_languages:Array(String)}, lang), map(
        'en', format('Seller {} has a valid tracking rate of {}% on {}: {} of its {} orders shipped from {} to {} had no physical carrier scan within {} days of shipment (target {}%). Review the seller and its open orders.',
            s.seller_id, toString(round(s.rate * 100, 1)), s.marketplace, toString(s.shipped - s.valid), toString(s.shipped),
            toString(s.window_from), toString(s.window_to), toString(s.scan_days), toString(round(s.target * 100, 1))),
        'ja', format('販売者{}の{}での有効追跡率は{}%です。{}から{}までに発送された{}件の注文のうち{}件は、発送から{}日以内に配送業者の実物スキャンがありませんでした(目標{}%)。販売者と未完了の注文を確認してください。',
            s.seller_id, s.marketplace, toString(round(s.rate * 100, 1)), toString(s.window_from), toString(s.window_to),
            toString(s.shipped), toString(s.shipped - s.valid), toString(s.scan_days), toString(round(s.target * 100, 1))))) AS reasons,
    reasons[{reason_languages:Array(String)}[1]] AS reason,
    concat('{"valid_tracking_rate":', toString(round(s.rate, 4)), ',"target":', toString(s.target),
        ',"window_days":', toString(s.window_days), ',"scan_days":', toString(s.scan_days),
        ',"shipped_from":', toJSONString(toString(s.window_from)), ',"shipped_to":', toJSONString(toString(s.window_to)),
        ',"min_orders":', toString(s.min_orders), ',"shipped":', toString(s.shipped), ',"valid":', toString(s.valid),
        ',"without_scan":', toString(s.shipped - s.valid),
        ',"orders_without_scan":', toJSONString(arraySlice(s.unscanned, 1, {{.MaxListed}})),
        ',"orders_with_firing_alerts":', toJSONString(arraySlice(ifNull(a.orders, []), 1, {{.MaxListed}})),
        ',"firing_alerts":', toString(ifNull(a.alerts, 0)), '}') AS evidence,
    CAST(NULL, 'Nullable(DateTime64(3, \'UTC\'))') AS protection_ends_at,
    CAST(NULL, 'Nullable(Decimal(18, 4))') AS amount
FROM (
    SELECT seller_id, marketplace, count() AS shipped, countIf(is_valid) AS valid, valid / shipped AS rate,
        any(wd) AS window_days, any(sd) AS scan_days,
        toDate({as_of:DateTime64(3, 'UTC')} - toIntervalDay(window_days)) AS window_from,
        toDate({as_of:DateTime64(3, 'UTC')} - toIntervalDay(scan_days)) AS window_to,
        {{th "seller_vtr_min_orders" "''" "marketplace"}} AS min_orders, {{template "target"}} AS target,
        arraySort(groupArrayIf(order_id, NOT is_valid)) AS unscanned
    FROM (
        SELECT o.order_id AS order_id, o.seller_id AS seller_id, o.marketplace AS marketplace, o.window_days AS wd,
            o.scan_days AS sd, {{template "valid_scan" .ValidScan}} AS is_valid
        FROM {{.SellerOrders}} AS o
        LEFT JOIN (
            SELECT tracking_number, groupArray(occurred_at) AS scans FROM {{.Cluster}}.tracking_events
            WHERE {{if .Skip}}0 AND {{end}}physical = 1 AND occurred_at <= {as_of:DateTime64(3, 'UTC')}
              AND occurred_at >= {as_of:DateTime64(3, 'UTC')} - toIntervalDay({{template "window_max"}} + 1)
              AND tracking_number GLOBAL IN (SELECT tracking_number FROM {{.SellerOrders}} WHERE tracking_number != '')
            GROUP BY tracking_number
        ) AS t ON t.tracking_number = o.tracking_number
    )
    GROUP BY seller_id, marketplace
    HAVING shipped >= min_orders AND rate < target
) AS s
LEFT JOIN (
    -- the seller's orders with firing alerts (of the order detectors), as recorded
    SELECT seller_id, marketplace, count() AS alerts, arraySort(groupUniqArray(order_id)) AS orders
    FROM {{.Cluster}}.alerts FINAL
    WHERE {{if .Skip}}0 AND {{end}}status = 'firing' AND order_id != '' AND first_detected_at <= {as_of:DateTime64(3, 'UTC')}
    GROUP BY seller_id, marketplace
) AS a ON a.seller_id = s.seller_id AND a.marketplace = s.marketplace
SETTINGS join_use_nulls = 1{{end}}
