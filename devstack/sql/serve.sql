-- The query the embedded ClickHouse's child process runs (--query): start the native and
-- HTTP listeners, then read stdin to its end, so the server lives until the parent closes
-- the pipe (or dies).
{{define "serve"}}SYSTEM START LISTEN TCP; SYSTEM START LISTEN HTTP; SELECT count() FROM file('/dev/stdin','LineAsString') FORMAT Null{{end}}
