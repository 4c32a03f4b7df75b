package bench

import (
	"embed"

	"github.com/trackwatch/trackwatch/sqlfile"
)

//go:embed sql/*.sql
var sqlFiles embed.FS

// statements are the benchmarks' SQL (sql/*.sql): the data they generate inside
// ClickHouse, the references they measure trackwatch beside, and their checks. common.sql
// holds what more than one benchmark runs.
var statements = sqlfile.MustParse(sqlFiles, "sql/*.sql", nil)
