-- never_scanned: shipped, and the carrier has no event at all for the number after
-- {never_scanned_working_days} working days (Monday to Friday) since the declared
-- shipment: the marketplace's own definition of a false shipment. Only orders shipped
-- within the recycle window: carrier history older than it is not read, so an order
-- shipped before it could not be told apart from one never scanned.
{{define "columns"}}
-- working days after the shipment date, up to and including the as-of date (counted
-- only where it matters: a shipped order without carrier events)
if(state = 'shipped' AND events = 0,
    length(arrayFilter(d -> toDayOfWeek(d) < 6,
        arrayMap(i -> toDate(shipped_at) + toIntervalDay(i + 1),
            range(toUInt32(greatest(0, dateDiff('day', toDate(shipped_at), toDate({as_of:DateTime64(3, 'UTC')})))))))),
    0) AS working_days_without_events
{{end}}
{{define "next_check"}}
-- each day adds a working day to the count (and to the reason); the shipment leaves the
-- recycle window
if(state = 'shipped' AND events = 0,
    [{{next_midnight}}, shipped_at + toIntervalMonth({{th "recycle_months" "carrier" "marketplace"}})], [])
{{end}}
{{define "flag"}}
state = 'shipped' AND events = 0
    AND shipped_at >= {as_of:DateTime64(3, 'UTC')} - toIntervalMonth({{th "recycle_months" "carrier" "marketplace"}})
    AND working_days_without_events >= {{th "never_scanned_working_days" "carrier" "marketplace"}}
{{end}}
{{define "severity"}}'high'{{end}}
{{define "recommendation"}}'open_dispute'{{end}}
{{define "reason"}}
format('The seller marked the order shipped on {} with tracking number {}, but the carrier has no information at all for this number {} working days later. I request a full refund.',
    toString(toDate(shipped_at)), tracking_number, toString(working_days_without_events))
{{end}}
{{define "reason_ja"}}
format('販売者は{}に追跡番号{}で発送済みとしましたが、{}営業日が経っても配送業者にこの番号の情報がまったくありません。全額返金を希望します。',
    toString(toDate(shipped_at)), tracking_number, toString(working_days_without_events))
{{end}}
{{define "evidence"}}
concat('{"declared_carrier":', toJSONString(carrier), ',"shipped_at":', toJSONString(toString(shipped_at)),
    ',"working_days_without_events":', toString(working_days_without_events), ',"timeline":[]}')
{{end}}
