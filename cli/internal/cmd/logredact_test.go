package cmd

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// TestLoggerRedactsCredentials: whatever a command logs — an attribute
// named for a credential, or a credential inside an error or the message —
// stderr never shows a token, client secret, assertion, authorization
// code or refresh token.
func TestLoggerRedactsCredentials(t *testing.T) {
	const assertion = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjaSJ9.c2lnbmF0dXJlLXNpZw"
	secrets := map[string]string{
		"access token":       "at-7Qx2LmZ9pRw4",
		"client secret":      "cs-hunter2-Nq8v",
		"assertion":          assertion,
		"authorization code": "ac-SplxlOBeZQQYb",
		"refresh token":      "rt-tGzv3JOkF0XG",
	}
	var stderr bytes.Buffer
	e := NewEnv(IOStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &stderr})
	e.SetVerbosity(2)
	// As attributes named for what they are …
	e.Logger.Info("attrs", "access_token", secrets["access token"], "client_secret", secrets["client secret"],
		"assertion", secrets["assertion"], "code", secrets["authorization code"], "refresh_token", secrets["refresh token"])
	// … and inside an error, the message or a URL.
	e.Logger.Warn("token request failed", "err", errors.New("invalid_grant: refresh_token="+secrets["refresh token"]+
		"&client_secret="+secrets["client secret"]+"&client_assertion="+secrets["assertion"]))
	e.Logger.Warn("upstream refused Authorization: Bearer " + secrets["access token"])
	e.Logger.Info("callback", "url", "http://127.0.0.1:8085/callback?code="+secrets["authorization code"]+"&state=xyz")

	out := stderr.String()
	for what, v := range secrets {
		if strings.Contains(out, v) {
			t.Errorf("stderr shows the %s %q:\n%s", what, v, out)
		}
	}
	if n := strings.Count(out, "[REDACTED]"); n < 10 {
		t.Errorf("stderr has %d [REDACTED], want at least 10:\n%s", n, out)
	}
	if !strings.Contains(out, "state=xyz") || !strings.Contains(out, "token request failed") {
		t.Errorf("redaction removed more than credentials:\n%s", out)
	}
}
