-- What a replay of the topics reads of the stored data.

-- The offsets in [a, b] of a partition already stored as rows (Table: the topic's events
-- table) or as dead letters.
{{define "stored_offsets"}}
SELECT source_offset FROM {{.DB}}.{{.Table}}
WHERE source_kind = 'kafka' AND source_topic = {topic:String} AND source_partition = {p:Int32} AND source_offset BETWEEN {a:Int64} AND {b:Int64}
UNION DISTINCT SELECT offset FROM {{.DB}}.dead_letters
WHERE topic = {topic:String} AND partition = {p:Int32} AND offset BETWEEN {a:Int64} AND {b:Int64}
{{end}}
