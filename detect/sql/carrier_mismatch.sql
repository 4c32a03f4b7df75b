-- carrier_mismatch: the number fits none of the declared carrier's formats but fits
-- another courier's, check digit and all (a 1Z number declared as FedEx), and the
-- declared carrier has not physically scanned it. The seller declared the wrong carrier,
-- or gave another parcel's number: worth a question to the seller, not a dispute by
-- itself (the other detectors judge the parcel's movement). Low severity. Judged by package
-- trackingnumber into number_checks; a physical scan outranks it.
{{define "flag"}}state = 'shipped' AND number_verdict = 'other_courier' AND moving_events = 0{{end}}
{{define "severity"}}'low'{{end}}
{{define "recommendation"}}'verify_carrier'{{end}}
{{define "reason"}}
format('The seller declared carrier {} for tracking number {}, but {}. The seller may have declared the wrong carrier: ask the seller which carrier has the parcel, and track the number with {}.',
    if(carrier = '', 'unknown', carrier), tracking_number, number_problem, arrayStringConcat(number_couriers, ', '))
{{end}}
{{define "reason_ja"}}
format('販売者は追跡番号{}の配送業者として{}を申告しましたが、{}。配送業者の申告が誤っている可能性があります。販売者に配送業者を確認し、{}で追跡してください。',
    tracking_number, if(carrier = '', '（不明）', carrier), number_problem_ja, arrayStringConcat(number_couriers, '、'))
{{end}}
{{define "evidence"}}
concat('{"declared_carrier":', toJSONString(carrier), ',"fits":', toJSONString(number_couriers), ',"problem":', toJSONString(number_problem),
    ',"specification":', toJSONString(number_spec), ',"physical_scans":0}')
{{end}}
