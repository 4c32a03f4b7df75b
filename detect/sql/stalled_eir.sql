-- stalled_eir: the number has pre-advice ("electronic information received", a label)
-- and no physical scan at all, the first event at least {stalled_days} days ago, and the
-- order is still only shipped. Words no phrase covers do not count as movement. EIR that
-- later moved is a slow seller: not flagged. A voided label is label_voided's.
{{define "next_check"}}
-- the number becomes stalled; once it is, each day changes the reason's count of days
if(state = 'shipped' AND preadvice_events > 0 AND moving_events = 0 AND voided_events = 0,
    [if(first_event_at + toIntervalDay({{th "stalled_days" "carrier" "marketplace"}}) > {as_of:DateTime64(3, 'UTC')},
        first_event_at + toIntervalDay({{th "stalled_days" "carrier" "marketplace"}}), {{next_midnight}})], [])
{{end}}
{{define "flag"}}
state = 'shipped' AND preadvice_events > 0 AND moving_events = 0 AND voided_events = 0
    AND first_event_at <= {as_of:DateTime64(3, 'UTC')} - toIntervalDay({{th "stalled_days" "carrier" "marketplace"}})
{{end}}
{{define "needs_events"}}true{{end}}
{{define "severity"}}'high'{{end}}
{{define "recommendation"}}'open_dispute'{{end}}
{{define "reason"}}
format('The seller provided tracking number {} on {}. Since {} the carrier has shown only electronic information (a shipping label, no physical scan) for it; after {} days the parcel has never moved. I request a full refund.',
    tracking_number, toString(toDate(shipped_at)), toString(toDate(first_event_at)),
    toString(dateDiff('day', first_event_at, {as_of:DateTime64(3, 'UTC')})))
{{end}}
{{define "reason_ja"}}
format('販売者は{}に追跡番号{}を登録しました。{}以降、配送業者の記録は電子情報（送り状の作成のみで、荷物のスキャンなし）だけで、{}日が経っても荷物は一度も動いていません。全額返金を希望します。',
    toString(toDate(shipped_at)), tracking_number, toString(toDate(first_event_at)),
    toString(dateDiff('day', first_event_at, {as_of:DateTime64(3, 'UTC')})))
{{end}}
{{define "evidence"}}
concat('{"first_event_at":', toJSONString(toString(first_event_at)), ',"carrier_events":', toString(timeline_events), ',"timeline":', toJSONString(timeline), '}')
{{end}}
