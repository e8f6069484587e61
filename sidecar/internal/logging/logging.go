// Package logging builds the sidecar's JSON slog logger, which redacts
// anything that looks like a credential before it is written.
package logging

import (
	"io"
	"log/slog"
	"regexp"
	"strings"
)

// Redacted replaces every value the logger refuses to write.
const Redacted = "[REDACTED]"

// sensitiveKeys are attribute keys (compared case-insensitively, after
// removing '-' and '_') whose values are never logged, whatever they hold.
var sensitiveKeys = []string{
	"token", "accesstoken", "refreshtoken", "idtoken", "subjecttoken", "actortoken",
	"assertion", "clientassertion", "clientsecret", "secret", "password",
	"authorization", "proxyauthorization", "cookie", "setcookie",
}

// bearerPattern and jwtPattern find credentials inside otherwise harmless
// strings (an error message that quotes a header, a URL with a JWT).
var (
	bearerPattern = regexp.MustCompile(`(?i)\b(bearer|basic)\s+[A-Za-z0-9\-._~+/]+=*`)
	jwtPattern    = regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*`)
)

// New returns a JSON logger writing to w at level. Attributes whose key
// names a credential are replaced with [REDACTED]; bearer/basic
// credentials and JWTs inside any string value (messages included) are
// replaced too. Durations are written as Go duration strings ("1.5s"),
// never raw nanoseconds.
func New(w io.Writer, level slog.Leveler) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level:       level,
		ReplaceAttr: redactAttr,
	}))
}

// ParseLevel turns debug|info|warn|error (any case) into a level.
func ParseLevel(s string) (slog.Level, error) {
	var l slog.Level
	err := l.UnmarshalText([]byte(s))
	return l, err
}

func redactAttr(_ []string, a slog.Attr) slog.Attr {
	if isSensitiveKey(a.Key) {
		return slog.String(a.Key, Redacted)
	}
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, Scrub(v.String()))
	case slog.KindDuration:
		// JSONHandler writes a Duration as integer nanoseconds; write it
		// the way people read it: "1.5s", "250ms", "1m0s".
		return slog.String(a.Key, v.Duration().String())
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			return slog.String(a.Key, Scrub(err.Error()))
		}
	}
	return a
}

func isSensitiveKey(key string) bool {
	k := strings.ToLower(strings.NewReplacer("-", "", "_", "").Replace(key))
	for _, s := range sensitiveKeys {
		if k == s {
			return true
		}
	}
	return false
}

// Scrub replaces bearer/basic credentials and JWTs inside s.
func Scrub(s string) string {
	s = bearerPattern.ReplaceAllString(s, "$1 "+Redacted)
	return jwtPattern.ReplaceAllString(s, Redacted)
}
