package main

import (
	"embed"

	"github.com/trackwatch/trackwatch/sqlfile"
)

//go:embed sql/*.sql
var sqlFiles embed.FS

// statements are the command's own SQL (sql/*.sql): the questions `config --check`
// asks the configured ClickHouse.
var statements = sqlfile.MustParse(sqlFiles, "sql/*.sql", nil)
