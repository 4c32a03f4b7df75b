-- protection_expiry: buyer protection (shipment + protection_days + extensions) ends
-- within {expiry_window_days} days, and the order is not delivered to the buyer (not
-- delivered at all, or delivered elsewhere) nor confirmed, completed, cancelled or
-- refunded. A parcel that is moving gets "extend protection"; one that never moved or
-- was delivered elsewhere gets "open a dispute now". A delivered order needs nothing.
SELECT
    o.order_id, o.tracking_number, o.seller_id, o.buyer_id, o.marketplace,
    if(o.moving AND NOT o.delivered_elsewhere, 'medium', 'critical') AS severity,
    if(o.moving AND NOT o.delivered_elsewhere, 'extend_protection', 'open_dispute') AS recommendation,
    if(o.moving AND NOT o.delivered_elsewhere,
        format('Buyer protection for this order ends on {} and the parcel (tracking number {}) is still on its way (last carrier event {}). I ask to extend protection until it arrives.',
            toString(toDate(o.ends_at)), o.tracking_number, toString(o.last_event_at)),
        format('Buyer protection for this order ends on {}, and the parcel with tracking number {} {}. I request a full refund before protection ends.',
            toString(toDate(o.ends_at)), o.tracking_number,
            multiIf(o.delivered_elsewhere, 'was delivered to another address', o.events = 0, 'has no carrier record at all', 'has never moved (only electronic information)'))) AS reason,
    concat('{"protection_ends_at":', toJSONString(toString(o.ends_at)), ',"carrier_events":', toString(o.events),
        ',"moving":', if(o.moving, 'true', 'false'), ',"timeline":', toJSONString(o.timeline), '}') AS evidence,
    o.ends_at AS protection_ends_at,
    o.amount
FROM
(
    SELECT o.*, t.events AS events, t.last_event_at AS last_event_at, t.timeline AS timeline,
        t.moving_events > 0 AS moving,
        t.delivered AS carrier_delivered,
        t.delivered AND t.delivered_country != '' AND o.ship_to_country != '' AND t.delivered_country != o.ship_to_country AS delivered_elsewhere,
        o.shipped_at + toIntervalDay(o.protection_days + o.protection_extended_days) AS ends_at
    FROM orders AS o
    LEFT JOIN tracks AS t ON t.tracking_number = o.tracking_number
    WHERE o.state NOT IN ('delivered', 'confirmed', 'completed', 'cancelled', 'refunded')
) AS o
WHERE o.ends_at > {as_of:DateTime64(3, 'UTC')}
  AND o.ends_at <= {as_of:DateTime64(3, 'UTC')} + toIntervalDay({{th "expiry_window_days" "o.carrier" "o.marketplace"}})
  AND (NOT o.carrier_delivered OR o.delivered_elsewhere)
