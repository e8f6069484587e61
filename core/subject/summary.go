package subject

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/fedtoken/fedtoken/core/redact"
)

// maxSummary bounds the part of a command's stderr or an HTTP error
// message that goes into an error.
const maxSummary = 300

// summarise turns text from a command or a server into one short line
// fit for an error: the given secrets and anything that looks like a
// token are replaced by [REDACTED], control characters and runs of
// whitespace become one space, and only the last maxSummary bytes are
// kept (the end of stderr says what went wrong).
func summarise(b []byte, secrets ...string) string {
	s := strings.ToValidUTF8(string(b), "?")
	for _, sec := range secrets {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, redact.Redacted)
		}
	}
	s = redact.Output(s)
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
	if len(s) > maxSummary {
		cut := len(s) - maxSummary
		for cut < len(s) && !utf8.RuneStart(s[cut]) {
			cut++
		}
		s = "…" + s[cut:]
	}
	return s
}
