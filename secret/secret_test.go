package secret_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trackwatch/trackwatch/secret"
)

func TestSecretNeverPrints(t *testing.T) {
	s := secret.String("hunter2")
	cfg := struct{ Password secret.String }{s}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("cfg", "password", s, "cfg", cfg)
	js, _ := json.Marshal(cfg)
	for name, out := range map[string]string{
		"%v": fmt.Sprintf("%v", cfg), "%+v": fmt.Sprintf("%+v", cfg), "%#v": fmt.Sprintf("%#v", cfg),
		"%s": fmt.Sprintf("%s", s), "json": string(js), "slog": logged.String(),
	} {
		if strings.Contains(out, "hunter2") {
			t.Errorf("%s leaks the secret: %s", name, out)
		}
	}
	if s.Reveal() != "hunter2" {
		t.Fatalf("Reveal() = %q", s.Reveal())
	}
}

func TestReadFileFillsFromTheFileAndReadsItAgainOnTheNextValidation(t *testing.T) {
	f := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(f, []byte("first\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var s secret.String
	var loaded bool
	if err := secret.ReadFile("password", f, &s, &loaded); err != nil || s.Reveal() != "first" {
		t.Fatalf("%q %v", s.Reveal(), err)
	}
	_ = os.WriteFile(f, []byte("rotated"), 0o600)
	if err := secret.ReadFile("password", f, &s, &loaded); err != nil || s.Reveal() != "rotated" {
		t.Fatalf("validated again: %q %v", s.Reveal(), err)
	}
	given, no := secret.String("typed-in"), false
	if err := secret.ReadFile("password", f, &given, &no); err == nil || !strings.Contains(err.Error(), "password: set it or password_file, not both") {
		t.Fatalf("both given: %v", err)
	}
	if err := secret.ReadFile("password", filepath.Join(t.TempDir(), "missing"), new(secret.String), new(bool)); err == nil || !strings.Contains(err.Error(), "password_file") {
		t.Fatalf("missing file: %v", err)
	}
}
