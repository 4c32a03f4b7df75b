package service

import (
	"embed"

	"github.com/trackwatch/trackwatch/sqlfile"
)

//go:embed sql/*.sql
var sqlFiles embed.FS

// statements are the package's SQL (sql/*.sql): what `config --check` asks ClickHouse.
var statements = sqlfile.MustParse(sqlFiles, "sql/*.sql", nil)
