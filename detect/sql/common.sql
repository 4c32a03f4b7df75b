-- Shared by every detector: each shipped order's state, and each tracking number's
-- carrier history, as of {as_of}: only events that occurred at or before it count, and
-- the latest occurred_at wins for state. Re-delivered duplicates do not change argMax,
-- min or max, so no FINAL is needed.
orders AS
(
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
        argMaxIf(ship_to_country, occurred_at, ship_to_country != '') AS ship_to_country,
        argMaxIf(ship_to_city_norm, occurred_at, ship_to_city_norm != '') AS ship_to_city,
        argMaxIf(ship_to_postal_norm, occurred_at, ship_to_postal_norm != '') AS ship_to_postal,
        argMaxIf(protection_days, occurred_at, protection_days IS NOT NULL) AS protection_days_given,
        ifNull(argMaxIf(protection_extended_days, occurred_at, protection_extended_days IS NOT NULL), 0) AS protection_extended_days,
        argMaxIf(amount, occurred_at, amount IS NOT NULL) AS amount
    FROM {{.DB}}.order_events
    WHERE occurred_at <= {as_of:DateTime64(3, 'UTC')}
    GROUP BY order_id
    HAVING countIf(status = 'shipped') > 0
    )
),
tracks AS
(
    SELECT
        tracking_number,
        count() AS events, -- producer re-sends may count twice; only "any" and "none" matter
        countIf(status != 'info_received') AS moving_events,
        min(occurred_at) AS first_event_at,
        max(occurred_at) AS last_event_at,
        arraySort(groupArray(occurred_at)) AS times,
        argMaxIf(dest_country, occurred_at, dest_country != '') AS dest_country,
        argMaxIf(dest_city_norm, occurred_at, dest_city_norm != '') AS dest_city,
        argMaxIf(dest_postal_norm, occurred_at, dest_postal_norm != '') AS dest_postal,
        countIf(status = 'delivered') > 0 AS delivered,
        argMaxIf(location_country, occurred_at, status = 'delivered') AS delivered_country,
        argMaxIf(location_city_norm, occurred_at, status = 'delivered') AS delivered_city,
        argMaxIf(location_postal_norm, occurred_at, status = 'delivered') AS delivered_postal,
        -- one cast per number, not per event: the timeline is evidence, built for every number
        CAST(arraySlice(arraySort(x -> x.1, groupArray((occurred_at, status, raw_status, location_country, location_city))), 1, 50),
            'Array(Tuple(at DateTime64(3, \'UTC\'), status String, raw_status String, country String, city String))') AS timeline
    FROM {{.DB}}.tracking_events
    WHERE occurred_at <= {as_of:DateTime64(3, 'UTC')}
      -- carriers reissue numbers: history older than the recycle window is another parcel's
      AND occurred_at >= {as_of:DateTime64(3, 'UTC')} - toIntervalMonth({{th "recycle_months" "carrier" "''"}})
    GROUP BY tracking_number
)
