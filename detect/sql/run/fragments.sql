-- Conditions and expressions the detectors' SQL (../*.sql) shares, as template
-- functions: th "stalled_days" "carrier" "marketplace", window_start, ...

-- th: a threshold for a row: its carrier's value, else its marketplace's, else the
-- global one. .Name is the threshold, .Carrier and .Marketplace the row's columns.
{{define "th"}}if(empty({{"{"}}{{.Name}}_by_carrier:Map(String, UInt16)}) AND empty({{"{"}}{{.Name}}_by_marketplace:Map(String, UInt16)}), {{template "th_global" .}}, multiIf(mapContains({{"{"}}{{.Name}}_by_carrier:Map(String, UInt16)}, {{.Carrier}}), {{"{"}}{{.Name}}_by_carrier:Map(String, UInt16)}[{{.Carrier}}], mapContains({{"{"}}{{.Name}}_by_marketplace:Map(String, UInt16)}, {{.Marketplace}}), {{"{"}}{{.Name}}_by_marketplace:Map(String, UInt16)}[{{.Marketplace}}], {{template "th_global" .}})){{end}}
-- th_global: the global value of a threshold: its parameter, or, for the threshold a
-- varied set varies (NewVariedSet), the row's variant's value (.Global, the column
-- vary_value).
{{define "th_global"}}{{if .Global}}{{.Global}}{{else}}{{"{"}}{{.Name}}:UInt16}{{end}}{{end}}

-- window_start: the start of the recycle window of a row's carrier.
{{define "window_start"}}({as_of:DateTime64(3, 'UTC')} - toIntervalMonth({{template "th" .RecycleMonths}})){{end}}

