-- Stage 1 of a run: every shipped order's state as of {as_of} (order_summary.sql). Only
-- events that occurred at or before it count, and the latest occurred_at wins. The
-- ship-to address is an object: it comes whole from the latest event that carries one.
-- Re-delivered duplicates change no max or min, so no FINAL is needed. The run keeps the
-- result in a temporary table that the later stages read (computed once a run).
SELECT *, ifNull(protection_days_given, {{th "default_protection_days" "carrier" "marketplace"}}) AS protection_days
FROM
(
    SELECT order_id, seller_id, buyer_id, marketplace, state, tracking_number, carrier, placed_at, shipped_at, ship_to_country,
        ship_to_postal, ship_to_city, protection_days_given, protection_extended_days, amount,
        payment_method, cancel_requested_at, cancelled_at, disputed_at, dispute_answered_at, refund_approved_at,
        refund_due_amount, refund_completed_at, refund_completed_amount
    FROM
    (
{{.OrderSummary}}
    )
)
