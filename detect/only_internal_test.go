package detect

import (
	"strings"
	"testing"
)

// The findings of the rows of a table are the findings SQL the set built for its config
// hash, with the table named: one text, rendered per table.
func TestFindingsOfATable(t *testing.T) {
	s, err := NewSet("tw")
	if err != nil {
		t.Fatal(err)
	}
	placeholder, err := s.findingsOf("$only_table")
	if err != nil || placeholder != s.findingsOnly {
		t.Fatalf("findingsOf the placeholder differs from the hashed text (err %v)", err)
	}
	q, err := s.findingsOf("trackwatch_run_chunk")
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.ReplaceAll(s.findingsOnly, "$only_table", "trackwatch_run_chunk"); q != want {
		t.Fatal("findingsOf(trackwatch_run_chunk) is not the findings of that table's rows")
	}
	if again, _ := s.findingsOf("trackwatch_run_chunk"); again != q {
		t.Fatal("a second call renders something else")
	}
}
