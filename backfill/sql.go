package backfill

import (
	"embed"

	"github.com/trackwatch/trackwatch/sqlfile"
)

//go:embed sql/*.sql
var sqlFiles embed.FS

// statements are the package's SQL (sql/*.sql): load.sql records and reads a file
// load's progress, kafka.sql reads what a replay of the topics finds stored.
var statements = sqlfile.MustParse(sqlFiles, "sql/*.sql", nil)
