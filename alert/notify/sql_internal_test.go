package notify

import (
	"strings"
	"testing"

	"github.com/trackwatch/trackwatch/sqlfile"
)

// Every statement renders for a database, with the database quoted and nothing left of
// the template.
func TestStatementsRender(t *testing.T) {
	names := statements.Names()
	for _, want := range []string{"due", "claim", "claims_won", "log_attempts", "receiver_disabled", "set_disabled", "firing",
		"notifications", "replay_count", "replay", "receiver_counts", "receiver_states"} {
		if !strings.Contains(","+strings.Join(names, ",")+",", ","+want+",") {
			t.Errorf("no statement %q (have %v)", want, names)
		}
	}
	for _, name := range names {
		q, err := statements.Render(name, sqlfile.DB("t`w"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(q, "`t``w`.") || strings.Contains(q, "{{") || strings.Contains(q, "$db") {
			t.Errorf("%s:\n%s", name, q)
		}
	}
	if q := statements.In("tw", "due"); !strings.Contains(q, "FROM `tw`.alert_actions FINAL") {
		t.Errorf("due does not read the cases:\n%s", q)
	}
	if q := statements.In("tw", "firing"); !strings.Contains(q, "FROM `tw`.alerts FINAL") {
		t.Errorf("firing does not read the current alerts:\n%s", q)
	}
}
