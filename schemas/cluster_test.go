package schemas

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Every table the migrations create has a placement on a cluster, and every placement
// names a table that exists: a migration that adds a table must say where its rows live.
func TestEveryTableHasAPlacement(t *testing.T) {
	script, err := Script(DDLOptions{Database: "tw"})
	if err != nil {
		t.Fatal(err)
	}
	created := map[string]bool{}
	for _, m := range regexp.MustCompile("CREATE TABLE IF NOT EXISTS `tw`\\.(\\w+)").FindAllStringSubmatch(script, -1) {
		created[m[1]] = true
	}
	if len(created) < 20 {
		t.Fatalf("found %d tables in the script: the pattern no longer matches it", len(created))
	}
	for table := range created {
		if PlacementOf(table) == 0 {
			t.Errorf("table %s has no placement in schemas/cluster.go", table)
		}
	}
	for table := range placements {
		if !created[table] {
			t.Errorf("placement for %s, which no migration creates", table)
		}
	}
	// sharded tables are sharded by a column they have
	for table, p := range placements {
		if p != ByNumber {
			continue
		}
		create := script[strings.Index(script, "CREATE TABLE IF NOT EXISTS `tw`."+table+"\n"):]
		create = create[:strings.Index(create, "ENGINE")]
		if !slices.ContainsFunc(strings.Split(create, "\n"), func(l string) bool { return strings.HasPrefix(strings.TrimSpace(l), "tracking_number ") }) {
			t.Errorf("%s is sharded by %s but has no tracking_number column", table, ShardingKey)
		}
	}
}
