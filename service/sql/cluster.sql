-- The servers of a cluster, as the connected server's remote_servers names them
-- (clusterNodes): shard and replica numbers from 1.
{{define "cluster_nodes"}}
SELECT shard_num, replica_num, host_address, port FROM system.clusters
WHERE cluster = {cluster:String} ORDER BY shard_num, replica_num
{{end}}
