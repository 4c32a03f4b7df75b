package ingest

import (
	"embed"

	"github.com/trackwatch/trackwatch/sqlfile"
)

//go:embed sql/*.sql
var sqlFiles embed.FS

// statements are the package's SQL (sql/*.sql): the writer's inserts and the offsets a
// consumer reads. The inserts name only the database: each is rendered once per
// database (sqlfile.Set.In), not again for every block.
var statements = sqlfile.MustParse(sqlFiles, "sql/*.sql", nil)
