-- Statements more than one benchmark runs.

-- The rows of a database's carrier events.
{{define "count_tracking_events"}}SELECT count() FROM {{.DB}}.tracking_events{{end}}

-- The rows of .Table in the database.
{{define "count_rows"}}SELECT count() FROM {{.DB}}.{{.Table}}{{end}}

-- The rows of a database's carrier events and of its order events.
{{define "count_events"}}SELECT (SELECT count() FROM {{.DB}}.tracking_events), (SELECT count() FROM {{.DB}}.order_events){{end}}

-- ClickHouse returns the memory its allocator kept from earlier work to the system, so
-- that the peak of a measurement after it is that measurement's.
{{define "jemalloc_purge"}}SYSTEM JEMALLOC PURGE{{end}}
