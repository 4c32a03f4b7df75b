-- label_voided: the carrier recorded that the label or shipment was cancelled (voided)
-- before any physical scan: the seller made a label, marked the order shipped, and never
-- handed a parcel over ("package cancelled" in the marketplace's words). The strongest
-- fake-shipment signal there is. A cancellation after the parcel was scanned (an
-- intercepted parcel) is not flagged.
{{define "flag"}}
state = 'shipped' AND voided_events > 0 AND (moving_events = 0 OR first_voided_at < first_scan_at)
{{end}}
{{define "needs_events"}}true{{end}}
{{define "severity"}}'critical'{{end}}
{{define "recommendation"}}'open_dispute'{{end}}
{{define "reason"}}
format('The seller provided tracking number {} on {}, but on {} the carrier recorded that the shipment was cancelled ("{}") before any parcel was handed over: the parcel was never sent. I request a full refund.',
    tracking_number, toString(toDate(shipped_at)), toString(toDate(first_voided_at)), voided_raw)
{{end}}
{{define "reason_ja"}}
format('販売者は{}に追跡番号{}を登録しましたが、{}に配送業者が、荷物の引き渡し前に発送が取り消されたことを記録しています（「{}」）。荷物は発送されていません。全額返金を希望します。',
    toString(toDate(shipped_at)), tracking_number, toString(toDate(first_voided_at)), voided_raw)
{{end}}
{{define "evidence"}}
concat('{"voided_at":', toJSONString(toString(first_voided_at)), ',"carrier_words":', toJSONString(voided_raw),
    ',"physical_scans":', toString(timeline_scans), ',"timeline":', toJSONString(timeline), '}')
{{end}}
