package oauth

import (
	"fmt"
	"log/slog"

	"github.com/fedtoken/fedtoken/core/redact"
)

// Secret holds a credential (access token, refresh token, client secret,
// assertion, authorization code). Every way of printing it — fmt verbs,
// slog, JSON — shows a placeholder; Reveal returns the value for the one
// place that must send it on the wire.
type Secret string

// Reveal returns the secret value. Call it only to put the value on the wire.
func (s Secret) Reveal() string { return string(s) }

// String implements fmt.Stringer with a placeholder.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redact.Redacted
}

// GoString implements fmt.GoStringer with a placeholder, so %#v is safe too.
func (s Secret) GoString() string { return fmt.Sprintf("oauth.Secret(%q)", s.String()) }

// Format makes every fmt verb (%s, %v, %q, %x, …) print the placeholder.
func (s Secret) Format(f fmt.State, verb rune) {
	switch verb {
	case 'q':
		fmt.Fprintf(f, "%q", s.String())
	default:
		fmt.Fprint(f, s.String())
	}
}

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText implements encoding.TextMarshaler with the placeholder, so a
// Secret inside a struct never leaks through encoding/json or YAML.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler (config files carry secrets).
func (s *Secret) UnmarshalText(b []byte) error { *s = Secret(b); return nil }
