package logging

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

const jwtLike = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW0ifQ.c2lnbmF0dXJl"

func TestNewRedacts(t *testing.T) {
	tests := []struct {
		name   string
		log    func(*slog.Logger)
		secret string
		want   string // a substring the line must still contain
	}{
		{"access_token key", func(l *slog.Logger) { l.Info("got", "access_token", "s3cr3t-value") }, "s3cr3t-value", `"access_token":"[REDACTED]"`},
		{"Authorization key", func(l *slog.Logger) { l.Info("hdr", "Authorization", "Bearer abc.def") }, "abc.def", `"Authorization":"[REDACTED]"`},
		{"client-secret key", func(l *slog.Logger) { l.Info("cfg", "client-secret", "hunter2") }, "hunter2", `"client-secret":"[REDACTED]"`},
		{"bearer in message", func(l *slog.Logger) { l.Info("sent Bearer abcdef123 upstream") }, "abcdef123", `Bearer [REDACTED]`},
		{"jwt in error", func(l *slog.Logger) { l.Warn("fail", "err", errors.New("bad assertion "+jwtLike)) }, jwtLike, `bad assertion [REDACTED]`},
		{"jwt in group", func(l *slog.Logger) { l.Info("x", slog.Group("req", "url", "https://h/p?t="+jwtLike)) }, jwtLike, `https://h/p?t=[REDACTED]`},
		{"durations readable", func(l *slog.Logger) { l.Info("req", slog.Duration("duration", 1500*time.Millisecond)) }, "1500000000", `"duration":"1.5s"`},
		{"plain values kept", func(l *slog.Logger) { l.Info("ok", "provider", "miaou", "status", 200) }, "", `"provider":"miaou"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			tt.log(New(&buf, slog.LevelDebug))
			line := buf.String()
			if !json.Valid([]byte(line)) {
				t.Fatalf("not a JSON line: %s", line)
			}
			if tt.secret != "" && strings.Contains(line, tt.secret) {
				t.Errorf("line leaks %q: %s", tt.secret, line)
			}
			if !strings.Contains(line, tt.want) {
				t.Errorf("line %s does not contain %s", line, tt.want)
			}
		})
	}
}

func TestParseLevel(t *testing.T) {
	for in, want := range map[string]slog.Level{"debug": slog.LevelDebug, "INFO": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError} {
		got, err := ParseLevel(in)
		if err != nil || got != want {
			t.Errorf("ParseLevel(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseLevel("loud"); err == nil {
		t.Error("ParseLevel(loud): want an error")
	}
}

// TestNewRedactsEveryKindOfCredential: a token, client secret, assertion,
// authorization code and refresh token never reach a sidecar log line,
// whether logged under their own name or inside an error or a URL.
func TestNewRedactsEveryKindOfCredential(t *testing.T) {
	secrets := []struct{ what, key, inText, value string }{
		{"access token", "access_token", "Authorization: Bearer ", "at-7Qx2LmZ9pRw4"},
		{"client secret", "clientSecret", "client_secret=", "cs-hunter2-Nq8v"},
		{"assertion", "client_assertion", "assertion ", jwtLike},
		{"authorization code", "code", "/callback?state=xyz&code=", "ac-SplxlOBeZQQYb"},
		{"refresh token", "refresh_token", `"refresh_token":"`, "rt-tGzv3JOkF0XG"},
	}
	for _, s := range secrets {
		t.Run(s.what, func(t *testing.T) {
			var buf bytes.Buffer
			l := New(&buf, slog.LevelDebug)
			l.Info("by name", s.key, s.value)
			l.Warn("in an error", "err", errors.New("refused: "+s.inText+s.value))
			l.Info("in a group", slog.Group("req", "detail", s.inText+s.value))
			for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
				if !json.Valid([]byte(line)) {
					t.Errorf("not a JSON line: %s", line)
				}
				if strings.Contains(line, s.value) {
					t.Errorf("line leaks the %s: %s", s.what, line)
				}
				if !strings.Contains(line, "[REDACTED]") {
					t.Errorf("line has no [REDACTED]: %s", line)
				}
			}
		})
	}
}
