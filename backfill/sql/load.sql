-- A file load's progress (backfill_files, migration 0008).

-- The columns of backfill_files a load records, as progressRow and FileProgress name them.
{{define "progress_columns"}}file_id, path, kind, format, size, batch_rows, position, records, rows_stored, duplicates, dead_lettered, done, started_at, updated_at{{end}}

-- A file's progress, by its content's hash.
{{define "read_progress"}}
SELECT {{template "progress_columns"}} FROM {{.DB}}.backfill_files FINAL WHERE file_id = {id:String}
{{end}}

{{define "record_progress"}}
INSERT INTO {{.DB}}.backfill_files ({{template "progress_columns"}})
{{end}}

-- The files loads started, the most recently updated first; unfinished leaves out the
-- loaded ones.
{{define "files"}}
SELECT {{template "progress_columns"}} FROM {{.DB}}.backfill_files FINAL WHERE NOT ({unfinished:Bool} AND done)
ORDER BY updated_at DESC, path LIMIT {limit:UInt32}
{{end}}
