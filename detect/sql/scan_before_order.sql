-- scan_before_order: the carrier's first event for the number came more than
-- {scan_before_order_slack_days} days before the order was placed, so the number belongs
-- to another parcel. Only events within {recycle_months} months before the order count:
-- carriers reissue numbers, and an old parcel's history is not this order's.
SELECT
    o.order_id, o.tracking_number, o.seller_id, o.buyer_id, o.marketplace,
    'high' AS severity,
    'open_dispute' AS recommendation,
    format('I placed this order on {}, but the carrier''s first record for tracking number {} is from {}, before the order existed. The number belongs to another parcel, not to my order. I request a full refund.',
        toString(toDate(o.placed_at)), o.tracking_number, toString(o.first_relevant)) AS reason,
    concat('{"placed_at":', toJSONString(toString(o.placed_at)), ',"first_carrier_event_at":', toJSONString(toString(o.first_relevant)), ',"timeline":', toJSONString(o.timeline), '}') AS evidence,
    o.shipped_at + toIntervalDay(o.protection_days + o.protection_extended_days) AS protection_ends_at,
    o.amount
FROM
(
    SELECT o.*, t.timeline AS timeline,
        arrayMin(arrayFilter(x -> x >= o.placed_at - toIntervalMonth({{th "recycle_months" "o.carrier" "o.marketplace"}}), t.times)) AS first_relevant,
        length(arrayFilter(x -> x >= o.placed_at - toIntervalMonth({{th "recycle_months" "o.carrier" "o.marketplace"}}), t.times)) AS relevant_events
    FROM orders AS o
    INNER JOIN tracks AS t ON t.tracking_number = o.tracking_number
    WHERE o.state NOT IN ('confirmed', 'completed', 'cancelled', 'refunded')
      AND o.placed_at > toDateTime64('1970-01-02', 3, 'UTC')
) AS o
WHERE o.relevant_events > 0
  AND o.first_relevant < o.placed_at - toIntervalDay({{th "scan_before_order_slack_days" "o.carrier" "o.marketplace"}})
