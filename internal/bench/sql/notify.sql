-- The notification benchmark's statements (notify.go).

-- {n} fired changes with ids {p}<i>, each with a carrier timeline of 12 events as
-- evidence (about the size real alerts carry).
{{define "log_changes"}}
INSERT INTO {{.DB}}.alert_changes (change_id, kind, alert_id, detector, order_id, tracking_number, seller_id, buyer_id, marketplace, severity, recommendation, reason, evidence, protection_ends_at, first_detected_at, last_detected_at, status, as_of)
SELECT concat({p:String}, toString(number)), 'fired', concat('a-', {p:String}, toString(number)), 'stalled_eir', concat('order-', toString(number)), concat('LP', leftPad(toString(number), 12, '0'), 'CN'), 'seller-1', 'buyer-1', 'aliexpress', 'high', 'open_dispute', 'The seller provided tracking number LP000000000001CN on 2026-10-05. Since 2026-10-05 the carrier has shown only electronic information (a shipping label, no physical scan) for it; after 9 days the parcel has never moved. I request a full refund.', concat('{"first_event_at":"2026-10-05 08:00:00.000","carrier_events":12,"timeline":[', arrayStringConcat(arrayMap(i -> concat('{"at":"2026-10-0', toString(1 + i % 9), ' 08:00:00.000","status":"info_received","raw_status":"Electronic information received","country":"CN","city":"Shenzhen"}'), range(12)), ','), ']}'), now64(3) + toIntervalDay(30), now64(3), now64(3), 'firing', now64(3)
FROM numbers({n:UInt32})
{{end}}

{{define "evidence_length"}}SELECT avg(length(evidence)) FROM {{.DB}}.alert_changes{{end}}

-- The logged changes, in the order the dispatcher delivers them.
{{define "changes"}}SELECT * FROM {{.DB}}.alert_changes FINAL ORDER BY created_at, change_id{{end}}

{{define "failed_attempts"}}SELECT count() FROM {{.DB}}.notify_attempts WHERE outcome != 'delivered'{{end}}
