-- invalid_tracking_number: the number has none of the shapes the declared carrier issues,
-- or has one with the wrong check digit or an undefined code (an S10 number from no
-- country, with an undefined service indicator), and is no other courier's verified
-- number (that is carrier_mismatch); and the carrier has not physically scanned it. Such a number was never
-- issued. The formats and check digits are package trackingnumber's (the tracking_number_data
-- specification and trackwatch's own), judged once per number and carrier at ingest (stored
-- with the order event, copied to number_checks); a carrier trackwatch cannot check is never judged. A physical scan
-- outranks any format rule: the carrier knew the number, so it was issued.
{{define "flag"}}state = 'shipped' AND number_verdict = 'invalid' AND moving_events = 0{{end}}
{{define "severity"}}'critical'{{end}}
{{define "recommendation"}}'open_dispute'{{end}}
{{define "reason"}}
format('The seller provided tracking number {} for carrier {}, but {}. A number like this was never issued by the carrier, so the order was not shipped with it. I request a full refund.',
    tracking_number, if(carrier = '', 'unknown', carrier), number_problem)
{{end}}
{{define "reason_ja"}}
format('販売者は配送業者{}の追跡番号として{}を登録しましたが、{}。このような番号を配送業者が発行することはなく、注文はこの番号で発送されていません。全額返金を希望します。',
    if(carrier = '', '（不明）', carrier), tracking_number, number_problem_ja)
{{end}}
{{define "evidence"}}
concat('{"declared_carrier":', toJSONString(carrier), ',"problem":', toJSONString(number_problem),
    ',"specification":', toJSONString(number_spec), ',"physical_scans":0}')
{{end}}
