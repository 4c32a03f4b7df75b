-- stalled_eir: the number's only carrier events are "electronic information received"
-- (a label, no physical scan), the first of them at least {stalled_days} days ago, and
-- the order is still only shipped. EIR that later moved is a slow seller: not flagged.
{{define "flag"}}
state = 'shipped' AND events > 0 AND moving_events = 0
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
{{define "evidence"}}
concat('{"first_event_at":', toJSONString(toString(first_event_at)), ',"carrier_events":', toString(events), ',"timeline":', toJSONString(timeline), '}')
{{end}}
