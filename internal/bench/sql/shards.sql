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

-- What a node's alerts say, in one number: the count and the XOR of each alert's hash
-- (the shards' alerts are disjoint, so their XOR is one server's when they say the same).
{{define "alerts_digest"}}SELECT count(), groupBitXor(sipHash64(alert_id, status, severity, recommendation, reason, evidence,
    first_detected_at, last_detected_at, coalesce(toString(resolved_at), ''))) FROM {{.DB}}.alerts FINAL{{end}}

{{define "server_now"}}SELECT now64(3, 'UTC'){{end}}

-- The soak (soak.go): every alert change logged, through the cluster.
{{define "soak_changes"}}SELECT DISTINCT change_id FROM {{.DB}}.alert_changes{{end}}

-- The soak: the event ids stored in Table, through the cluster.
{{define "soak_event_ids"}}SELECT DISTINCT event_id FROM {{.DB}}.{{.Table}}{{end}}

-- The soak: a node's event rows: raw (a block re-read after a crash may be stored again
-- under another deduplication token, until a merge collapses it), after FINAL, distinct
-- ids, and a hash of the ids after FINAL that the replicas of a shard share when they
-- hold the same events; and its alert changes (their count and a hash of their ids).
{{define "soak_node_rows"}}SELECT t.raw, t.rows, t.ids, t.hash, o.raw, o.rows, o.ids, o.hash, c.ids, c.hash FROM
    (SELECT (SELECT count() FROM {{.DB}}.tracking_events) AS raw, count() AS rows, uniqExact(event_id) AS ids, groupBitXor(cityHash64(event_id)) AS hash FROM {{.DB}}.tracking_events FINAL) AS t,
    (SELECT (SELECT count() FROM {{.DB}}.order_events) AS raw, count() AS rows, uniqExact(event_id) AS ids, groupBitXor(cityHash64(event_id)) AS hash FROM {{.DB}}.order_events FINAL) AS o,
    (SELECT count() AS ids, groupBitXor(cityHash64(change_id)) AS hash FROM {{.DB}}.alert_changes FINAL) AS c{{end}}

-- Each table's size on disk in database {db}: rows, compressed and uncompressed bytes of
-- its active parts.
{{define "table_bytes"}}SELECT table, sum(rows) AS rows, sum(data_compressed_bytes) AS compressed, sum(data_uncompressed_bytes) AS uncompressed
FROM system.parts WHERE database = {db:String} AND active AND table != 'bench_held_events' GROUP BY table ORDER BY compressed DESC{{end}}

-- The soak: a node's alert changes (id, the moment of the run, its kind and order).
{{define "soak_node_changes"}}SELECT change_id, concat(toString(as_of), ' ', kind, ' ', detector, ' ', order_id) AS what FROM {{.DB}}.alert_changes FINAL{{end}}
