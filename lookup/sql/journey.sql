-- The stats page's figures of the buyer's journey (journey.go), over the orders with
-- events since {since}: refund times by payment method, and the disputes that stall.

-- Per order whose refund became due (a refund approved, or a cancellation the buyer
-- requested that ended in cancelled): its payment method and the days until the refund
-- was completed (refund_completed or refunded), per payment method.
{{define "refund_times"}}
SELECT if(method = '', 'unknown', method) AS payment_method, count() AS due, countIf(done IS NOT NULL) AS completed,
    if(completed = 0, NULL, quantileExactInclusiveIf(0.25)(dateDiff('second', due_at, done) / 86400, done IS NOT NULL)) AS p25_days,
    if(completed = 0, NULL, quantileExactInclusiveIf(0.5)(dateDiff('second', due_at, done) / 86400, done IS NOT NULL)) AS median_days,
    if(completed = 0, NULL, quantileExactInclusiveIf(0.75)(dateDiff('second', due_at, done) / 86400, done IS NOT NULL)) AS p75_days,
    if(completed = 0, NULL, quantileExactInclusiveIf(0.9)(dateDiff('second', due_at, done) / 86400, done IS NOT NULL)) AS p90_days
FROM
(
    SELECT order_id,
        argMaxIf(payment_method, occurred_at, payment_method != '') AS method,
        minIfOrNull(occurred_at, status = 'refund_approved') AS approved,
        minIfOrNull(occurred_at, status IN ('cancel_requested', 'cancel_rejected')) AS asked,
        minIfOrNull(occurred_at, status = 'cancelled') AS cancelled,
        multiIf(approved IS NOT NULL, approved, asked IS NOT NULL AND cancelled >= asked, cancelled, NULL) AS due_at,
        minIfOrNull(occurred_at, status IN ('refund_completed', 'refunded')) AS done
    FROM {{.DB}}.order_events
    WHERE occurred_at >= {since:DateTime64(3, 'UTC')} AND occurred_at <= {now:DateTime64(3, 'UTC')}
      AND (payment_method != '' OR status IN ('refund_approved', 'cancel_requested', 'cancel_rejected', 'cancelled', 'refund_completed', 'refunded'))
    GROUP BY order_id
    HAVING due_at IS NOT NULL
)
GROUP BY payment_method
ORDER BY payment_method
{{end}}

-- The disputes opened since {since} and at least {answer_days} days before {now}, and
-- those with no answer, escalation or outcome within {answer_days} days of opening.
{{define "dispute_stalls"}}
SELECT count() AS opened, countIf(answered IS NULL OR answered > opened_at + toIntervalDay({answer_days:UInt16})) AS stalled
FROM
(
    SELECT order_id, minIf(occurred_at, status = 'disputed') AS opened_at,
        arrayMin(arrayFilter(t -> t >= opened_at, groupArrayIf(occurred_at, status IN ('dispute_responded', 'dispute_escalated',
            'refund_approved', 'refund_completed', 'refunded', 'cancelled', 'completed')))) AS first_answer,
        if(first_answer = toDateTime64(0, 3, 'UTC'), NULL, first_answer) AS answered
    FROM {{.DB}}.order_events
    WHERE occurred_at >= {since:DateTime64(3, 'UTC')} AND occurred_at <= {now:DateTime64(3, 'UTC')}
      AND status IN ('disputed', 'dispute_responded', 'dispute_escalated', 'refund_approved', 'refund_completed', 'refunded', 'cancelled', 'completed')
    GROUP BY order_id
    HAVING countIf(status = 'disputed') > 0 AND opened_at <= {now:DateTime64(3, 'UTC')} - toIntervalDay({answer_days:UInt16})
)
{{end}}
