package deadletter

import (
	"embed"

	"github.com/trackwatch/trackwatch/sqlfile"
)

//go:embed sql/*.sql
var sqlFiles embed.FS

// statements are the package's SQL (sql/*.sql), each naming only the database.
var statements = sqlfile.MustParse(sqlFiles, "sql/*.sql", nil)
