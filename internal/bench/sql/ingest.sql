-- The ingest benchmark's statements (ingest.go); the Kafka engine reference is in
-- kafka_engine.sql.

-- Produce -> queryable of the latency phase's carrier events, in milliseconds: the
-- median and 99th percentile, and the maximum. ingested_at is set by the server when the
-- block is inserted; occurred_at is the moment the event was produced.
{{define "latency_quantiles"}}SELECT quantilesExact(0.5, 0.99)(ms), max(ms) FROM (SELECT toFloat64(dateDiff('millisecond', occurred_at, ingested_at)) AS ms FROM {{.DB}}.tracking_events){{end}}

-- The server side: the rows trackwatch stored in .From copied into the same table of the
-- database, inside ClickHouse.
{{define "copy_table"}}INSERT INTO {{.DB}}.{{.Table}} SELECT * FROM {{.From}}.{{.Table}}{{end}}

-- The rows of both event tables, summed: the Kafka engine reference is done when they
-- hold every event.
{{define "count_all_events"}}SELECT (SELECT count() FROM {{.DB}}.tracking_events) + (SELECT count() FROM {{.DB}}.order_events){{end}}

{{define "drop_table"}}DROP TABLE {{.DB}}.{{.Table}}{{end}}
