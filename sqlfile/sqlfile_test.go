package sqlfile

import (
	"os"
	"strings"
	"testing"
)

func testSet(t *testing.T) *Set {
	t.Helper()
	s, err := Parse(os.DirFS("testdata"), "*.sql", nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRender(t *testing.T) {
	s := testSet(t)
	if got, want := s.In("track`watch", "count"), "SELECT count() FROM `track``watch`.alerts WHERE detector = {detector:String}"; got != want {
		t.Fatalf("In:\n got %q\nwant %q", got, want)
	}
	got, err := s.Render("firing", DB("tw").With("Table", Ident("alerts")))
	if err != nil {
		t.Fatal(err)
	}
	if want := "SELECT alert_id FROM `tw`.`alerts` WHERE status = 'firing' -- only firing"; got != want {
		t.Fatalf("Render:\n got %q\nwant %q", got, want)
	}
	if got, want := StripComments("SELECT 1 -- one\n  -- a line of its own\nFROM t WHERE s = 'a -- b'"), "SELECT 1\nFROM t WHERE s = 'a -- b'"; got != want {
		t.Fatalf("StripComments:\n got %q\nwant %q", got, want)
	}
	if got, want := strings.Join(s.Names(), ","), "count,firing,where"; got != want {
		t.Fatalf("Names = %s, want %s", got, want)
	}
}

func TestRenderErrors(t *testing.T) {
	s := testSet(t)
	if _, err := s.Render("nope", DB("tw")); err == nil || !strings.Contains(err.Error(), `no statement "nope"`) {
		t.Fatalf("unknown statement: %v", err)
	}
	// a name the template needs and the data lacks is an error, not "<no value>"
	if _, err := s.Render("firing", DB("tw")); err == nil || !strings.Contains(err.Error(), "Table") {
		t.Fatalf("missing key: %v", err)
	}
	if _, err := Parse(os.DirFS("testdata"), "*.nothing", nil); err == nil {
		t.Fatal("Parse of no files succeeded")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("Text did not panic on an unknown statement")
		}
	}()
	s.Text("nope", DB("tw"))
}
