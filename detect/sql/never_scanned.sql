-- never_scanned: shipped, and the carrier has no event at all for the number after
-- {never_scanned_working_days} working days (Monday to Friday) since the declared
-- shipment: the marketplace's own definition of a false shipment.
SELECT
    o.order_id, o.tracking_number, o.seller_id, o.buyer_id, o.marketplace,
    'high' AS severity,
    'open_dispute' AS recommendation,
    format('The seller marked the order shipped on {} with tracking number {}, but the carrier has no information at all for this number {} working days later. I request a full refund.',
        toString(toDate(o.shipped_at)), o.tracking_number, toString(o.working_days)) AS reason,
    concat('{"declared_carrier":', toJSONString(o.carrier), ',"shipped_at":', toJSONString(toString(o.shipped_at)), ',"working_days_without_events":', toString(o.working_days), ',"timeline":[]}') AS evidence,
    o.shipped_at + toIntervalDay(o.protection_days + o.protection_extended_days) AS protection_ends_at,
    o.amount
FROM
(
    SELECT *,
        -- working days after the shipment date, up to and including the as-of date
        length(arrayFilter(d -> toDayOfWeek(d) < 6,
            arrayMap(i -> toDate(shipped_at) + toIntervalDay(i + 1),
                range(toUInt32(greatest(0, dateDiff('day', toDate(shipped_at), toDate({as_of:DateTime64(3, 'UTC')})))))))) AS working_days
    FROM orders
    WHERE state = 'shipped'
) AS o
LEFT ANTI JOIN tracks AS t ON t.tracking_number = o.tracking_number
WHERE o.working_days >= {{th "never_scanned_working_days" "o.carrier" "o.marketplace"}}
