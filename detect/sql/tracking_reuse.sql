-- tracking_reuse: the number is also on other orders shipped within {recycle_months}
-- months that go to a different address or a different buyer. One buyer's several orders
-- in one combined parcel (same buyer, same address) is normal; a number reissued after
-- the recycle window is not reuse.
SELECT
    o.order_id, o.tracking_number, o.seller_id, o.buyer_id, o.marketplace,
    'high' AS severity,
    'open_dispute' AS recommendation,
    format('The seller gave tracking number {} for my order, but the same number was also given for {} other order(s) ({}) going to other buyers or addresses. One parcel cannot be delivered to different addresses; my order was not shipped with this number. I request a full refund.',
        o.tracking_number, toString(length(r.others)), arrayStringConcat(arraySlice(r.others, 1, 10), ', ')) AS reason,
    concat('{"other_orders":', toJSONString(r.others), ',"ship_to":{"country":', toJSONString(o.ship_to_country), ',"postal_code":', toJSONString(o.ship_to_postal), ',"city":', toJSONString(o.ship_to_city), '}}') AS evidence,
    o.shipped_at + toIntervalDay(o.protection_days + o.protection_extended_days) AS protection_ends_at,
    o.amount
FROM orders AS o
INNER JOIN
(
    SELECT a.order_id AS order_id, arraySort(groupUniqArray(b.order_id)) AS others
    FROM orders AS a
    INNER JOIN orders AS b ON b.tracking_number = a.tracking_number
    WHERE b.order_id != a.order_id
      AND abs(dateDiff('day', a.shipped_at, b.shipped_at)) <= {{th "recycle_months" "a.carrier" "a.marketplace"}} * 30
      AND (b.buyer_id != a.buyer_id
           OR b.ship_to_country != a.ship_to_country
           OR (b.ship_to_postal != '' AND a.ship_to_postal != '' AND b.ship_to_postal != a.ship_to_postal)
           OR ((b.ship_to_postal = '' OR a.ship_to_postal = '') AND b.ship_to_city != a.ship_to_city))
    GROUP BY a.order_id
) AS r ON r.order_id = o.order_id
WHERE o.state NOT IN ('confirmed', 'completed', 'cancelled', 'refunded')
