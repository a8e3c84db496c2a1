package config

import (
	"encoding/json"
	"fmt"
	"log/slog"
)

// Secret holds a credential. It never prints, logs or serialises its value:
// every formatting path yields "<secret>" (or "" when unset). Use Reveal at
// the single point where the value is needed.
type Secret struct{ value string }

// NewSecret wraps a value.
func NewSecret(v string) Secret { return Secret{value: v} }

// Reveal returns the value; call it only where the secret is used.
func (s Secret) Reveal() string { return s.value }

// IsSet reports whether a value is present.
func (s Secret) IsSet() bool { return s.value != "" }

func (s Secret) redacted() string {
	if s.value == "" {
		return ""
	}
	return "<secret>"
}

// String never shows the value.
func (s Secret) String() string { return s.redacted() }

// GoString never shows the value, even under %#v.
func (s Secret) GoString() string { return "config.Secret(" + fmt.Sprintf("%q", s.redacted()) + ")" }

// Format never shows the value, whatever the verb.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.redacted())) }

// LogValue never shows the value in slog output.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.redacted()) }

// MarshalJSON never shows the value.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.redacted()) }

// MarshalYAML never shows the value.
func (s Secret) MarshalYAML() (any, error) { return s.redacted(), nil }

// MarshalText never shows the value.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.redacted()), nil }

// UnmarshalYAML reads the value from a YAML scalar.
func (s *Secret) UnmarshalYAML(unmarshal func(any) error) error {
	var v string
	if err := unmarshal(&v); err != nil {
		return fmt.Errorf("a secret must be a string")
	}
	s.value = v
	return nil
}
