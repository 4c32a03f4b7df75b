-- The buyer's journey after the order (issue 25): a cancellation request and its
-- rejection, dispute milestones, refunds, and the payment method that sets how long a
-- refund may take. order_events gains the contract's new fields; order_months keeps, per
-- order and month, what the detectors cancel_dodged, dispute_unanswered and
-- refund_overdue read (the first cancellation request, the first cancellation, the
-- latest dispute and the latest answer to one, the first refund approval, the amount due
-- and the latest completed refund, the latest payment method). Every new column is a
-- min or a max, like the others. An order's state (latest) no longer counts the
-- milestones that do not change it (cancel_requested, cancel_rejected,
-- dispute_responded, dispute_escalated, refund_approved): no stored event has one, the
-- contract refused them before, so the stored rows stay right.
ALTER TABLE {{.DB}}.order_events{{.OnCluster}}
    ADD COLUMN IF NOT EXISTS payment_method LowCardinality(String) DEFAULT '' COMMENT 'card_credit, card_debit, paypal, bank_transfer, convenience_store, wallet, other; on paid' AFTER number_spec,
    ADD COLUMN IF NOT EXISTS refund_amount Nullable(Decimal(18, 4)) COMMENT 'on refund_approved: due; on refund_completed: refunded in all so far' AFTER payment_method,
    ADD COLUMN IF NOT EXISTS reason String DEFAULT '' COMMENT 'the stated reason of a cancellation request, a dispute, a refund' CODEC(ZSTD(1)) AFTER refund_amount;

ALTER TABLE {{.DB}}.order_months{{.OnCluster}}
    ADD COLUMN IF NOT EXISTS payment SimpleAggregateFunction(max, String) DEFAULT '' COMMENT 'packed: time, payment_method' AFTER amount_at,
    ADD COLUMN IF NOT EXISTS cancel_requested_at SimpleAggregateFunction(min, Nullable(DateTime64(3, 'UTC'))) COMMENT 'the first cancel_requested or cancel_rejected' AFTER payment,
    ADD COLUMN IF NOT EXISTS cancelled_at SimpleAggregateFunction(min, Nullable(DateTime64(3, 'UTC'))) COMMENT 'the first cancelled' AFTER cancel_requested_at,
    ADD COLUMN IF NOT EXISTS disputed_at SimpleAggregateFunction(max, Nullable(DateTime64(3, 'UTC'))) COMMENT 'the latest disputed' AFTER cancelled_at,
    ADD COLUMN IF NOT EXISTS dispute_answered_at SimpleAggregateFunction(max, Nullable(DateTime64(3, 'UTC'))) COMMENT 'the latest dispute_responded or dispute_escalated' AFTER disputed_at,
    ADD COLUMN IF NOT EXISTS refund_approved_at SimpleAggregateFunction(min, Nullable(DateTime64(3, 'UTC'))) COMMENT 'the first refund_approved' AFTER dispute_answered_at,
    ADD COLUMN IF NOT EXISTS refund_due SimpleAggregateFunction(max, String) DEFAULT '' COMMENT 'packed: time, refund_amount of the latest refund_approved that gave one' AFTER refund_approved_at,
    ADD COLUMN IF NOT EXISTS refund_completed SimpleAggregateFunction(max, String) DEFAULT '' COMMENT 'packed: time, refund_amount (empty if none) of the latest refund_completed' AFTER refund_due;

-- The view's query changes: it is dropped and created again with the new one (migrations
-- run before the ingest starts, so no insert falls between the two).
DROP VIEW IF EXISTS {{.DB}}.order_months_mv{{.OnCluster}};

CREATE MATERIALIZED VIEW IF NOT EXISTS {{.DB}}.order_months_mv{{.OnCluster}} TO {{.DB}}.order_months AS
{{orderJourneyMonthStates (printf "%s.order_events" .DB) "1"}};

-- The history stored before this migration that the new columns describe (none where
-- the contract refused the new statuses and fields; events dead-lettered for them and
-- replayed after the upgrade arrive through the view). Every column is a min or a max,
-- so summarising these events again beside their months' stored rows changes nothing
-- else. On a cluster: `trackwatch migrate --rebuild-summaries`.
{{- if not .OnCluster}}
INSERT INTO {{.DB}}.order_months
{{orderJourneyMonthStates (printf "%s.order_events" .DB) "status IN ('cancel_requested', 'cancel_rejected', 'dispute_responded', 'dispute_escalated', 'refund_approved', 'refund_completed') OR payment_method != ''"}};
{{- end}}
