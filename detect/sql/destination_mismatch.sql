-- destination_mismatch: the carrier's destination, or the place it delivered, is not the
-- buyer's ship-to address. Spellings are compared normalised (JP = Japan, TOKYO = Tokyo,
-- 100-0001 = 1000001); the country always, then the postal code where both sides have
-- one, else the city where both sides have one.
{{define "columns"}}
(ship_to_country != '' AND dest_country != '' AND dest_country != ship_to_country)
    OR (ship_to_country = dest_country AND ship_to_postal != '' AND dest_postal != '' AND dest_postal != ship_to_postal)
    OR (ship_to_country = dest_country AND (ship_to_postal = '' OR dest_postal = '') AND ship_to_city != '' AND dest_city != '' AND dest_city != ship_to_city)
    AS destination_differs,
delivered AND (
    (ship_to_country != '' AND delivered_country != '' AND delivered_country != ship_to_country)
    OR (ship_to_country = delivered_country AND ship_to_postal != '' AND delivered_postal != '' AND delivered_postal != ship_to_postal))
    AS delivered_to_other_address
{{end}}
{{define "flag"}}
state NOT IN ('confirmed', 'completed', 'cancelled', 'refunded', 'refund_completed') AND events > 0
    AND (destination_differs OR delivered_to_other_address)
{{end}}
{{define "severity"}}'high'{{end}}
{{define "recommendation"}}'open_dispute'{{end}}
{{define "reason"}}
format('The order ships to {}, but for tracking number {} the carrier {} {}. The number belongs to a parcel going elsewhere, not to my order. I request a full refund.',
    concat(ship_to_country, if(ship_to_postal != '', concat(' ', ship_to_postal), ''), if(ship_to_city != '', concat(' ', ship_to_city), '')),
    tracking_number, if(delivered_to_other_address, 'delivered it to', 'shows the destination'),
    if(delivered_to_other_address,
        concat(delivered_country, if(delivered_postal != '', concat(' ', delivered_postal), ''), if(delivered_city != '', concat(' ', delivered_city), '')),
        concat(dest_country, if(dest_postal != '', concat(' ', dest_postal), ''), if(dest_city != '', concat(' ', dest_city), ''))))
{{end}}
{{define "reason_ja"}}
format('この注文の配送先は{}ですが、追跡番号{}について配送業者は{}としています。この番号は別の宛先に向かう荷物のもので、私の注文のものではありません。全額返金を希望します。',
    concat(ship_to_country, if(ship_to_postal != '', concat(' ', ship_to_postal), ''), if(ship_to_city != '', concat(' ', ship_to_city), '')),
    tracking_number,
    if(delivered_to_other_address,
        concat(delivered_country, if(delivered_postal != '', concat(' ', delivered_postal), ''), if(delivered_city != '', concat(' ', delivered_city), ''), 'に配達済み'),
        concat('配送先を', dest_country, if(dest_postal != '', concat(' ', dest_postal), ''), if(dest_city != '', concat(' ', dest_city), ''))))
{{end}}
{{define "evidence"}}
concat('{"ship_to":{"country":', toJSONString(ship_to_country), ',"postal_code":', toJSONString(ship_to_postal), ',"city":', toJSONString(ship_to_city), '}',
    ',"carrier_destination":{"country":', toJSONString(dest_country), ',"postal_code":', toJSONString(dest_postal), ',"city":', toJSONString(dest_city), '}',
    ',"delivered_at":{"country":', toJSONString(delivered_country), ',"postal_code":', toJSONString(delivered_postal), ',"city":', toJSONString(delivered_city), '}}')
{{end}}
