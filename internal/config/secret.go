package config

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
)

const redacted = "[redacted]"

// Secret holds a password, token or client secret. It prints as
// "[redacted]" (or "" when unset) through every fmt verb, encoding/json,
// encoding.TextMarshaler and log/slog, so a Config can be logged whole.
// Only Reveal returns the value.
type Secret struct {
	value string
}

// NewSecret wraps s; for tests and for wiring that builds a Config by hand.
func NewSecret(s string) Secret { return Secret{value: s} }

// Reveal returns the secret itself, for the one place that sends it.
func (s Secret) Reveal() string { return s.value }

// IsSet reports whether the secret is non-empty.
func (s Secret) IsSet() bool { return s.value != "" }

// String returns "[redacted]", or "" when the secret is unset.
func (s Secret) String() string {
	if s.value == "" {
		return ""
	}
	return redacted
}

// GoString is String, for %#v.
func (s Secret) GoString() string { return s.String() }

// Format implements fmt.Formatter so that no verb or flag (%v, %+v, %#v,
// %s, %q, %x, …) reaches the value.
func (s Secret) Format(f fmt.State, verb rune) {
	out := s.String()
	if verb == 'q' {
		out = strconv.Quote(out)
	}
	_, _ = f.Write([]byte(out))
}

// MarshalJSON encodes the secret as the string "[redacted]" (or "").
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// MarshalText returns "[redacted]" (or "").
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

var (
	_ fmt.Formatter  = Secret{}
	_ fmt.Stringer   = Secret{}
	_ fmt.GoStringer = Secret{}
	_ json.Marshaler = Secret{}
	_ slog.LogValuer = Secret{}
)
