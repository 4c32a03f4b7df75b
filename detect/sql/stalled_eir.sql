-- stalled_eir: the number's only carrier events are "electronic information received"
-- (a label, no physical scan), the first of them at least {stalled_days} days ago, and
-- the order is still only shipped. EIR that later moved is a slow seller: not flagged.
SELECT
    o.order_id, o.tracking_number, o.seller_id, o.buyer_id, o.marketplace,
    'high' AS severity,
    'open_dispute' AS recommendation,
    format('The seller provided tracking number {} on {}. Since {} the carrier has shown only electronic information (a shipping label, no physical scan) for it; after {} days the parcel has never moved. I request a full refund.',
        o.tracking_number, toString(toDate(o.shipped_at)), toString(toDate(t.first_event_at)),
        toString(dateDiff('day', t.first_event_at, {as_of:DateTime64(3, 'UTC')}))) AS reason,
    concat('{"first_event_at":', toJSONString(toString(t.first_event_at)), ',"carrier_events":', toString(t.events), ',"timeline":', toJSONString(t.timeline), '}') AS evidence,
    o.shipped_at + toIntervalDay(o.protection_days + o.protection_extended_days) AS protection_ends_at,
    o.amount
FROM orders AS o
INNER JOIN tracks AS t ON t.tracking_number = o.tracking_number
WHERE o.state = 'shipped'
  AND t.moving_events = 0
  AND t.first_event_at <= {as_of:DateTime64(3, 'UTC')} - toIntervalDay({{th "stalled_days" "o.carrier" "o.marketplace"}})
