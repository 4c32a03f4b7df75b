package sqlfile_test

import (
	"fmt"
	"testing/fstest"

	"github.com/trackwatch/trackwatch/sqlfile"
)

// A package keeps its statements in sql/*.sql, embedded with go:embed (an in-memory file
// system stands in for it here), and renders them with the database it works in. The
// values stay query parameters for the driver to send.
func ExampleSet_In() {
	files := fstest.MapFS{"sql/alerts.sql": {Data: []byte(`
-- Alerts of one detector.
{{define "by_detector"}}
SELECT alert_id FROM {{.DB}}.alerts WHERE detector = {detector:String}
{{end}}`)}}
	statements := sqlfile.MustParse(files, "sql/*.sql", nil)
	fmt.Println(statements.In("trackwatch", "by_detector"))
	// Output: SELECT alert_id FROM `trackwatch`.alerts WHERE detector = {detector:String}
}

// Names a template fills in besides the database go in Data; an identifier is quoted.
func ExampleSet_Text() {
	files := fstest.MapFS{"sql/tmp.sql": {Data: []byte(
		`{{define "drop"}}DROP TEMPORARY TABLE IF EXISTS {{.Table}}{{end}}`)}}
	statements := sqlfile.MustParse(files, "sql/*.sql", nil)
	fmt.Println(statements.Text("drop", sqlfile.Data{"Table": sqlfile.Ident("run`findings")}))
	// Output: DROP TEMPORARY TABLE IF EXISTS `run``findings`
}
