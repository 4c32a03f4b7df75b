-- cancel_dodged: the buyer asked to cancel (cancel_requested, or the seller's
-- cancel_rejected) and, instead of approving, the seller marked the order shipped within
-- {cancel_dodge_hours} hours (default 48) with a number the carrier had not physically
-- scanned by the time the stalled rule looks ({stalled_days} days after the shipment):
-- after shipment the buyer can no longer cancel, only dispute. A seller who shipped for
-- real (a physical scan within those days) is left alone; so is an order delivered,
-- confirmed, completed, cancelled or refunded. A number whose physical scans came before
-- the shipment is another parcel's (scan_before_order), not counted as a real shipment
-- here either way (the first physical scan is what is read). The condition ("dodged") is
-- computed for every order in candidates.sql: it lifts the severity of the order's other
-- findings a level (findings.sql).
{{define "dodged"}}
(cancel_requested_at IS NOT NULL AND shipped_at >= cancel_requested_at
    AND shipped_at <= cancel_requested_at + toIntervalHour({{th "cancel_dodge_hours" "carrier" "marketplace"}})
    AND shipped_at + toIntervalDay({{th "stalled_days" "carrier" "marketplace"}}) <= {as_of:DateTime64(3, 'UTC')}
    AND (moving_events = 0 OR first_scan_at > shipped_at + toIntervalDay({{th "stalled_days" "carrier" "marketplace"}}))
    AND state NOT IN ('delivered', 'confirmed', 'completed', 'cancelled', 'refunded', 'refund_completed'))
{{end}}
{{define "next_check"}}
-- the stalled rule's look comes
if(cancel_requested_at IS NOT NULL AND shipped_at >= cancel_requested_at
        AND shipped_at <= cancel_requested_at + toIntervalHour({{th "cancel_dodge_hours" "carrier" "marketplace"}}),
    [shipped_at + toIntervalDay({{th "stalled_days" "carrier" "marketplace"}})], [])
{{end}}
{{define "flag"}}cancel_dodged{{end}}
{{define "needs_events"}}true{{end}}
-- it flags only an order with a buyer's journey (a scoped run whose orders have none leaves it out)
{{define "needs_journey"}}true{{end}}
{{define "severity"}}'high'{{end}}
{{define "recommendation"}}'open_dispute'{{end}}
{{define "reason"}}
ifNull(
format('I asked to cancel this order on {}. Instead of answering, the seller marked it shipped {} hours later, on {}, with tracking number {}, which the carrier had not scanned {} days after that{}. After shipment an order can no longer be cancelled: the shipment was declared to block my cancellation. I request a full refund.',
    toString(toDate(cancel_requested_at)), toString(dateDiff('hour', cancel_requested_at, shipped_at)), toString(toDate(shipped_at)),
    tracking_number, toString({{th "stalled_days" "carrier" "marketplace"}}),
    if(events = 0, ' (it has no carrier record at all)', if(moving_events = 0, ' (only electronic information, no parcel)', ''))), '')
{{end}}
{{define "reason_ja"}}
ifNull(
format('私は{}にこの注文のキャンセルを申請しました。販売者は応答せず、{}時間後の{}に追跡番号{}で発送済みとしましたが、その{}日後になっても配送業者はこの荷物をスキャンしていません{}。発送後は注文をキャンセルできないため、この発送はキャンセルを妨げるためのものです。全額返金を希望します。',
    toString(toDate(cancel_requested_at)), toString(dateDiff('hour', cancel_requested_at, shipped_at)), toString(toDate(shipped_at)),
    tracking_number, toString({{th "stalled_days" "carrier" "marketplace"}}),
    if(events = 0, '（配送業者の記録がまったくありません）', if(moving_events = 0, '（電子情報のみで、荷物はありません）', ''))), '')
{{end}}
{{define "evidence"}}
ifNull(
concat('{"cancel_requested_at":', toJSONString(toString(cancel_requested_at)), ',"shipped_at":', toJSONString(toString(shipped_at)),
    ',"hours_to_ship":', toString(dateDiff('hour', cancel_requested_at, shipped_at)),
    ',"window_hours":', toString({{th "cancel_dodge_hours" "carrier" "marketplace"}}),
    ',"scan_deadline":', toJSONString(toString(shipped_at + toIntervalDay({{th "stalled_days" "carrier" "marketplace"}}))),
    ',"first_scan_at":', if(moving_events = 0, 'null', toJSONString(toString(first_scan_at))),
    ',"carrier_events":', toString(timeline_events), ',"timeline":', toJSONString(timeline), '}'), '')
{{end}}
