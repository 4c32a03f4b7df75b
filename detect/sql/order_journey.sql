-- The buyer's journey of each order that has one, as of {as_of} (migration 0016): the
-- latest payment method, the first cancellation request and cancellation, the latest
-- dispute and answer to one, the first refund approval, the amount due and the latest
-- completed refund. Read apart from the order's state (order_summary.sql), from the
-- month rows that say something of it only, and joined to it (orders.sql): most orders
-- have none, and a run's order state then holds no aggregate for it (at 1M orders, these
-- aggregates beside the others raised ClickHouse's peak by about 300 MiB). Every column
-- is a min or a max, so the month rows need no FINAL (a merge changes nothing) and an
-- event may be counted twice; the rows that cross the moment (every event, without
-- .Summaries) are summarised from their events of the journey only.
SELECT
    order_id,
    splitByChar('\x1f', max(payment))[2] AS payment_method,
    min(cancel_requested_at) AS cancel_requested_at,
    min(cancelled_at) AS cancelled_at,
    max(disputed_at) AS disputed_at,
    max(dispute_answered_at) AS dispute_answered_at,
    min(refund_approved_at) AS refund_approved_at,
    toDecimal64OrNull(splitByChar('\x1f', max(refund_due))[2], 4) AS refund_due_amount,
    max(refund_completed) AS rc,
    if(rc = '', NULL, fromUnixTimestamp64Milli(toInt64OrZero(substring(rc, 1, 15)), 'UTC')) AS refund_completed_at,
    toDecimal64OrNull(splitByChar('\x1f', rc)[2], 4) AS refund_completed_amount
FROM
(
    SELECT order_id, payment, cancel_requested_at, cancelled_at, disputed_at, dispute_answered_at, refund_approved_at, refund_due, refund_completed
    FROM
    (
{{- if .Summaries}}
        -- month rows (or parts of them, unmerged) wholly at or before the moment
        SELECT * FROM {{if .Scoped}}{{.ScopeOrderMonths}}{{else}}{{.DB}}.order_months{{end}}
        WHERE {{shard "order_id"}} AND month <= toStartOfMonth({as_of:DateTime64(3, 'UTC')}) AND last_event_at <= {as_of:DateTime64(3, 'UTC')}
          AND (payment != '' OR cancel_requested_at IS NOT NULL OR cancelled_at IS NOT NULL OR disputed_at IS NOT NULL
            OR dispute_answered_at IS NOT NULL OR refund_approved_at IS NOT NULL OR refund_due != '' OR refund_completed != '')
        UNION ALL
{{- end}}
        -- and the journey's events up to the moment that those rows leave out: a row with an
        -- event after the moment is of the moment's month, so with the summaries only that
        -- month's events are read (an event counted twice changes no min or max)
        {{order_month_states (printf "%s.order_events" .DB) (journey_events_where .Summaries .DB .Scoped)}}
    )
)
GROUP BY order_id
