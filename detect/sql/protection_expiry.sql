-- protection_expiry: buyer protection (shipment + protection_days + extensions) ends
-- within {expiry_window_days} days, and the order is not delivered to the buyer (not
-- delivered at all, or delivered elsewhere) nor confirmed, completed, cancelled or
-- refunded. A parcel that is moving gets "extend protection"; one that never moved, was
-- delivered elsewhere, or whose latest scan says it will not arrive (returned to the
-- sender, lost, destroyed, refused, held by customs) gets "open a dispute now". A
-- delivered order needs nothing.
{{define "columns"}}
delivered AND delivered_country != '' AND ship_to_country != '' AND delivered_country != ship_to_country AS delivered_elsewhere,
last_scan_sub_status IN ('returned/returning', 'returned/returned', 'exception/lost', 'exception/destroyed', 'exception/refused',
    'exception/customs_held') AS will_not_arrive
{{end}}
{{define "next_check"}}
-- protection comes within the expiry window, then ends
if(state NOT IN ('delivered', 'confirmed', 'completed', 'cancelled', 'refunded', 'refund_completed'),
    [ends_at - toIntervalDay({{th "expiry_window_days" "carrier" "marketplace"}}), ends_at], [])
{{end}}
{{define "flag"}}
state NOT IN ('delivered', 'confirmed', 'completed', 'cancelled', 'refunded', 'refund_completed')
    AND ends_at > {as_of:DateTime64(3, 'UTC')}
    AND ends_at <= {as_of:DateTime64(3, 'UTC')} + toIntervalDay({{th "expiry_window_days" "carrier" "marketplace"}})
    AND (NOT delivered OR delivered_elsewhere)
{{end}}
{{define "needs_events"}}true{{end}}
{{define "severity"}}if(moving_events > 0 AND NOT delivered_elsewhere AND NOT will_not_arrive, 'medium', 'critical'){{end}}
{{define "recommendation"}}if(moving_events > 0 AND NOT delivered_elsewhere AND NOT will_not_arrive, 'extend_protection', 'open_dispute'){{end}}
{{define "reason"}}
if(moving_events > 0 AND NOT delivered_elsewhere AND NOT will_not_arrive,
    format('Buyer protection for this order ends on {} and the parcel (tracking number {}) is still on its way (last carrier event {}). I ask to extend protection until it arrives.',
        toString(toDate(ends_at)), tracking_number, toString(last_event_at)),
    format('Buyer protection for this order ends on {}, and the parcel with tracking number {} {}. I request a full refund before protection ends.',
        toString(toDate(ends_at)), tracking_number,
        multiIf(delivered_elsewhere, 'was delivered to another address',
            will_not_arrive, concat('will not arrive: the carrier reports it ', multiIf(
                last_scan_sub_status = 'returned/returning', 'on its way back to the sender',
                last_scan_sub_status = 'returned/returned', 'returned to the sender',
                last_scan_sub_status = 'exception/lost', 'lost',
                last_scan_sub_status = 'exception/destroyed', 'destroyed or disposed of',
                last_scan_sub_status = 'exception/refused', 'refused',
                'held by customs')),
            events = 0, 'has no carrier record at all', 'has never moved (only electronic information)')))
{{end}}
{{define "reason_ja"}}
if(moving_events > 0 AND NOT delivered_elsewhere AND NOT will_not_arrive,
    format('この注文の購入者保護は{}に終了しますが、荷物（追跡番号{}）はまだ配送中です（最新の配送記録 {}）。荷物が届くまで購入者保護の延長を希望します。',
        toString(toDate(ends_at)), tracking_number, toString(last_event_at)),
    format('この注文の購入者保護は{}に終了しますが、追跡番号{}の荷物は{}。保護期間が終わる前に全額返金を希望します。',
        toString(toDate(ends_at)), tracking_number,
        multiIf(delivered_elsewhere, '別の住所に配達されています',
            will_not_arrive, concat('届きません（配送業者の記録：', multiIf(
                last_scan_sub_status = 'returned/returning', '差出人へ返送中',
                last_scan_sub_status = 'returned/returned', '差出人に返送済み',
                last_scan_sub_status = 'exception/lost', '紛失',
                last_scan_sub_status = 'exception/destroyed', '破棄・処分',
                last_scan_sub_status = 'exception/refused', '受取拒否',
                '税関で留置'), '）'),
            events = 0, '配送業者の記録がまったくありません', '一度も動いていません（電子情報のみ）')))
{{end}}
{{define "evidence"}}
concat('{"protection_ends_at":', toJSONString(toString(ends_at)), ',"carrier_events":', toString(timeline_events),
    ',"moving":', if(moving_events > 0, 'true', 'false'), ',"timeline":', toJSONString(timeline), '}')
{{end}}
