package alert

import (
	"os"
	"testing"

	"github.com/trackwatch/trackwatch/sqlfile"
)

func TestZZRender(t *testing.T) {
	if os.Getenv("ZZ") == "" {
		t.Skip()
	}
	d := caseQueryData{DB: sqlfile.Ident("bench_api"), Status: false, NotClosed: true, Sort: "urgency"}
	q := statements.Text("case_query", d)
	os.WriteFile("/tmp/cases/case_query.sql", []byte(q), 0o644)
	os.WriteFile("/tmp/cases/case_rows.sql", []byte(statements.Text("case_rows", d)), 0o644)
	os.WriteFile("/tmp/cases/acts.sql", []byte(statements.Text("alert_case_acts", d)), 0o644)
	os.WriteFile("/tmp/cases/current.sql", []byte(statements.Text("current_alerts", d)), 0o644)
	os.WriteFile("/tmp/cases/query_keys.sql", []byte(statements.Text("query_keys", queryData{DB: "bench_api", NotClosed: true, Sort: "urgency"})), 0o644)
}
