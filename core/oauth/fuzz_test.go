package oauth

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// FuzzParseTokenResponse checks that no body makes parseTokenResponse
// panic, accept a token without an access token, set an expiry in the
// past, or copy a non-JSON body into its error.
func FuzzParseTokenResponse(f *testing.F) {
	seeds := []struct {
		status int
		ctype  string
		body   string
	}{
		{200, "application/json", `{"access_token":"a","token_type":"bearer","expires_in":86399,"issued_token_type":"urn:ietf:params:oauth:token-type:access_token"}`},
		{200, "application/json", `{"access_token":"a","expires_in":"3600","refresh_token":"r","scope":"openid"}`},
		{200, "application/json", `{"access_token":"a","token_type":"N_A","expires_in":1.5}`},
		{200, "application/json", `{"access_token":"a","expires_in":-1}`},
		{200, "application/json", `{"access_token":"a","expires_in":"1e400"}`},
		{200, "text/html", `<html><title>x</title></html>`},
		{200, "", ``},
		{200, "application/json", `{"error":"temporarily_unavailable"}`},
		{400, "application/json", `{"error":"invalid_grant","error_description":"User not found"}`},
		{401, "application/json; charset=utf-8", `{"error":"invalid_client","error_uri":"https://x"}`},
		{502, "text/html", `<HTML><TITLE>502</TITLE>`},
		{503, "text/plain", `upstream`},
		{500, "application/json", `{"error":{"nested":true}}`},
		{200, "application/json", `{"access_token":"a"} {"access_token":"b"}`},
	}
	for _, s := range seeds {
		f.Add(s.status, s.ctype, []byte(s.body))
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, status int, ctype string, body []byte) {
		tok, err := parseTokenResponse(status, ctype, body, now)
		if err != nil {
			if tok != nil {
				t.Fatalf("token %v returned with error %v", tok, err)
			}
			var oe *Error
			if errors.As(err, &oe) && oe.StatusCode != status {
				t.Fatalf("*Error status %d, want %d", oe.StatusCode, status)
			}
			if _, ok := decodeObject(body); !ok && len(body) >= 24 && strings.Contains(err.Error(), string(body)) {
				t.Fatalf("error %q copies the non-JSON body", err)
			}
			return
		}
		if status < 200 || status > 299 {
			t.Fatalf("HTTP %d accepted as a token", status)
		}
		if tok.AccessToken == "" || tok.TokenType == "" {
			t.Fatalf("token without access token or type: %+v", tok)
		}
		if strings.EqualFold(tok.TokenType, "bearer") && tok.TokenType != "Bearer" {
			t.Fatalf("token_type %q not normalised", tok.TokenType)
		}
		if !tok.Expiry.IsZero() && tok.Expiry.Before(now) {
			t.Fatalf("expiry %v before now", tok.Expiry)
		}
	})
}
