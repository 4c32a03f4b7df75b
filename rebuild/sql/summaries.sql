-- Rebuilding a month of a summary (carrier_months from tracking_events, order_months from
-- order_events: migrations 0011 and 0013). Rendered with DB, Summary (the summary's
-- name), Table (the same, an identifier), Staging (the staging table's), Events (the
-- events table's) and States (the view's SELECT over a table and a condition, from
-- package schemas).

-- The calendar months (UTC) in which the events table has events.
{{define "event_months"}}
SELECT DISTINCT toDateTime(toStartOfMonth(occurred_at), 'UTC') AS month FROM {{.DB}}.{{.Events}} ORDER BY month
{{end}}

-- The server's clock: events stored from then on are summarised after the swap.
{{define "now"}}SELECT now64(3){{end}}

-- Each summary's sorting key.
{{define "sorting_key"}}{{if eq .Summary "carrier_months"}}tracking_number, carrier, month{{else if eq .Summary "order_months"}}order_id, month{{end}}{{end}}

{{define "drop_staging"}}DROP TABLE IF EXISTS {{.DB}}.{{.Staging}}{{end}}

{{define "create_staging"}}
CREATE TABLE {{.DB}}.{{.Staging}} AS {{.DB}}.{{.Table}}
ENGINE = AggregatingMergeTree PARTITION BY toYYYYMM(month) ORDER BY ({{template "sorting_key" .}})
{{end}}

-- The month's events stored before the rebuild started, summarised into the staging table.
{{define "fill_staging"}}
INSERT INTO {{.DB}}.{{.Staging}}
{{call .States (print .DB "." .Events) "toYYYYMM(occurred_at) = {partition:UInt32} AND ingested_at < {since:DateTime64(3, 'UTC')}"}}
{{end}}

-- The staging table's month replaces the summary's. ClickHouse takes no query parameter
-- for a partition ID: Partition is a number (YYYYMM).
{{define "replace_month"}}ALTER TABLE {{.DB}}.{{.Table}} REPLACE PARTITION ID '{{.Partition}}' FROM {{.DB}}.{{.Staging}}{{end}}

-- The month's events stored since the rebuild started, which the view summarised into
-- the month replaced, summarised again.
{{define "fill_since"}}
INSERT INTO {{.DB}}.{{.Table}}
{{call .States (print .DB "." .Events) "toYYYYMM(occurred_at) = {partition:UInt32} AND ingested_at >= {since:DateTime64(3, 'UTC')}"}}
{{end}}

{{define "drop_staging_after"}}DROP TABLE {{.DB}}.{{.Staging}}{{end}}
