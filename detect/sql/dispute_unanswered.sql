-- dispute_unanswered: the buyer's latest dispute has been open for {dispute_answer_days}
-- days (default 5: the seller's response period) with no dispute_responded, no
-- dispute_escalated and no outcome (a refund approved or completed, the order
-- refunded, cancelled, completed or confirmed) since it was opened: the buyer should ask
-- the platform to step in. An answered dispute is left alone, and so is a younger one.
{{define "next_check"}}
-- the response period ends; once it has, each day changes the reason's count of days
if(disputed_at IS NOT NULL AND (dispute_answered_at IS NULL OR dispute_answered_at < disputed_at)
        AND (refund_approved_at IS NULL OR refund_approved_at < disputed_at),
    [if(disputed_at + toIntervalDay({{th "dispute_answer_days" "carrier" "marketplace"}}) > {as_of:DateTime64(3, 'UTC')},
        disputed_at + toIntervalDay({{th "dispute_answer_days" "carrier" "marketplace"}}), {{next_midnight}})], [])
{{end}}
{{define "flag"}}
disputed_at IS NOT NULL AND (dispute_answered_at IS NULL OR dispute_answered_at < disputed_at)
    AND (refund_approved_at IS NULL OR refund_approved_at < disputed_at)
    AND (refund_completed_at IS NULL OR refund_completed_at < disputed_at)
    AND state NOT IN ('refunded', 'refund_completed', 'cancelled', 'completed', 'confirmed')
    AND disputed_at <= {as_of:DateTime64(3, 'UTC')} - toIntervalDay({{th "dispute_answer_days" "carrier" "marketplace"}})
{{end}}
-- it flags only an order with a buyer's journey (a scoped run whose orders have none leaves it out)
{{define "needs_journey"}}true{{end}}
{{define "severity"}}'medium'{{end}}
{{define "recommendation"}}'escalate_dispute'{{end}}
{{define "reason"}}
ifNull(
format('I opened a dispute for this order (tracking number {}) on {}. The seller had {} days to respond and has not responded in {} days. I ask the platform to step in and decide the dispute: I request a full refund.',
    if(tracking_number = '', 'none', tracking_number), toString(toDate(disputed_at)),
    toString({{th "dispute_answer_days" "carrier" "marketplace"}}), toString(dateDiff('day', disputed_at, {as_of:DateTime64(3, 'UTC')}))), '')
{{end}}
{{define "reason_ja"}}
ifNull(
format('私は{}にこの注文（追跡番号{}）の紛争を開始しました。販売者の回答期限は{}日ですが、{}日が経っても回答がありません。プラットフォームによる介入と裁定を求めます。全額返金を希望します。',
    toString(toDate(disputed_at)), if(tracking_number = '', 'なし', tracking_number),
    toString({{th "dispute_answer_days" "carrier" "marketplace"}}), toString(dateDiff('day', disputed_at, {as_of:DateTime64(3, 'UTC')}))), '')
{{end}}
{{define "evidence"}}
ifNull(
concat('{"disputed_at":', toJSONString(toString(disputed_at)),
    ',"days_open":', toString(dateDiff('day', disputed_at, {as_of:DateTime64(3, 'UTC')})),
    ',"answer_days":', toString({{th "dispute_answer_days" "carrier" "marketplace"}}),
    ',"last_answer_at":', if(dispute_answered_at IS NULL, 'null', toJSONString(toString(dispute_answered_at))), '}'), '')
{{end}}
