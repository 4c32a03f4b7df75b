-- The database and the table that records applied migrations, rendered like a
-- migration (engine, OnCluster) before any migration runs.

{{define "bootstrap"}}CREATE DATABASE IF NOT EXISTS {{.DB}}{{.OnCluster}};
CREATE TABLE IF NOT EXISTS {{.DB}}.schema_migrations{{.OnCluster}}
(
    version     UInt32,
    name        String,
    checksum    String,
    applied_at  DateTime64(3, 'UTC')
)
ENGINE = {{engine "ReplacingMergeTree" "applied_at"}}
ORDER BY version;{{end}}
