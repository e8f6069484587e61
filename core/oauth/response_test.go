package oauth

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseTokenResponseSuccess(t *testing.T) {
	now := testNow
	tests := []struct {
		name        string
		body        string
		wantType    string
		wantExpiry  time.Time
		wantRefresh string
		wantExtra   map[string]any
	}{
		{
			name:       "dex lowercase bearer",
			body:       `{"access_token":"a","issued_token_type":"urn:ietf:params:oauth:token-type:access_token","token_type":"bearer","expires_in":86399}`,
			wantType:   "Bearer",
			wantExpiry: now.Add(86399 * time.Second),
			wantExtra:  map[string]any{"issued_token_type": "urn:ietf:params:oauth:token-type:access_token"},
		},
		{
			name:       "token_type defaults to Bearer",
			body:       `{"access_token":"a","expires_in":60}`,
			wantType:   "Bearer",
			wantExpiry: now.Add(time.Minute),
		},
		{
			name:     "N_A kept",
			body:     `{"access_token":"a","token_type":"N_A","issued_token_type":"urn:ietf:params:oauth:token-type:id_token"}`,
			wantType: "N_A",
		},
		{
			name:     "other types kept",
			body:     `{"access_token":"a","token_type":"DPoP"}`,
			wantType: "DPoP",
		},
		{
			name:       "expires_in as string",
			body:       `{"access_token":"a","token_type":"Bearer","expires_in":"3600"}`,
			wantType:   "Bearer",
			wantExpiry: now.Add(time.Hour),
		},
		{
			name:       "expires_in as padded decimal string",
			body:       `{"access_token":"a","expires_in":" 120.0 "}`,
			wantType:   "Bearer",
			wantExpiry: now.Add(2 * time.Minute),
		},
		{
			name:     "expires_in zero means unknown",
			body:     `{"access_token":"a","expires_in":0}`,
			wantType: "Bearer",
		},
		{
			name:        "keycloak full response",
			body:        `{"access_token":"a","expires_in":300,"refresh_expires_in":0,"refresh_token":"r","token_type":"Bearer","id_token":"i","not-before-policy":0,"scope":"profile email"}`,
			wantType:    "Bearer",
			wantExpiry:  now.Add(5 * time.Minute),
			wantRefresh: "r",
			wantExtra:   map[string]any{"scope": "profile email", "id_token": "i", "refresh_expires_in": float64(0)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := parseTokenResponse(200, "application/json; charset=utf-8", []byte(tt.body), now)
			if err != nil {
				t.Fatalf("parseTokenResponse: %v", err)
			}
			if tok.AccessToken != "a" || tok.TokenType != tt.wantType || !tok.Expiry.Equal(tt.wantExpiry) || tok.RefreshToken != tt.wantRefresh {
				t.Errorf("token = {%q %q %v %q}, want {a %q %v %q}", tok.AccessToken, tok.TokenType, tok.Expiry, tok.RefreshToken,
					tt.wantType, tt.wantExpiry, tt.wantRefresh)
			}
			for k, want := range tt.wantExtra {
				if got := tok.Extra(k); got != want {
					t.Errorf("Extra(%q) = %v, want %v", k, got, want)
				}
			}
		})
	}
}

