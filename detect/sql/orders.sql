-- Stage 1 of a run: every shipped order's state as of {as_of} (order_summary.sql), with
-- its journey after the order where it has one (order_journey.sql). Only
-- events that occurred at or before it count, and the latest occurred_at wins. The
-- ship-to address is an object: it comes whole from the latest event that carries one.
-- Re-delivered duplicates change no max or min, so no FINAL is needed. The run keeps the
-- result in a temporary table that the later stages read (computed once a run).
SELECT *, ifNull(protection_days_given, {{th "default_protection_days" "carrier" "marketplace"}}) AS protection_days
FROM
(
    SELECT o.order_id AS order_id, o.seller_id AS seller_id, o.buyer_id AS buyer_id, o.marketplace AS marketplace, o.state AS state,
        o.tracking_number AS tracking_number, o.carrier AS carrier, o.placed_at AS placed_at, o.shipped_at AS shipped_at,
        o.ship_to_country AS ship_to_country, o.ship_to_postal AS ship_to_postal, o.ship_to_city AS ship_to_city,
        o.protection_days_given AS protection_days_given, o.protection_extended_days AS protection_extended_days, o.amount AS amount,
        -- the journey (order_journey.sql), packed; '' for an order without one (every
        -- order of a scoped run that has none: .Journeyless)
        {{if .Journeyless}}''{{else}}{{journey_pack}}{{end}} AS journey
    FROM
    (
{{.OrderSummary}}
    ) AS o
    {{- if not .Journeyless}}
    LEFT JOIN
    (
{{.OrderJourney}}
    ) AS j ON j.order_id = o.order_id
    {{- end}}
)
