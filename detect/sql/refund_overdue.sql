-- refund_overdue: a refund is due (refund_approved: a refund granted, a dispute won; or
-- a cancellation the buyer requested that ended in cancelled: a cancellation won) and
-- has not been completed, or was completed short of the amount due, after the payment
-- method's upper bound in business days (Monday to Friday in UTC, skipping the
-- marketplace's holidays from detect.holidays): PayPal 5, wallet 5, debit card 10,
-- credit card 15, bank transfer 20, convenience store 20, another or an unknown method
-- 20 ({refund_days_<method>}). The guides: "no refund after 20 days" is the trigger to
-- contact support. The days counted are the whole business days after the day the
-- refund became due, up to the day before the moment. The amount due is the approval's
-- refund_amount, else the order's amount; refund_completed's refund_amount is the
-- amount refunded in all (absent: all of it). A v1 `refunded` order counts as refunded.
-- The refund's facts, as expressions (each block stands for the name it is called
-- after): kept out of the candidates' columns, which every order carries.
{{define "due_at"}}multiIf(refund_approved_at IS NOT NULL AND (cancelled_at IS NULL OR cancel_requested_at IS NULL OR cancelled_at < cancel_requested_at
        OR refund_approved_at <= cancelled_at), refund_approved_at,
    cancelled_at IS NOT NULL AND cancel_requested_at IS NOT NULL AND cancelled_at >= cancel_requested_at, cancelled_at, NULL){{end}}
{{define "expected"}}ifNull(refund_due_amount, amount){{end}}
{{define "paid"}}if(refund_completed_at IS NULL, NULL, ifNull(refund_completed_amount, {{template "expected"}})){{end}}
{{define "missing"}}if({{template "paid"}} IS NOT NULL AND {{template "expected"}} IS NOT NULL AND {{template "paid"}} < {{template "expected"}},
    {{template "expected"}} - {{template "paid"}}, NULL){{end}}
-- the same facts as columns of a finding (findings.sql computes a detector's "facts"
-- once per flagged row): the texts below read these, and each use of an expression
-- above in them was planned anew (the stage's planning took four times as long)
{{define "facts"}}{{template "due_at"}} AS refund_due_at, {{template "expected"}} AS refund_expected, {{template "paid"}} AS refund_paid,
    {{template "missing"}} AS refund_missing{{end}}
{{define "pending"}}({{template "due_at"}} IS NOT NULL AND ((refund_completed_at IS NULL AND state != 'refunded') OR {{template "missing"}} IS NOT NULL)){{end}}
{{define "columns"}}
multiIf(payment_method = 'paypal', {{th "refund_days_paypal" "''" "marketplace"}},
    payment_method = 'wallet', {{th "refund_days_wallet" "''" "marketplace"}},
    payment_method = 'card_debit', {{th "refund_days_card_debit" "''" "marketplace"}},
    payment_method = 'card_credit', {{th "refund_days_card_credit" "''" "marketplace"}},
    payment_method = 'bank_transfer', {{th "refund_days_bank_transfer" "''" "marketplace"}},
    payment_method = 'convenience_store', {{th "refund_days_convenience_store" "''" "marketplace"}},
    {{th "refund_days_other" "''" "marketplace"}}) AS refund_window_days,
-- the business days waited, for a refund still due (0 for any other order)
toUInt16(if({{template "pending"}},
    arrayCount(d -> toDayOfWeek(d) < 6 AND NOT has({holidays_by_marketplace:Map(String, Array(String))}[marketplace], toString(d)),
        arrayMap(i -> toDate({{template "due_at"}}) + toIntervalDay(i + 1),
            range(toUInt32(least(3650, greatest(0, dateDiff('day', toDate({{template "due_at"}}), toDate({as_of:DateTime64(3, 'UTC')})) - 1)))))),
    0)) AS refund_business_days
{{end}}
{{define "next_check"}}
-- each midnight adds a day to the count
if({{template "pending"}}, [{{next_midnight}}], [])
{{end}}
{{define "flag"}}refund_business_days >= refund_window_days{{end}}
-- it flags only an order with a buyer's journey (a scoped run whose orders have none leaves it out)
{{define "needs_journey"}}true{{end}}
{{define "severity"}}'medium'{{end}}
{{define "recommendation"}}'contact_support'{{end}}
{{define "reason"}}
ifNull(
format('{} on {}. The order was paid by {}, refunded within {} business days; {} business days ({} days) have passed, and {}. I ask support to check the refund and complete it.',
    if(refund_due_at = refund_approved_at, 'The refund for this order was approved', 'My cancellation of this order was approved'),
    toString(toDate(refund_due_at)),
    multiIf(payment_method = 'paypal', 'PayPal', payment_method = 'wallet', 'wallet', payment_method = 'card_debit', 'debit card',
        payment_method = 'card_credit', 'credit card', payment_method = 'bank_transfer', 'bank transfer',
        payment_method = 'convenience_store', 'convenience store payment', payment_method = 'other', 'another method', 'an unknown method'),
    toString(refund_window_days), toString(refund_business_days),
    toString(dateDiff('day', refund_due_at, {as_of:DateTime64(3, 'UTC')})),
    if(refund_missing IS NOT NULL,
        concat('only ', toString(refund_paid), ' of ', toString(refund_expected), ' has been refunded: ', toString(refund_missing), ' is missing'),
        'the refund has not arrived')), '')
{{end}}
{{define "reason_ja"}}
ifNull(
format('{}。支払方法は{}で、返金は{}営業日以内のはずですが、{}営業日（{}日）が経っても{}。返金の確認と完了をサポートに依頼します。',
    if(refund_due_at = refund_approved_at, concat(toString(toDate(refund_due_at)), 'にこの注文の返金が承認されました'),
        concat(toString(toDate(refund_due_at)), 'にこの注文のキャンセルが承認されました')),
    multiIf(payment_method = 'paypal', 'PayPal', payment_method = 'wallet', 'ウォレット', payment_method = 'card_debit', 'デビットカード',
        payment_method = 'card_credit', 'クレジットカード', payment_method = 'bank_transfer', '銀行振込',
        payment_method = 'convenience_store', 'コンビニ払い', payment_method = 'other', 'その他の方法', '不明な方法'),
    toString(refund_window_days), toString(refund_business_days),
    toString(dateDiff('day', refund_due_at, {as_of:DateTime64(3, 'UTC')})),
    if(refund_missing IS NOT NULL,
        concat(toString(refund_expected), 'のうち', toString(refund_paid), 'しか返金されていません（不足額 ', toString(refund_missing), '）'),
        '返金されていません')), '')
{{end}}
{{define "evidence"}}
ifNull(
concat('{"refund_due_at":', toJSONString(toString(refund_due_at)), ',"payment_method":', toJSONString(if(payment_method = '', 'unknown', payment_method)),
    ',"business_days_waited":', toString(refund_business_days), ',"window_business_days":', toString(refund_window_days),
    ',"expected_amount":', if(refund_expected IS NULL, 'null', toJSONString(toString(refund_expected))),
    ',"refunded_amount":', if(refund_paid IS NULL, 'null', toJSONString(toString(refund_paid))),
    ',"missing_amount":', if(refund_missing IS NULL, 'null', toJSONString(toString(refund_missing))), '}'), '')
{{end}}
