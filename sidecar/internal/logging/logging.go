// Package logging builds the sidecar's JSON slog logger, which redacts
// anything that looks like a credential before it is written (core's
// redact package decides what that is, as it does for the CLI's logs and
// core's errors).
package logging

import (
	"io"
	"log/slog"

	"github.com/fedtoken/fedtoken/core/redact"
)

// New returns a JSON logger writing to w at level. Attributes whose key
// names a credential are replaced with [REDACTED]; bearer/basic
// credentials, JWTs and credential-named fields inside any value
// (messages included) are replaced too (redact.Attr). Durations are
// written as Go duration strings ("1.5s"), never raw nanoseconds.
func New(w io.Writer, level slog.Leveler) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level:       level,
		ReplaceAttr: replaceAttr,
	}))
}

// ParseLevel turns debug|info|warn|error (any case) into a level.
func ParseLevel(s string) (slog.Level, error) {
	var l slog.Level
	err := l.UnmarshalText([]byte(s))
	return l, err
}

func replaceAttr(_ []string, a slog.Attr) slog.Attr {
	a = redact.Attr(a)
	if a.Value.Kind() == slog.KindDuration {
		// JSONHandler writes a Duration as integer nanoseconds; write it
		// the way people read it: "1.5s", "250ms", "1m0s".
		return slog.String(a.Key, a.Value.Duration().String())
	}
	return a
}
