-- What `trackwatch config --check` asks the configured ClickHouse (Clients.SchemaState):
-- its version, whether the database has trackwatch's schema, and how many migrations it
-- has recorded.

{{define "server_version"}}SELECT version(){{end}}

-- Whether database {db} has the table the migrations are recorded in.
{{define "has_schema"}}SELECT count() > 0 FROM system.tables WHERE database = {db:String} AND name = 'schema_migrations'{{end}}

{{define "applied_migrations"}}SELECT count() FROM {{.DB}}.schema_migrations FINAL{{end}}
