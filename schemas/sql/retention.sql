-- Retention (retention.go): how long rows are kept, as a TTL on the table, applied at
-- start. Months is a validated integer (DDL takes no parameters); the server only
-- changes the table's metadata (materialize_ttl_after_modify off): rows past the window
-- go as their parts merge (ClickHouse merges for TTL at least every merge_with_ttl_timeout,
-- 4 hours by default).
{{define "modify_ttl"}}ALTER TABLE {{.DB}}.{{.Table}}{{.OnCluster}} MODIFY TTL {{.Column}} + toIntervalMonth({{.Months}}){{end}}

-- The TTL of a table as the server shows it (in engine_full).
{{define "table_engine"}}SELECT engine_full FROM system.tables WHERE database = {db:String} AND name = {table:String}{{end}}
