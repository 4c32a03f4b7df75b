-- The cluster-facing tables of a sharded cluster (cluster.go): each a Distributed table
-- over the node's table of the same name in the local database. Names are validated
-- identifiers (DDL takes no parameters).

-- tables: the local database's tables (not views) and their columns, in order, and the
-- cluster-facing database's.
{{define "tables"}}
SELECT c.database AS database, c.table AS table, any(t.engine) AS engine,
    arrayStringConcat(arrayMap(x -> concat(x.2, ' ', x.3), arraySort(x -> x.1, groupArray((c.position, c.name, c.type)))), ', ') AS columns
FROM system.columns AS c
INNER JOIN system.tables AS t ON t.database = c.database AND t.name = c.table
WHERE c.database IN ({local:String}, {db:String}) AND t.engine NOT IN ('MaterializedView', 'View')
GROUP BY c.database, c.table
ORDER BY database, table
{{end}}

{{define "database"}}CREATE DATABASE IF NOT EXISTS {{.DB}}{{.OnCluster}}{{end}}

-- distributed: the cluster-facing table over a local one; replace is for a local table
-- whose columns changed (a migration added some): a Distributed table holds no rows.
-- OnCluster is empty, or ON CLUSTER on a keeper cluster (created once, for every node).
{{define "distributed"}}{{if .Replace}}CREATE OR REPLACE TABLE{{else}}CREATE TABLE IF NOT EXISTS{{end}} {{.DB}}.{{.Table}}{{.OnCluster}} AS {{.Local}}.{{.Table}}
ENGINE = Distributed('{{.Cluster}}', '{{.LocalName}}', '{{.TableName}}'{{if .Key}}, {{.Key}}{{end}}){{end}}
