package cli

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		ok      bool
		code    int
		printed string
	}{
		{[]string{"--n", "3"}, true, ExitOK, ""},
		{[]string{"-h"}, false, ExitOK, "-n"},
		{[]string{"--nope"}, false, ExitUsage, "flag provided but not defined"},
		{[]string{"stray"}, false, ExitUsage, `unexpected argument "stray"`},
	} {
		var out bytes.Buffer
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(&out)
		fs.Int("n", 0, "a number")
		ok, code := Parse(fs, tc.args)
		if ok != tc.ok || code != tc.code || !strings.Contains(out.String(), tc.printed) {
			t.Errorf("Parse(%q) = %v, %d, printed %q; want %v, %d, %q", tc.args, ok, code, out.String(), tc.ok, tc.code, tc.printed)
		}
	}
}

func TestLoadConfigReadsTheFileTheEnvironmentNames(t *testing.T) {
	file := filepath.Join(t.TempDir(), "tw.yaml")
	if err := os.WriteFile(file, []byte("clickhouse:\n  database: from_file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig("", []string{"TRACKWATCH_CONFIG=" + file}, nil)
	if err != nil || cfg.ClickHouse.Database != "from_file" {
		t.Fatalf("TRACKWATCH_CONFIG: %v, database %q", err, cfg.ClickHouse.Database)
	}
	cfg, err = LoadConfig(file, nil, []string{"clickhouse.database=from_set"})
	if err != nil || cfg.ClickHouse.Database != "from_set" {
		t.Fatalf("--set: %v, database %q", err, cfg.ClickHouse.Database)
	}
	if _, err := LoadConfig(filepath.Join(t.TempDir(), "missing.yaml"), nil, nil); err == nil {
		t.Fatal("a missing config file loaded")
	}
}
