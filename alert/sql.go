package alert

import (
	"embed"

	"github.com/trackwatch/trackwatch/sqlfile"
)

//go:embed sql/*.sql
var sqlFiles embed.FS

// statements are the package's SQL (sql/*.sql): common.sql holds the fragments the
// store's statements and the readers share.
var statements = sqlfile.MustParse(sqlFiles, "sql/*.sql", nil)
