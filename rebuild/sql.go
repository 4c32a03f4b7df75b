package rebuild

import (
	"embed"

	"github.com/trackwatch/trackwatch/sqlfile"
)

//go:embed sql/*.sql
var sqlFiles embed.FS

// statements are the package's SQL (sql/*.sql): phrases.sql lists and reclassifies the
// stored wordings, summaries.sql rebuilds a summary's month, numbers.sql judges the
// stored numbers again.
var statements = sqlfile.MustParse(sqlFiles, "sql/*.sql", nil)
