package notify

import (
	"embed"
	"text/template"

	"github.com/trackwatch/trackwatch/alert"
	"github.com/trackwatch/trackwatch/sqlfile"
)

//go:embed sql/*.sql
var sqlFiles embed.FS

// statements are the package's SQL (sql/*.sql): dispatch.sql the Dispatcher's (due
// changes, claims, the delivery log, receivers' state, firing alerts), log.sql the
// delivery log's readers (List, Replay, Statuses). Where they need the alert store's
// fragments they name them as functions of the database: {{alertCases .DB}} (every
// acted-on alert's case, alert.CaseSQL), {{currentAlerts .DB}} (every alert's latest
// row, alert.CurrentAlertsSQL) and {{caseID}} (an alert row's case id, alert.CaseIDSQL).
var statements = sqlfile.MustParse(sqlFiles, "sql/*.sql", template.FuncMap{
	"alertCases":    func(db sqlfile.Ident) string { return alert.CaseSQL(string(db)) },
	"currentAlerts": func(db sqlfile.Ident) string { return alert.CurrentAlertsSQL(string(db)) },
	"caseID":        alert.CaseIDSQL,
})
