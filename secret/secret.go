// Package secret provides a string type for passwords and tokens that never prints:
// formatting, logging and YAML/JSON marshalling all show a fixed mask, so a config dump,
// a log line or an error that includes a config cannot leak it.
package secret

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
)

// String holds a secret. Use Reveal where the real value is needed, and nowhere else.
type String string

const mask = "<redacted>"

// Reveal returns the secret itself.
func (s String) Reveal() string { return string(s) }

// String masks the secret for fmt's %s and %v.
func (s String) String() string {
	if s == "" {
		return ""
	}
	return mask
}

// GoString masks the secret for fmt's %#v.
func (s String) GoString() string { return s.String() }

// LogValue masks the secret in slog output.
func (s String) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText masks the secret in JSON and YAML output.
func (s String) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// ReadFile fills into from the file at path (its contents, trimmed), for a key that
// has a `_file` variant (password and password_file). A value given directly as well is
// an error naming key; loaded remembers that the value came from the file, so that
// validating the same configuration again reads the file again (a rotated secret)
// instead of refusing it as given twice.
func ReadFile(key, path string, into *String, loaded *bool) error {
	if path == "" {
		return nil
	}
	if *into != "" && !*loaded {
		return fmt.Errorf("%s: set it or %s_file, not both", key, key)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%s_file: %w", key, err)
	}
	*into, *loaded = String(strings.TrimSpace(string(b))), true
	return nil
}
