-- invalid_tracking_number: the number fails its format. A UPU S10 number (two letters,
-- eight digits, a check digit, two letters) must carry the right check digit (weights
-- 8 6 4 2 3 5 9 7; 11 - sum mod 11; 10 -> 0, 11 -> 5); a postal carrier's number must be
-- S10; a UPS number must be 1Z plus 16 letters or digits. Such a number was never issued.
SELECT
    o.order_id, o.tracking_number, o.seller_id, o.buyer_id, o.marketplace,
    'critical' AS severity,
    'open_dispute' AS recommendation,
    format('The seller provided tracking number {} for carrier {}, but {}. A number like this was never issued by the carrier, so the order was not shipped with it. I request a full refund.',
        o.tracking_number, if(o.carrier = '', 'unknown', o.carrier), problem) AS reason,
    concat('{"declared_carrier":', toJSONString(o.carrier), ',"problem":', toJSONString(problem), '}') AS evidence,
    o.shipped_at + toIntervalDay(o.protection_days + o.protection_extended_days) AS protection_ends_at,
    o.amount
FROM
(
    SELECT *,
        match(tracking_number, '^[A-Z]{2}[0-9]{9}[A-Z]{2}$') AS s10_shape,
        arraySum(arrayMap((i, w) -> toUInt32OrZero(substring(tracking_number, 2 + i, 1)) * w, range(1, 9), [8, 6, 4, 2, 3, 5, 9, 7])) AS s10_sum,
        multiIf(11 - s10_sum % 11 = 10, 0, 11 - s10_sum % 11 = 11, 5, 11 - s10_sum % 11) AS s10_check,
        multiIf(
            s10_shape AND s10_check != toUInt32OrZero(substring(tracking_number, 11, 1)),
                format('its UPU S10 check digit is {} where {} is required', substring(tracking_number, 11, 1), toString(s10_check)),
            carrier IN {postal_carriers:Array(String)} AND NOT s10_shape,
                'a postal item number must have the UPU S10 form (two letters, nine digits, two letters)',
            carrier = 'ups' AND NOT match(tracking_number, '^1Z[0-9A-Z]{16}$'),
                'a UPS number must be 1Z followed by 16 letters or digits',
            '') AS problem
    FROM orders
    WHERE state = 'shipped'
) AS o
WHERE problem != ''
