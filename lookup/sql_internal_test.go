package lookup

import (
	"slices"
	"strings"
	"testing"

	"github.com/trackwatch/trackwatch/sqlfile"
)

// Every statement renders for a database, with the database quoted and nothing left of
// the template; the sellers' order comes from the statement's own list.
func TestStatementsRender(t *testing.T) {
	for _, name := range statements.Names() {
		data := sqlfile.DB("t`w").With("Sort", "vtr")
		q, err := statements.Render(name, data)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(q, "{{") || strings.Contains(q, "$") ||
			!strings.Contains(q, "`t``w`.") && !strings.HasSuffix(name, "_columns") {
			t.Errorf("%s:\n%s", name, q)
		}
	}
	for sort, want := range map[string]string{"vtr": "ORDER BY vtr ASC, shipped DESC, seller_id", "money": "ORDER BY money DESC, seller_id",
		"alerts": "ORDER BY firing DESC, seller_id"} {
		if !slices.Contains(sellerSorts, sort) {
			t.Errorf("%s is not a sellers' order", sort)
		}
		if q := statements.Text("sellers", sqlfile.DB("tw").With("Sort", sort)); !strings.Contains(q, want) ||
			!strings.Contains(q, "FROM `tw`.alert_actions FINAL") {
			t.Errorf("sellers by %s:\n%s", sort, q)
		}
	}
}
