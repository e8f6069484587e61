package subject

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSummarise(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		secrets []string
		want    string
	}{
		{"plain", "permission denied\n", nil, "permission denied"},
		{"whitespace and control characters collapse", "a\r\n\tb\x1b[31m  c\x00", nil, "a b [31m c"},
		{"given secret", "token abcd1234 refused", []string{"abcd1234"}, "token [REDACTED] refused"},
		{"short secrets are not redacted", "a b c", []string{"b"}, "a b c"},
		{"jwt", "bad token " + freshJWT + " here", nil, "bad token [REDACTED] here"},
		{"long opaque run", "key=" + strings.Repeat("Ab0_", 12) + " end", nil, "key=[REDACTED] end"},
		{"paths survive", "open /var/run/secrets/tokens/oauth2/token: denied", nil, "open /var/run/secrets/tokens/oauth2/token: denied"},
		{"invalid UTF-8", "bad \xff byte", nil, "bad ? byte"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := summarise([]byte(tt.in), tt.secrets...); got != tt.want {
				t.Errorf("summarise = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSummariseKeepsTheTail(t *testing.T) {
	in := strings.Repeat("é", 400) + " the end"
	got := summarise([]byte(in))
	if !strings.HasPrefix(got, "…") || !strings.HasSuffix(got, " the end") {
		t.Errorf("summarise = %q", got)
	}
	if len(got) > maxSummary+len("…") || !utf8.ValidString(got) {
		t.Errorf("summary is %d bytes, valid UTF-8: %v", len(got), utf8.ValidString(got))
	}
}

func TestBuffers(t *testing.T) {
	h := &headBuffer{max: 5}
	for _, p := range []string{"abc", "def", "ghi"} {
		if n, err := h.Write([]byte(p)); n != len(p) || err != nil {
			t.Fatalf("headBuffer.Write = %d, %v: a short write would break the command's pipe", n, err)
		}
	}
	if string(h.buf) != "abcde" || !h.over {
		t.Errorf("headBuffer = %q, over=%v", h.buf, h.over)
	}
	tb := &tailBuffer{max: 5}
	for _, p := range []string{"abc", "def", "ghi"} {
		if n, err := tb.Write([]byte(p)); n != len(p) || err != nil {
			t.Fatalf("tailBuffer.Write = %d, %v", n, err)
		}
	}
	if string(tb.buf) != "efghi" {
		t.Errorf("tailBuffer = %q", tb.buf)
	}
}
