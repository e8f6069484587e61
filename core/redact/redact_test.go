package redact_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/fedtoken/fedtoken/core/redact"
)

const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW0ifQ.c2lnbmF0dXJl"

func TestText(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"form field", "grant_type=refresh_token&refresh_token=8xLOxBtZp8&client_id=c", "grant_type=refresh_token&refresh_token=[REDACTED]&client_id=c"},
		{"json field", `{"client_secret": "hunter22", "error": "invalid_client"}`, `{"client_secret": "[REDACTED]", "error": "invalid_client"}`},
		{"json cut inside a value", `{"access_token":"2YotnFZFEjr1zCs`, `{"access_token":"[REDACTED]`},
		{"authorization header field", `"authorization": "Bearer abc", authorization=Basic Y2xpZW50`, `"authorization": "[REDACTED]", authorization=Basic [REDACTED]`},
		{"assertion field", "client_assertion=abc.def.ghi rejected", "client_assertion=[REDACTED] rejected"},
		{"authorization code in a URL", "GET /callback?code=SplxlOBeZQQYbYS6WxSbIA&state=af0ifjsldkj", "GET /callback?code=[REDACTED]&state=af0ifjsldkj"},
		{"device code", `"device_code":"GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS"`, `"device_code":"[REDACTED]"`},
		{"bearer", "sent Authorization: Bearer mF_9.B5f-4.1JqM upstream", "sent Authorization: Bearer [REDACTED] upstream"},
		{"basic", "Basic Y2xpZW50OnNlY3JldA== refused", "Basic [REDACTED] refused"},
		{"jwt", "bad assertion " + jwt, "bad assertion [REDACTED]"},
		{"jwt-shaped", "token abcdefgh12.ijklmnop34.qrstuvwx56 expired", "token [REDACTED] expired"},
		{"prose after a colon kept", "invalid_client: client_assertion: audience [https://a/staging] not in allowed [https://a/prod]", "invalid_client: client_assertion: audience [https://a/staging] not in allowed [https://a/prod]"},
		{"value after a colon", "password: hunter2 refused", "password: [REDACTED] refused"},
		{"plain text kept", "exit code 1; status code: 401; open /var/run/secrets/tokens/oauth2/token", "exit code 1; status code: 401; open /var/run/secrets/tokens/oauth2/token"},
		{"URLs kept", "POST https://idp.example.com/realms/miaou/protocol/openid-connect/token", "POST https://idp.example.com/realms/miaou/protocol/openid-connect/token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := redact.Text(tt.in); got != tt.want {
				t.Errorf("Text(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestOutput(t *testing.T) {
	opaque := strings.Repeat("Ab0_", 12)
	if got, want := redact.Output("key "+opaque+" end"), "key [REDACTED] end"; got != want {
		t.Errorf("Output = %q, want %q", got, want)
	}
	if got := redact.Text("key " + opaque); got != "key "+opaque {
		t.Errorf("Text redacted an opaque run (only Output does): %q", got)
	}
	if in := "open /var/run/secrets/tokens/oauth2/token: permission denied"; redact.Output(in) != in {
		t.Errorf("Output(%q) = %q: a path is no credential", in, redact.Output(in))
	}
}

func TestIsCredentialName(t *testing.T) {
	for _, name := range []string{"token", "access_token", "Refresh-Token", "client_secret", "clientSecret", "assertion", "client_assertion", "code", "Authorization", "password"} {
		if !redact.IsCredentialName(name) {
			t.Errorf("IsCredentialName(%q) = false", name)
		}
	}
	for _, name := range []string{"provider", "err", "path", "status", "grant", "expires_in_s"} {
		if redact.IsCredentialName(name) {
			t.Errorf("IsCredentialName(%q) = true", name)
		}
	}
}

// stringer is a non-error value whose text holds a credential.
type stringer struct{}

func (stringer) String() string { return "Bearer 2YotnFZFEjr1zCsicMWpAA" }

func TestAttrInAHandler(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: redact.ReplaceAttr}))
	l.Info("callback ?code=SplxlOBeZQQYbYS6WxSbIA&state=s1",
		"refresh_token", "tGzv3JOkF0XG5Qx2TlKWIA",
		"err", errors.New("invalid_client: client_secret=hunter22"),
		slog.Group("req", "client_assertion", jwt, "url", "https://h/p?token=opaqueValue1"),
		"value", stringer{},
		"provider", "miaou", "status", 401)
	line := buf.String()
	for _, secret := range []string{"SplxlOBeZQQYbYS6WxSbIA", "tGzv3JOkF0XG5Qx2TlKWIA", "hunter22", jwt, "opaqueValue1", "2YotnFZFEjr1zCsicMWpAA"} {
		if strings.Contains(line, secret) {
			t.Errorf("line leaks %q: %s", secret, line)
		}
	}
	for _, kept := range []string{"provider=miaou", "status=401", "state=s1", "refresh_token=[REDACTED]", "req.client_assertion=[REDACTED]"} {
		if !strings.Contains(line, kept) {
			t.Errorf("line %s lacks %s", line, kept)
		}
	}
}
