-- Each shipped order's state (and each order with a cancellation request or a refund
-- approval, shipped or not) as of {as_of}: only events that occurred at or before it
-- count, the latest winning (between events at the same millisecond, the greatest
-- values). With .Summaries the stored monthly summaries (order_months, kept at insert)
-- stand for every month row that lies wholly before the moment, and only the rows that
-- cross it are summarised again from their events; without, every event is. Both read
-- the same packed columns, so both give the same result. A scoped run (.Scoped) reads
-- the orders of its scope only, from its copy of their rows of order_months (merged).
SELECT
    order_id,
    max(latest) AS l, max(shipped) AS s, max(ship_to) AS st, max(protection) AS p, max(extension) AS x, max(amount_at) AS a,
    splitByChar('\x1f', l)[2] AS state,
    splitByChar('\x1f', l)[3] AS marketplace,
    splitByChar('\x1f', l)[4] AS seller_id,
    splitByChar('\x1f', l)[5] AS buyer_id,
    splitByChar('\x1f', s)[2] AS tracking_number,
    splitByChar('\x1f', s)[3] AS carrier,
    ifNull(min(placed_at), toDateTime64(0, 3, 'UTC')) AS placed_at,
    fromUnixTimestamp64Milli(toInt64OrZero(substring(s, 1, 15)), 'UTC') AS shipped_at,
    splitByChar('\x1f', st)[2] AS ship_to_country,
    splitByChar('\x1f', st)[3] AS ship_to_postal,
    splitByChar('\x1f', st)[4] AS ship_to_city,
    toUInt16OrNull(splitByChar('\x1f', p)[2]) AS protection_days_given,
    ifNull(toUInt16OrNull(splitByChar('\x1f', x)[2]), 0) AS protection_extended_days,
    toDecimal64OrNull(splitByChar('\x1f', a)[2], 4) AS amount,
    -- whether the journey detectors follow the order, shipped or not (its journey is
    -- read apart, for the few orders that have one: order_journey.sql)
    max(cancel_requested_at IS NOT NULL OR refund_approved_at IS NOT NULL) AS followed
FROM
(
{{- if .Summaries}}
    SELECT * FROM {{if .Scoped}}{{.ScopeOrderMonths}}{{else}}{{.DB}}.order_months FINAL{{end}}
    WHERE {{shard "order_id"}} AND month <= toStartOfMonth({as_of:DateTime64(3, 'UTC')}) AND last_event_at <= {as_of:DateTime64(3, 'UTC')}
    UNION ALL
{{- end}}
    {{order_month_states (printf "%s.order_events" .DB) (order_events_where .Summaries .DB .Scoped)}}
)
GROUP BY order_id
-- shipped orders, and those whose cancellation or refund the journey detectors follow,
-- of this run's shard (detect.Shard: the latest number's; an order never shipped, the
-- shard of no number)
HAVING (s != '' OR followed) AND cityHash64(tracking_number) % {shard_count:UInt32} = {shard_index:UInt32}
