-- A scheduled run's scope (scope.go): what can have changed since the previous run,
-- into the run's temporary tables, and the checkpoint the next run builds on.

-- The server's clock, which stamps ingested_at: the run's watermark.
{{define "watermark"}}SELECT now64(3){{end}}

-- The latest recorded scheduled run of the set, or a reset (detectors '').
{{define "checkpoint"}}SELECT count() AS n, argMax(detectors, written_at) AS d, argMax(config_hash, written_at) AS h,
    argMax(as_of, written_at) AS a, argMax(watermark, written_at) AS w,
    maxIf(as_of, full AND detectors = {set_key:String} AND config_hash = {hash:UInt64}) AS last_full
FROM {{.DB}}.detect_checkpoints WHERE detectors IN ({set_key:String}, ''){{end}}

-- What changed: stored since the previous run's watermark, occurring since its moment,
-- or an order whose next check has come.
{{define "scope_changes"}}CREATE TEMPORARY TABLE {{.Changed}} ENGINE = Memory AS
SELECT DISTINCT kind, key FROM (
    SELECT toString(kind) AS kind, key FROM {{.DB}}.detect_changes WHERE ingested_at > {since_ingested:DateTime64(3, 'UTC')}
    UNION ALL
    SELECT toString(kind) AS kind, key FROM {{.DB}}.detect_changes
    WHERE occurred_at > {since:DateTime64(3, 'UTC')} AND occurred_at <= {as_of:DateTime64(3, 'UTC')}
    UNION ALL
    SELECT 'order' AS kind, order_id AS key FROM {{.DB}}.detect_next_checks
    WHERE detectors = {set_key:String} AND check_at > {since:DateTime64(3, 'UTC')} AND check_at <= {as_of:DateTime64(3, 'UTC')}
){{end}}

{{define "scope_base"}}CREATE TEMPORARY TABLE {{.Base}} ENGINE = Memory AS
SELECT DISTINCT order_id FROM (
    SELECT key AS order_id FROM {{.Changed}} WHERE kind = 'order'
    UNION ALL
    SELECT order_id FROM {{.DB}}.order_numbers WHERE tracking_number IN (SELECT key FROM {{.Changed}} WHERE kind = 'number')
){{end}}

{{define "scope_numbers"}}CREATE TEMPORARY TABLE {{.Numbers}} ENGINE = Memory AS
SELECT DISTINCT tracking_number FROM (
    SELECT tracking_number FROM {{.DB}}.order_events WHERE order_id IN (SELECT order_id FROM {{.Base}})
    UNION ALL
    SELECT key AS tracking_number FROM {{.Changed}} WHERE kind = 'number'
){{end}}

{{define "scope_orders"}}CREATE TEMPORARY TABLE {{.Orders}} ENGINE = Memory AS
SELECT DISTINCT order_id FROM (
    SELECT order_id FROM {{.DB}}.order_numbers WHERE tracking_number IN (SELECT tracking_number FROM {{.Numbers}})
    UNION ALL
    SELECT order_id FROM {{.Base}}
){{end}}

{{define "scope_size"}}SELECT count() FROM {{.Orders}}{{end}}

-- Copies of the scope's summary rows, merged (reading the summaries FINAL and filtered
-- by a temporary table fails in ClickHouse 26.7 at scale).
{{define "scope_order_months"}}CREATE TEMPORARY TABLE {{.OrderMonths}} ENGINE = Memory AS
SELECT {{order_months_merged}} FROM {{.DB}}.order_months
WHERE order_id IN (SELECT order_id FROM {{.Orders}}) GROUP BY order_id, month{{end}}
{{define "scope_carrier_months"}}CREATE TEMPORARY TABLE {{.CarrierMonths}} ENGINE = Memory AS
SELECT {{carrier_months_merged}} FROM {{.DB}}.carrier_months
WHERE tracking_number IN (SELECT tracking_number FROM {{.Numbers}}) GROUP BY tracking_number, carrier, month{{end}}

-- How many of the scope's month rows say something of a buyer's journey (the rows hold
-- every event's, whenever it occurred), or whether any order's does (a run over every
-- order): with none, the run leaves the journey out.
{{define "journey_row"}}payment != '' OR cancel_requested_at IS NOT NULL OR cancelled_at IS NOT NULL OR disputed_at IS NOT NULL
    OR dispute_answered_at IS NOT NULL OR refund_approved_at IS NOT NULL OR refund_due != '' OR refund_completed != ''{{end}}
{{define "scope_journeys"}}SELECT count() FROM {{.OrderMonths}} WHERE {{template "journey_row"}}{{end}}
-- Whether any order has a journey at all (a run over every order): the first such row ends it.
{{define "any_journey"}}SELECT count() FROM (SELECT 1 FROM {{.DB}}.order_months WHERE {{template "journey_row"}} LIMIT 1){{end}}

-- The orders whose findings a scoped run evaluated: a consumer changes what it keeps
-- for those alone.
-- A seller's alert (seller_valid_tracking_rate: no order id) is in the scope of a run
-- that evaluates the sellers (.Sellers: the first scoped run of each hour).
{{define "scope_condition"}}({{if .Sellers}}{{.Column}} = '' OR {{end}}{{.Column}} IN (SELECT order_id FROM {{.Base}}) OR {{.Column}} IN (SELECT order_id FROM {{.RunOrders}} WHERE tracking_number IN (SELECT tracking_number FROM {{.Numbers}}))){{end}}

-- A recorded scheduled run, the one the next builds on.
{{define "commit"}}INSERT INTO {{.DB}}.detect_checkpoints (detectors, config_hash, as_of, watermark, full)
SELECT {set_key:String}, {hash:UInt64}, {as_of:DateTime64(3, 'UTC')}, {watermark:DateTime64(3, 'UTC')}, {full:Bool}{{end}}

-- The candidates without the rows that only carry a next check (the findings read these),
-- and the candidates of the findings named in a table (FindingsOf).
{{define "flagged"}}(SELECT * FROM {{.Candidates}} WHERE detector != '~next'){{end}}
{{define "only_rows"}}(SELECT * FROM {{.Candidates}} WHERE (detector, order_id, tracking_number) IN (SELECT detector, order_id, tracking_number FROM {{.Table}})){{end}}

-- The moment of the latest scheduled run of the set recorded in this database (0 when
-- none): on a cluster, the replica of a shard with the latest evaluates the next.
{{define "latest_scheduled"}}SELECT max(as_of) FROM {{.DB}}.detect_checkpoints WHERE detectors = {set_key:String}{{end}}

-- The sellers stage's findings (seller_valid_tracking_rate, ../seller_valid_tracking_rate.sql),
-- all or those named in a table (FindingsOf).
{{define "seller_rows"}}(SELECT * FROM {{.Sellers}}{{if .Table}} WHERE (detector, order_id, tracking_number) IN (SELECT detector, order_id, tracking_number FROM {{.Table}}){{end}}){{end}}

-- A set of seller_valid_tracking_rate alone: its findings are the sellers stage's (no
-- order state, no candidates), and a scoped run's alerts are the sellers'.
{{define "seller_findings"}}SELECT *{{if .Draft}}, toUInt64(0) AS timeline_key{{end}} FROM {{.Rows}}{{end}}
{{define "seller_scope_condition"}}{{if .Sellers}}({{.Column}} = ''){{else}}0{{end}}{{end}}
