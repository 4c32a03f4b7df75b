-- The servers of a cluster, as the connected server's remote_servers names them
-- (clusterNodes): shard and replica numbers from 1.
{{define "cluster_nodes"}}
SELECT shard_num, replica_num, host_address, port FROM system.clusters
WHERE cluster = {cluster:String} ORDER BY shard_num, replica_num
{{end}}

-- What a shard's scheduled run recorded on the replica that evaluated it, copied to
-- another replica (syncReplica): the other replica's latest version of a table, then the
-- evaluating replica's rows from it on (a row copied twice collapses: the tables replace
-- by key, or are read by their latest row).
{{define "sync_latest"}}SELECT toString(max({{.Column}})) FROM {{.DB}}.{{.Table}}{{end}}

-- In version order: an insert cut short keeps a prefix, which the next copy continues
-- from its latest version.
{{define "sync_rows"}}SELECT * FROM {{.DB}}.{{.Table}} WHERE {{.Column}} >= {from:String} ORDER BY {{.Column}}{{end}}

{{define "sync_insert"}}INSERT INTO {{.DB}}.{{.Table}}{{end}}
