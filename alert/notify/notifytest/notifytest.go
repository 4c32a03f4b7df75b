// Package notifytest holds what the receiver packages' tests share: golden payload files.
package notifytest

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

// Update rewrites the golden files instead of comparing (go test -update).
var Update = flag.Bool("update", false, "rewrite the golden files")

// GoldenJSON compares the JSON got, indented, with testdata/name.
func GoldenJSON(t *testing.T, name string, got []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, got, "", "  "); err != nil {
		t.Fatal(err)
	}
	buf.WriteByte('\n')
	path := filepath.Join("testdata", name)
	if *Update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("payload differs from %s (go test -update rewrites it):\n%s", path, buf.Bytes())
	}
}
