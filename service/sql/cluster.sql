-- The servers of a cluster, as the connected server's remote_servers names them
-- (clusterNodes): shard and replica numbers from 1.
{{define "cluster_nodes"}}
SELECT shard_num, replica_num, host_address, port FROM system.clusters
WHERE cluster = {cluster:String} ORDER BY shard_num, replica_num
{{end}}

-- What a shard's scheduled run recorded on the replica that evaluated it (from), copied
-- into this replica's table: the rows from this replica's latest version on (a block
-- copied twice collapses, the tables replace by key, or are read by their latest row).
{{define "sync_table"}}INSERT INTO {{.DB}}.{{.Table}} SELECT * FROM remote({from:String}, {db:String}, {table:String})
WHERE {{.Column}} >= (SELECT max({{.Column}}) FROM {{.DB}}.{{.Table}}){{end}}
