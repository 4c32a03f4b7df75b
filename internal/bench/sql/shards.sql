-- bench detect --shards (shards.go): copying a scale's data from one server to a
-- cluster, and what each server read.

-- Rows the server has selected from its tables since it started (a counter of its own:
-- each node of an embedded cluster is a process of its own).
{{define "selected_rows"}}SELECT sum(value) FROM system.events WHERE event = 'SelectedRows'{{end}}

-- Every row of table on the one server (from, host:port) into the cluster, through the
-- Distributed table of the same name (sharded as ingest shards it).
{{define "copy_table"}}INSERT INTO {{.DB}}.{{.Table}} SELECT * FROM remote({from:String}, {db:String}, {table:String}){{end}}

-- The carrier events the one server stored since {since} (the same rows, ingested_at
-- kept) into the cluster.
{{define "copy_new_events"}}INSERT INTO {{.DB}}.tracking_events SELECT * FROM remote({from:String}, {db:String}, 'tracking_events') WHERE ingested_at >= {since:DateTime64(3, 'UTC')}{{end}}

{{define "server_now"}}SELECT now64(3, 'UTC'){{end}}
