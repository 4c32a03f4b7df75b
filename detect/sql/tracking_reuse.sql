-- tracking_reuse: the number is also on other orders shipped within {recycle_months}
-- months that go to a different address or a different buyer. One buyer's several orders
-- in one combined parcel (same buyer, same address) is normal; a number reissued after
-- the recycle window is not reuse. The other orders (`others`) are found in candidates.sql.
{{define "flag"}}state NOT IN ('confirmed', 'completed', 'cancelled', 'refunded', 'refund_completed') AND length(others) > 0{{end}}
{{define "severity"}}'high'{{end}}
{{define "recommendation"}}'open_dispute'{{end}}
{{define "reason"}}
format('The seller gave tracking number {} for my order, but the same number was also given for {} other order(s) ({}) going to other buyers or addresses. One parcel cannot be delivered to different addresses; my order was not shipped with this number. I request a full refund.',
    tracking_number, toString(length(others)), arrayStringConcat(arraySlice(others, 1, 10), ', '))
{{end}}
{{define "reason_ja"}}
format('販売者は私の注文に追跡番号{}を登録しましたが、同じ番号が別の購入者または別の住所宛ての他の注文{}件（{}）にも登録されています。1つの荷物を異なる住所に届けることはできず、私の注文はこの番号で発送されていません。全額返金を希望します。',
    tracking_number, toString(length(others)), arrayStringConcat(arraySlice(others, 1, 10), ', '))
{{end}}
{{define "evidence"}}
concat('{"other_orders":', toJSONString(others), ',"ship_to":{"country":', toJSONString(ship_to_country), ',"postal_code":', toJSONString(ship_to_postal), ',"city":', toJSONString(ship_to_city), '}}')
{{end}}