func TestParseTokenResponseErrors(t *testing.T) {
	long := strings.Repeat("<p>filler</p>", 200)
	tests := []struct {
		name       string
		status     int
		ctype      string
		body       string
		wantOAuth  *Error // non-nil: an *Error with these fields
		wantText   string // substring of the error
		forbidText string // must not appear
	}{
		{
			name: "rfc 6749 error", status: 400, ctype: "application/json",
			body:      `{"error":"invalid_grant","error_description":"User not found","error_uri":"https://idp/doc"}`,
			wantOAuth: &Error{Code: "invalid_grant", Description: "User not found", URI: "https://idp/doc", StatusCode: 400},
		},
		{
			name: "dex unsupported subject type", status: 400, ctype: "application/json",
			body:      `{"error":"request_not_supported","error_description":"Invalid subject_token_type."}`,
			wantOAuth: &Error{Code: "request_not_supported", Description: "Invalid subject_token_type.", StatusCode: 400},
		},
		{
			name: "html error page summarised", status: 502, ctype: "text/html; charset=UTF-8",
			body:       "<html><head><title>502 Bad\n Gateway</title></head><body>" + long + "SECRET-IN-PAGE</body></html>",
			wantOAuth:  &Error{StatusCode: 502},
			wantText:   `non-JSON text/html body (2684 bytes, title "502 Bad Gateway")`,
			forbidText: "SECRET-IN-PAGE",
		},
		{
			name: "text error summarised", status: 503, ctype: "text/plain",
			body: "upstream connect error: SECRET-IN-TEXT", wantOAuth: &Error{StatusCode: 503},
			wantText: "non-JSON text/plain body (38 bytes)", forbidText: "SECRET-IN-TEXT",
		},
		{
			name: "json without error field", status: 500, ctype: "application/json",
			body: `{"message":"SECRET-IN-JSON"}`, wantOAuth: &Error{StatusCode: 500},
			wantText: `JSON body without an "error" field`, forbidText: "SECRET-IN-JSON",
		},
		{
			name: "empty error body", status: 401, wantOAuth: &Error{StatusCode: 401},
			wantText: "non-JSON no content type empty body",
		},
		{
			name: "200 with error field", status: 200, ctype: "application/json",
			body:      `{"error":"invalid_client","error_description":"bad"}`,
			wantOAuth: &Error{Code: "invalid_client", Description: "bad", StatusCode: 200},
		},
		{
			name: "200 html", status: 200, ctype: "text/html",
			body: "<html><title>Login</title>SECRET-IN-PAGE</html>", wantText: `token response is not a JSON object (HTTP 200, text/html body (47 bytes, title "Login"))`,
			forbidText: "SECRET-IN-PAGE",
		},
		{name: "no access token", status: 200, body: `{"token_type":"bearer"}`, wantText: `no "access_token"`},
		{name: "empty access token", status: 200, body: `{"access_token":""}`, wantText: `no "access_token"`},
		{name: "access token not a string", status: 200, body: `{"access_token":42}`, wantText: `"access_token" is a number, want a string`},
		{name: "json array", status: 200, body: `["access_token"]`, wantText: "not a JSON object"},
		{name: "trailing garbage", status: 200, body: `{"access_token":"a"} x`, wantText: "not a JSON object"},
		{name: "expires_in negative", status: 200, body: `{"access_token":"a","expires_in":-1}`, wantText: `"expires_in" is out of range`},
		{name: "expires_in huge", status: 200, body: `{"access_token":"a","expires_in":1e300}`, wantText: `"expires_in" is out of range`},
		{name: "expires_in word", status: 200, body: `{"access_token":"a","expires_in":"soon"}`, wantText: `"expires_in" is a string that is not a number`},
		{name: "expires_in NaN", status: 200, body: `{"access_token":"a","expires_in":"NaN"}`, wantText: `out of range`},
		{name: "expires_in bool", status: 200, body: `{"access_token":"a","expires_in":true}`, wantText: `"expires_in" is a boolean`},
		{name: "refresh token object", status: 200, body: `{"access_token":"a","refresh_token":{}}`, wantText: `"refresh_token" is a object`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := parseTokenResponse(tt.status, tt.ctype, []byte(tt.body), testNow)
			if err == nil {
				t.Fatalf("got token %+v, want an error", tok)
			}
			var oe *Error
			isOAuth := errors.As(err, &oe)
			if (tt.wantOAuth != nil) != isOAuth {
				t.Fatalf("error %q: *Error = %v, want %v", err, isOAuth, tt.wantOAuth != nil)
			}
			if tt.wantOAuth != nil && tt.wantOAuth.Code != "" {
				if *oe != *tt.wantOAuth {
					t.Errorf("error = %+v, want %+v", *oe, *tt.wantOAuth)
				}
			}
			if oe != nil && oe.StatusCode != tt.status {
				t.Errorf("StatusCode = %d, want %d", oe.StatusCode, tt.status)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q does not contain %q", err, tt.wantText)
			}
			if tt.forbidText != "" && strings.Contains(err.Error(), tt.forbidText) {
				t.Errorf("error %q copies the body (%q)", err, tt.forbidText)
			}
		})
	}
}

func TestErrorRetryable(t *testing.T) {
	tests := []struct {
		e    Error
		want bool
	}{
		{Error{Code: "server_error", StatusCode: 400}, true},
		{Error{Code: "temporarily_unavailable", StatusCode: 200}, true},
		{Error{StatusCode: 503}, true},
		{Error{StatusCode: 429}, true},
		{Error{Code: "something_new", StatusCode: 502}, true},
		{Error{StatusCode: 400}, false},
		{Error{Code: "invalid_grant", StatusCode: 500}, false},
		{Error{Code: "invalid_client", StatusCode: 503}, false},
		{Error{Code: "slow_down", StatusCode: 429}, false},
		{Error{Code: "request_not_supported", StatusCode: 400}, false},
	}
	for _, tt := range tests {
		if got := tt.e.Retryable(); got != tt.want {
			t.Errorf("%+v.Retryable() = %v, want %v", tt.e, got, tt.want)
		}
	}
}

func TestCleanText(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"  a\n\tb  ", 100, "a b"},
		{"line1\r\nFAKE LOG LINE", 100, "line1 FAKE LOG LINE"},
		{"ctl\x00\x1b[31mred", 100, "ctl[31mred"},
		{"bad\xffutf8", 100, "badutf8"},
		{strings.Repeat("x", 20), 10, strings.Repeat("x", 10) + "…"},
	}
	for _, tt := range tests {
		if got := cleanText(tt.in, tt.max); got != tt.want {
			t.Errorf("cleanText(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}
