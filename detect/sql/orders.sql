-- Stage 1 of a run: every shipped order's state as of {as_of}. Only events that occurred
-- at or before it count, and the latest occurred_at wins. The ship-to address is an
-- object: it comes whole from the latest event that carries one. Re-delivered duplicates
-- do not change argMax, min or max, so no FINAL is needed. The run keeps the result in a
-- temporary table that the later stages read (the order state is computed once a run).
SELECT *, ifNull(protection_days_given, {{th "default_protection_days" "carrier" "marketplace"}}) AS protection_days
FROM
(
    SELECT
        order_id,
        argMax(seller_id, occurred_at) AS seller_id,
        argMax(buyer_id, occurred_at) AS buyer_id,
        argMax(marketplace, occurred_at) AS marketplace,
        argMax(status, occurred_at) AS state,
        argMaxIf(tracking_number, occurred_at, status = 'shipped') AS tracking_number,
        argMaxIf(carrier, occurred_at, status = 'shipped') AS carrier,
        minIf(occurred_at, status = 'placed') AS placed_at,
        maxIf(occurred_at, status = 'shipped') AS shipped_at,
        argMaxIf(ship_to_country, occurred_at, ship_to_country != '' OR ship_to_postal_norm != '' OR ship_to_city_norm != '') AS ship_to_country,
        argMaxIf(ship_to_postal_norm, occurred_at, ship_to_country != '' OR ship_to_postal_norm != '' OR ship_to_city_norm != '') AS ship_to_postal,
        argMaxIf(ship_to_city_norm, occurred_at, ship_to_country != '' OR ship_to_postal_norm != '' OR ship_to_city_norm != '') AS ship_to_city,
        argMaxIf(protection_days, occurred_at, protection_days IS NOT NULL) AS protection_days_given,
        ifNull(argMaxIf(protection_extended_days, occurred_at, protection_extended_days IS NOT NULL), 0) AS protection_extended_days,
        argMaxIf(amount, occurred_at, amount IS NOT NULL) AS amount
    FROM {{.DB}}.order_events
    WHERE occurred_at <= {as_of:DateTime64(3, 'UTC')}
    GROUP BY order_id
    HAVING countIf(status = 'shipped') > 0
)
