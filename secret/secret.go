// Package secret provides a string type for passwords and tokens that never prints:
// formatting, logging and YAML/JSON marshalling all show a fixed mask, so a config dump,
// a log line or an error that includes a config cannot leak it.
package secret

import "log/slog"

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
