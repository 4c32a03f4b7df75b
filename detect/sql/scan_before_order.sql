-- scan_before_order: the carrier's first event for the number came more than
-- {scan_before_order_slack_days} days before the order was placed, so the number belongs
-- to another parcel. Only events of the last {recycle_months} months count: carriers
-- reissue numbers, and an old parcel's history is not this order's.
{{define "flag"}}
state NOT IN ('confirmed', 'completed', 'cancelled', 'refunded', 'refund_completed')
    AND placed_at > toDateTime64('1970-01-02', 3, 'UTC')
    AND events > 0
    AND first_event_at < placed_at - toIntervalDay({{th "scan_before_order_slack_days" "carrier" "marketplace"}})
{{end}}
{{define "needs_events"}}true{{end}}
{{define "severity"}}'high'{{end}}
{{define "recommendation"}}'open_dispute'{{end}}
{{define "reason"}}
format('I placed this order on {}, but the carrier''s first record for tracking number {} is from {}, before the order existed. The number belongs to another parcel, not to my order. I request a full refund.',
    toString(toDate(placed_at)), tracking_number, toString(first_event_at))
{{end}}
{{define "reason_ja"}}
format('私がこの注文をしたのは{}ですが、追跡番号{}の配送業者の最初の記録は{}で、注文より前のものです。この番号は私の注文ではなく別の荷物のものです。全額返金を希望します。',
    toString(toDate(placed_at)), tracking_number, toString(first_event_at))
{{end}}
{{define "evidence"}}
concat('{"placed_at":', toJSONString(toString(placed_at)), ',"first_carrier_event_at":', toJSONString(toString(first_event_at)),
    ',"timeline":', toJSONString(timeline), '}')
{{end}}
