-- invalid_tracking_number: the number fails its format. A UPU S10 number (two letters,
-- eight digits, a check digit, two letters) must carry the right check digit (weights
-- 8 6 4 2 3 5 9 7; 11 - sum mod 11; 10 -> 0, 11 -> 5); a postal carrier's number must be
-- S10; a UPS number must be 1Z plus 16 letters or digits. Couriers with a public check:
-- a DHL Express waybill of 10 digits ends in the first nine mod 7; a Yamato number has 12
-- digits, and Yamato's and Sagawa's 12-digit numbers end in the first eleven mod 7 (the
-- "7DR" check; the rules as tracking-number libraries implement them, e.g.
-- github.com/jbittel/drogher and the Japanese carriers' published 7DR scheme); a FedEx
-- number has 12, 15, 20 or 22 digits, or DT and 12; an EMS item's S10 service indicator
-- starts with E; a USPS IMpb number of 22 digits (91-95...) carries a mod-10 check digit
-- (weights 3 and 1 from the right, as USPS Publication 199 and drogher implement it). Such a number was never issued.
{{define "columns"}}
-- computed only for shipped orders with an S10-shaped number: over a million orders the
-- digit arithmetic is a noticeable part of a run
if(state = 'shipped' AND match(tracking_number, '^[A-Z]{2}[0-9]{9}[A-Z]{2}$'),
    arrayElement([1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 5],
        11 - arraySum(arrayMap((i, w) -> toUInt32OrZero(substring(tracking_number, 2 + i, 1)) * w, range(1, 9), [8, 6, 4, 2, 3, 5, 9, 7])) % 11),
    0) AS s10_check_digit,
-- USPS IMpb (22 digits, 91-95): mod 10, weights 3 and 1 from the right, for the others
if(state = 'shipped' AND match(tracking_number, '^9[1-5][0-9]{20}$'),
    (10 - arraySum(arrayMap(p -> toUInt32(substring(tracking_number, p, 1)) * if((21 - p) % 2 = 0, 3, 1), range(1, 22))) % 10) % 10,
    0) AS usps_check_digit,
if(state = 'shipped',
    multiIf(
        match(tracking_number, '^[A-Z]{2}[0-9]{9}[A-Z]{2}$')
            AND s10_check_digit != toUInt32OrZero(substring(tracking_number, 11, 1)),
            format('its UPU S10 check digit is {} where {} is required', substring(tracking_number, 11, 1), toString(s10_check_digit)),
        carrier IN {postal_carriers:Array(String)} AND NOT match(tracking_number, '^[A-Z]{2}[0-9]{9}[A-Z]{2}$'),
            'a postal item number must have the UPU S10 form (two letters, nine digits, two letters)',
        carrier = 'ups' AND NOT match(tracking_number, '^1Z[0-9A-Z]{16}$'),
            'a UPS number must be 1Z followed by 16 letters or digits',
        carrier IN ('ems', 'china-ems', 'japan-ems') AND match(tracking_number, '^[A-Z]{2}[0-9]{9}[A-Z]{2}$') AND NOT startsWith(tracking_number, 'E'),
            format('its UPU S10 service indicator {} is not EMS (EMS items start with E)', substring(tracking_number, 1, 2)),
        carrier IN ('dhl', 'dhl-express') AND match(tracking_number, '^[0-9]{10}$')
            AND toUInt64(substring(tracking_number, 1, 9)) % 7 != toUInt64(substring(tracking_number, 10, 1)),
            format('its DHL Express check digit is {} where {} is required', substring(tracking_number, 10, 1),
                toString(toUInt64(substring(tracking_number, 1, 9)) % 7)),
        carrier = 'yamato' AND NOT match(tracking_number, '^[0-9]{12}$'),
            'a Yamato number has 12 digits',
        carrier IN ('yamato', 'sagawa') AND match(tracking_number, '^[0-9]{12}$')
            AND toUInt64(substring(tracking_number, 1, 11)) % 7 != toUInt64(substring(tracking_number, 12, 1)),
            format('its check digit is {} where {} is required (the first eleven digits mod 7)', substring(tracking_number, 12, 1),
                toString(toUInt64(substring(tracking_number, 1, 11)) % 7)),
        carrier = 'fedex' AND NOT match(tracking_number, '^([0-9]{12}|[0-9]{15}|[0-9]{20}|[0-9]{22}|DT[0-9]{12})$'),
            'a FedEx number has 12, 15, 20 or 22 digits (or DT and 12 digits)',
        carrier IN ('usps', 'usps-international') AND match(tracking_number, '^9[1-5][0-9]{20}$') AND usps_check_digit != toUInt32(substring(tracking_number, 22, 1)),
            format('its USPS IMpb check digit is {} where {} is required', substring(tracking_number, 22, 1), toString(usps_check_digit)),
        ''),
    '') AS number_problem,
-- the same problem in Japanese, for the Japanese reason
if(number_problem = '', '',
    multiIf(
        match(tracking_number, '^[A-Z]{2}[0-9]{9}[A-Z]{2}$') AND s10_check_digit != toUInt32OrZero(substring(tracking_number, 11, 1)),
            format('UPU S10形式のチェックディジットが{}ですが、正しくは{}です', substring(tracking_number, 11, 1), toString(s10_check_digit)),
        carrier IN {postal_carriers:Array(String)},
            '郵便物の番号はUPU S10形式（英字2文字・数字9桁・英字2文字）でなければなりません',
        carrier = 'ups', 'UPSの番号は1Zに続く16文字の英数字です',
        carrier IN ('ems', 'china-ems', 'japan-ems'), format('UPU S10のサービス記号{}はEMSのものではありません（EMSの番号はEで始まります）', substring(tracking_number, 1, 2)),
        carrier IN ('dhl', 'dhl-express'),
            format('DHL Expressのチェックディジットが{}ですが、正しくは{}です', substring(tracking_number, 10, 1),
                toString(toUInt64OrZero(substring(tracking_number, 1, 9)) % 7)),
        carrier = 'yamato' AND NOT match(tracking_number, '^[0-9]{12}$'), 'ヤマト運輸の番号は12桁の数字です',
        carrier IN ('yamato', 'sagawa'),
            format('チェックディジットが{}ですが、正しくは{}です（先頭11桁を7で割った余り）', substring(tracking_number, 12, 1),
                toString(toUInt64OrZero(substring(tracking_number, 1, 11)) % 7)),
        carrier = 'fedex', 'FedExの番号は12桁・15桁・20桁・22桁の数字（またはDTと12桁）です',
        carrier IN ('usps', 'usps-international'), format('USPSのIMpbチェックディジットが{}ですが、正しくは{}です', substring(tracking_number, 22, 1), toString(usps_check_digit)),
        number_problem)) AS number_problem_ja
{{end}}
{{define "flag"}}state = 'shipped' AND number_problem != ''{{end}}
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
concat('{"declared_carrier":', toJSONString(carrier), ',"problem":', toJSONString(number_problem), '}')
{{end}}
