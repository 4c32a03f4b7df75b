package schemas

import (
	"embed"

	"github.com/trackwatch/trackwatch/sqlfile"
)

//go:embed sql/*.sql
var sqlFiles embed.FS

// statements are the package's SQL besides the migrations (sql/*.sql): statements over
// what the migrations create.
var statements = sqlfile.MustParse(sqlFiles, "sql/*.sql", nil)

// ResetDetectRuns is the statement, in database db, that makes the next scheduled run of
// every detector set evaluate every order: written after stored history is changed in
// place, which no materialized view sees (migration 0014).
func ResetDetectRuns(db string) string { return statements.In(db, "reset_detect_runs") }

// FillOrderNumbers is the statement, in database db, that indexes every stored order
// event's number (order_numbers, migration 0014); repeating it adds nothing (the table
// replaces).
func FillOrderNumbers(db string) string { return statements.In(db, "fill_order_numbers") }