-- window_start_min: the earliest start of any carrier's recycle window: no row before
-- its month can count (the summaries' partitions before it are skipped).
{{define "window_start_min"}}({as_of:DateTime64(3, 'UTC')} - toIntervalMonth(greatest({recycle_months:UInt16}, arrayMax(arrayConcat([toUInt16(0)], mapValues({recycle_months_by_carrier:Map(String, UInt16)})))))){{end}}

-- carrier_history: the condition on tracking_events for the carrier events a run
-- counts: those that occurred at or before the moment, within the recycle window before
-- it (an older event belongs to an earlier parcel with the same number).
{{define "carrier_history"}}occurred_at <= {as_of:DateTime64(3, 'UTC')} AND occurred_at >= {{template "window_start" .}}{{end}}

-- next_midnight: the first midnight (UTC) after the moment: when counts of days change.
{{define "next_midnight"}}toDateTime64(toStartOfDay({as_of:DateTime64(3, 'UTC')}) + toIntervalDay(1), 3, 'UTC'){{end}}

-- recycle_months_min: the shortest recycle window any carrier or marketplace has.
{{define "recycle_months_min"}}arrayMin(arrayConcat([{recycle_months:UInt16}], mapValues({recycle_months_by_carrier:Map(String, UInt16)}), mapValues({recycle_months_by_marketplace:Map(String, UInt16)}))){{end}}

-- journey_pack: an order's journey (order_journey.sql, as j) packed into one string, ''
-- for an order without one: a run's order state and candidates keep a row per order,
-- and the journey's nine columns beside the others raised ClickHouse's peak by some
-- 200 MiB at 1M orders, for the few orders that have one. journey_columns unpacks it
-- where the detectors read it (candidates.sql, findings.sql), under the columns' names.
{{define "journey_pack"}}if(j.order_id = '', '', concat(j.payment_method, '\x1f', ifNull(toString(toUnixTimestamp64Milli(j.cancel_requested_at)), ''),
    '\x1f', ifNull(toString(toUnixTimestamp64Milli(j.cancelled_at)), ''), '\x1f', ifNull(toString(toUnixTimestamp64Milli(j.disputed_at)), ''),
    '\x1f', ifNull(toString(toUnixTimestamp64Milli(j.dispute_answered_at)), ''), '\x1f', ifNull(toString(toUnixTimestamp64Milli(j.refund_approved_at)), ''),
    '\x1f', ifNull(toString(j.refund_due_amount), ''), '\x1f', ifNull(toString(toUnixTimestamp64Milli(j.refund_completed_at)), ''),
    '\x1f', ifNull(toString(j.refund_completed_amount), ''))){{end}}
{{define "journey_at"}}if(journey = '', NULL, fromUnixTimestamp64Milli(toInt64OrNull(splitByChar('\x1f', journey)[{{.}}]), 'UTC')){{end}}
{{define "journey_amount"}}if(journey = '', NULL, toDecimal64OrNull(splitByChar('\x1f', journey)[{{.}}], 4)){{end}}
{{define "journey_columns"}}splitByChar('\x1f', journey)[1] AS payment_method, {{template "journey_at" 2}} AS cancel_requested_at,
    {{template "journey_at" 3}} AS cancelled_at, {{template "journey_at" 4}} AS disputed_at, {{template "journey_at" 5}} AS dispute_answered_at,
    {{template "journey_at" 6}} AS refund_approved_at, {{template "journey_amount" 7}} AS refund_due_amount,
    {{template "journey_at" 8}} AS refund_completed_at, {{template "journey_amount" 9}} AS refund_completed_amount{{end}}
{{define "journey_names"}}payment_method, cancel_requested_at, cancelled_at, disputed_at, dispute_answered_at, refund_approved_at,
    refund_due_amount, refund_completed_at, refund_completed_amount{{end}}

-- shard: the condition that puts a row in the current pass of a stage. A stage that
-- would hold too much in memory at once runs in passes, each over a range of the
-- orders (order state) or the tracking numbers (candidates), which the summaries' and
-- the events' primary keys start with, so a pass reads only its part of them.
{{define "shard"}}({{.Column}} >= {pass_from:String} AND ({pass_last:Bool} OR {{.Column}} < {pass_to:String})){{end}}

-- order_events_where: the condition on order_events for the events a run summarises
-- itself: with summaries, those of the order_months rows that cross the moment;
-- without, every event up to it. A scoped run reads only the events of the orders of
-- its scope that have a row crossing the moment (from its copy of their rows).
{{define "order_crossing"}} AND month <= toStartOfMonth({as_of:DateTime64(3, 'UTC')})
          AND first_event_at <= {as_of:DateTime64(3, 'UTC')} AND last_event_at > {as_of:DateTime64(3, 'UTC')}{{end}}
{{define "order_events_where"}}{{template "shard" .OrderID}}{{if .Scoped}}{{if .Summaries}} AND order_id IN (SELECT order_id FROM {{.ScopeOrderMonths}} WHERE 1{{template "order_crossing"}}){{else}} AND order_id IN (SELECT order_id FROM {{.ScopeOrders}}){{end}}{{end}} AND occurred_at <= {as_of:DateTime64(3, 'UTC')}{{if .Summaries}} AND (order_id, toStartOfMonth(occurred_at)) IN (
        SELECT order_id, month FROM {{if .Scoped}}{{.ScopeOrderMonths}}{{else}}{{.DB}}.order_months FINAL{{end}}
        WHERE {{template "shard" .OrderID}}{{template "order_crossing"}}){{end}}{{end}}

-- journey_events_where: the condition on order_events for the events of the buyer's
-- journey a run summarises itself (order_journey.sql): with summaries, those of the
-- moment's month up to it; without, every one up to it. A scoped run reads its orders',
-- and with summaries only those whose month row crosses the moment (its copy of their
-- rows is merged: the rows wholly before the moment hold the rest), as the order state
-- does: at a moment that is now, hardly any.
{{define "journey_events_where"}}{{template "shard" .OrderID}}{{if .Scoped}}{{if .Summaries}} AND order_id IN (SELECT order_id FROM {{.ScopeOrderMonths}} WHERE 1{{template "order_crossing"}}){{else}} AND order_id IN (SELECT order_id FROM {{.ScopeOrders}}){{end}}{{end}} AND occurred_at <= {as_of:DateTime64(3, 'UTC')}
    {{- if .Summaries}} AND occurred_at >= toStartOfMonth({as_of:DateTime64(3, 'UTC')}){{end}}
    AND (status IN ('cancel_requested', 'cancel_rejected', 'cancelled', 'disputed', 'dispute_responded', 'dispute_escalated', 'refund_approved',
        'refund_completed') OR payment_method != ''){{end}}

-- summary_events_where: the condition on tracking_events for the events a run
-- summarises itself: with summaries, those of the carrier_months rows that cross an
-- edge of the window (a row wholly inside is read as stored, one wholly outside not at
-- all); without, every event of the window. A scoped run reads only the events of the
-- numbers of its scope that have a row crossing an edge (from its copy of their rows):
-- the primary key then selects few granules, where naming every number of the scope (a
-- few thousand, spread over the whole table) selected a fifth of the events at 100M.
{{define "summary_crossing"}} AND month >= toStartOfMonth({{template "window_start_min"}}) AND month <= toStartOfMonth({as_of:DateTime64(3, 'UTC')})
          AND NOT (first_event_at >= {{template "window_start" .}} AND last_event_at <= {as_of:DateTime64(3, 'UTC')})
          AND last_event_at >= {{template "window_start" .}} AND first_event_at <= {as_of:DateTime64(3, 'UTC')}{{end}}
{{define "summary_events_where"}}{{template "shard" .Number}}{{if .Scoped}}{{if .Summaries}} AND tracking_number IN (SELECT tracking_number FROM {{.ScopeCarrierMonths}} WHERE 1{{template "summary_crossing" .}}){{else}} AND tracking_number IN (SELECT tracking_number FROM {{.ScopeNumbers}}){{end}}{{end}} AND {{template "carrier_history" .}}{{if .Summaries}} AND (tracking_number, carrier, toStartOfMonth(occurred_at)) IN (
        SELECT tracking_number, carrier, month FROM {{if .Scoped}}{{.ScopeCarrierMonths}}{{else}}{{.DB}}.carrier_months FINAL{{end}}
        WHERE {{template "shard" .Number}}{{template "summary_crossing" .}}){{end}}{{end}}
