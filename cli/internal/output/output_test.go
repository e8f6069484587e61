package output

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

func TestShellQuote(t *testing.T) {
	tests := map[string]string{
		"eyJ.abc-_.sig": "eyJ.abc-_.sig",
		"a b":           "'a b'",
		"it's":          `'it'\''s'`,
		"":              "''",
		"$(rm -rf /)":   "'$(rm -rf /)'",
	}
	for in, want := range tests {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestCheckEnvName(t *testing.T) {
	for _, ok := range []string{"OPENAI_API_KEY", "_x", "a1"} {
		if err := CheckEnvName(ok); err != nil {
			t.Errorf("CheckEnvName(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "1A", "A-B", "A B", "A=B"} {
		if err := CheckEnvName(bad); err == nil {
			t.Errorf("CheckEnvName(%q) accepted", bad)
		}
	}
}

func TestWriteTokenTypeAndNoExpiry(t *testing.T) {
	tok := &oauth2.Token{AccessToken: "tok", TokenType: "DPoP"}
	var b bytes.Buffer
	if err := Write(&b, "header", tok, Token{}); err != nil || b.String() != "Authorization: DPoP tok\n" {
		t.Errorf("header = %q, %v", b.String(), err)
	}
	b.Reset()
	if err := Write(&b, "json", tok, Token{Provider: "p", Now: time.Now()}); err != nil || strings.Contains(b.String(), "expir") {
		t.Errorf("json without expiry = %q, %v", b.String(), err)
	}
	if err := Write(&b, "yaml", tok, Token{}); err == nil || !strings.Contains(err.Error(), "raw, json, header, env") {
		t.Errorf("unknown format error = %v", err)
	}
}

// TestWriteNotApplicableTokenType: an RFC 8693 token_type "N_A" (an
// exchanged ID token) is no HTTP scheme: the header and the json
// token_type say Bearer, as the sidecar's proxy sends it.
func TestWriteNotApplicableTokenType(t *testing.T) {
	tok := &oauth2.Token{AccessToken: "tok", TokenType: "N_A"}
	var b bytes.Buffer
	if err := Write(&b, "header", tok, Token{}); err != nil || b.String() != "Authorization: Bearer tok\n" {
		t.Errorf("header = %q, %v", b.String(), err)
	}
	b.Reset()
	if err := Write(&b, "json", tok, Token{Provider: "p"}); err != nil || !strings.Contains(b.String(), `"token_type": "Bearer"`) {
		t.Errorf("json = %q, %v", b.String(), err)
	}
}
