-- The migrator's reads and writes of the table that records applied migrations.

{{define "applied"}}SELECT version, argMax(checksum, applied_at) AS checksum FROM {{.DB}}.schema_migrations GROUP BY version{{end}}

{{define "record"}}INSERT INTO {{.DB}}.schema_migrations (version, name, checksum, applied_at) VALUES ({version:UInt32}, {name:String}, {checksum:String}, {at:DateTime64(3, 'UTC')}){{end}}
