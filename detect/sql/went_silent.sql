-- went_silent: the parcel moved after the order shipped (a physical scan after the
-- shipment), then nothing: its last physical scan is {silent_days} days old (default 30
-- for postal and consolidator services, AfterShip's "expired"; {silent_days_express},
-- default 10, for express carriers, whose parcels scan every day or two), it is not
-- delivered, and the order is still only shipped. Orders whose protection ends within
-- the expiry window are protection_expiry's. A slow parcel that still scans now and then
-- is not flagged.
{{define "columns"}}
if(has({express_carriers:Array(String)}, carrier) AND NOT mapContains({silent_days_by_carrier:Map(String, UInt16)}, carrier),
    {silent_days_express:UInt16}, {{th "silent_days" "carrier" "marketplace"}}) AS silent_threshold_days
{{end}}
{{define "next_check"}}
-- the parcel goes silent; once it has, each day changes the reason's count of days; it
-- stops when protection comes within the expiry window
if(state = 'shipped' AND NOT delivered AND moving_events > 0 AND last_scan_at >= shipped_at,
    [if(last_scan_at + toIntervalDay(silent_threshold_days) > {as_of:DateTime64(3, 'UTC')},
        last_scan_at + toIntervalDay(silent_threshold_days), {{next_midnight}}),
     ends_at - toIntervalDay({{th "expiry_window_days" "carrier" "marketplace"}})], [])
{{end}}
{{define "flag"}}
state = 'shipped' AND NOT delivered AND moving_events > 0 AND last_scan_at >= shipped_at
    AND last_scan_at <= {as_of:DateTime64(3, 'UTC')} - toIntervalDay(silent_threshold_days)
    AND ends_at > {as_of:DateTime64(3, 'UTC')} + toIntervalDay({{th "expiry_window_days" "carrier" "marketplace"}})
{{end}}
{{define "needs_events"}}true{{end}}
{{define "severity"}}'medium'{{end}}
{{define "recommendation"}}'open_dispute'{{end}}
{{define "reason"}}
format('The seller shipped this order on {} with tracking number {}. The carrier last handled the parcel on {} ("{}") and has shown nothing since: {} days without any scan. The parcel appears lost; I request a full refund.',
    toString(toDate(shipped_at)), tracking_number, toString(toDate(last_scan_at)), last_scan_raw,
    toString(dateDiff('day', last_scan_at, {as_of:DateTime64(3, 'UTC')})))
{{end}}
{{define "reason_ja"}}
format('販売者は{}に追跡番号{}で発送しました。配送業者が最後に荷物を扱ったのは{}（「{}」）で、それから{}日間、一度もスキャンの記録がありません。荷物は紛失したとみられます。全額返金を希望します。',
    toString(toDate(shipped_at)), tracking_number, toString(toDate(last_scan_at)), last_scan_raw,
    toString(dateDiff('day', last_scan_at, {as_of:DateTime64(3, 'UTC')})))
{{end}}
{{define "evidence"}}
concat('{"last_scan_at":', toJSONString(toString(last_scan_at)), ',"last_scan":', toJSONString(last_scan_raw),
    ',"silent_days":', toString(dateDiff('day', last_scan_at, {as_of:DateTime64(3, 'UTC')})),
    ',"threshold_days":', toString(silent_threshold_days), ',"timeline":', toJSONString(timeline), '}')
{{end}}
