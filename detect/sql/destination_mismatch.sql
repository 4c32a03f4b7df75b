-- destination_mismatch: the carrier's destination, or the place it delivered, is not the
-- buyer's ship-to address. Spellings are compared normalised (JP = Japan, TOKYO = Tokyo,
-- 100-0001 = 1000001); the country always, then the postal code where both sides have
-- one, else the city where both sides have one.
SELECT
    o.order_id, o.tracking_number, o.seller_id, o.buyer_id, o.marketplace,
    'high' AS severity,
    'open_dispute' AS recommendation,
    format('The order ships to {}, but for tracking number {} the carrier {} {}. The number belongs to a parcel going elsewhere, not to my order. I request a full refund.',
        concat(o.ship_to_country, if(o.ship_to_postal != '', concat(' ', o.ship_to_postal), ''), if(o.ship_to_city != '', concat(' ', o.ship_to_city), '')),
        o.tracking_number, if(o.delivered_mismatch, 'delivered it to', 'shows the destination'),
        if(o.delivered_mismatch,
            concat(o.delivered_country, if(o.delivered_postal != '', concat(' ', o.delivered_postal), ''), if(o.delivered_city != '', concat(' ', o.delivered_city), '')),
            concat(o.dest_country, if(o.dest_postal != '', concat(' ', o.dest_postal), ''), if(o.dest_city != '', concat(' ', o.dest_city), '')))) AS reason,
    concat('{"ship_to":', concat('{"country":', toJSONString(o.ship_to_country), ',"postal_code":', toJSONString(o.ship_to_postal), ',"city":', toJSONString(o.ship_to_city), '}'),
        ',"carrier_destination":', concat('{"country":', toJSONString(o.dest_country), ',"postal_code":', toJSONString(o.dest_postal), ',"city":', toJSONString(o.dest_city), '}'),
        ',"delivered_at":', concat('{"country":', toJSONString(o.delivered_country), ',"postal_code":', toJSONString(o.delivered_postal), ',"city":', toJSONString(o.delivered_city), '}'), '}') AS evidence,
    o.shipped_at + toIntervalDay(o.protection_days + o.protection_extended_days) AS protection_ends_at,
    o.amount
FROM
(
    SELECT o.*, t.dest_country AS dest_country, t.dest_city AS dest_city, t.dest_postal AS dest_postal,
        t.delivered_country AS delivered_country, t.delivered_city AS delivered_city, t.delivered_postal AS delivered_postal,
        (o.ship_to_country != '' AND t.dest_country != '' AND t.dest_country != o.ship_to_country)
            OR (o.ship_to_country = t.dest_country AND o.ship_to_postal != '' AND t.dest_postal != '' AND t.dest_postal != o.ship_to_postal)
            OR (o.ship_to_country = t.dest_country AND (o.ship_to_postal = '' OR t.dest_postal = '') AND o.ship_to_city != '' AND t.dest_city != '' AND t.dest_city != o.ship_to_city)
            AS dest_mismatch,
        t.delivered AND (
            (o.ship_to_country != '' AND t.delivered_country != '' AND t.delivered_country != o.ship_to_country)
            OR (o.ship_to_country = t.delivered_country AND o.ship_to_postal != '' AND t.delivered_postal != '' AND t.delivered_postal != o.ship_to_postal))
            AS delivered_mismatch
    FROM orders AS o
    INNER JOIN tracks AS t ON t.tracking_number = o.tracking_number
    WHERE o.state NOT IN ('confirmed', 'completed', 'cancelled', 'refunded')
) AS o
WHERE o.dest_mismatch OR o.delivered_mismatch
