package tokenendpoint

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

type fixedSource struct {
	tok *oauth2.Token
	err error
}

func (f fixedSource) TokenContext(context.Context) (*oauth2.Token, error) { return f.tok, f.err }

func TestHandler(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	sources := map[string]Source{
		"miaou-prod":    fixedSource{tok: &oauth2.Token{AccessToken: "at-prod", TokenType: "bearer", Expiry: now.Add(90*time.Second + 500*time.Millisecond)}},
		"miaou-staging": fixedSource{tok: &oauth2.Token{AccessToken: "at-staging"}},
		"down":          fixedSource{err: errors.New("oauth2: invalid_grant: subject token expired (HTTP 400 from https://idp.example/token)")},
	}
	mux := http.NewServeMux()
	mux.Handle(Pattern, New(sources, WithClock(func() time.Time { return now })))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	tests := []struct {
		name       string
		method     string
		path       string
		header     map[string]string
		wantStatus int
		wantBody   string // exact JSON for 200, substring otherwise
	}{
		{"token with expiry", "GET", "/v1/token/miaou-prod", map[string]string{Header: HeaderValue}, 200, `{"access_token":"at-prod","token_type":"Bearer","expires_in":90}`},
		{"token without expiry", "GET", "/v1/token/miaou-staging", map[string]string{Header: HeaderValue}, 200, `{"access_token":"at-staging","token_type":"Bearer"}`},
		{"missing header", "GET", "/v1/token/miaou-prod", nil, 403, "missing request header Fedtoken-Request"},
		{"wrong header value", "GET", "/v1/token/miaou-prod", map[string]string{Header: "1"}, 403, "missing request header"},
		{"metadata-style header is not enough", "GET", "/v1/token/miaou-prod", map[string]string{"Metadata-Flavor": "Google"}, 403, "missing request header"},
		{"forwarded by a proxy", "GET", "/v1/token/miaou-prod", map[string]string{Header: HeaderValue, "X-Forwarded-For": "10.1.2.3"}, 403, "forwarded requests are refused"},
		{"unknown provider", "GET", "/v1/token/nope", map[string]string{Header: HeaderValue}, 404, `no provider \"nope\"; serving: down, miaou-prod, miaou-staging`},
		{"IdP failure", "GET", "/v1/token/down", map[string]string{Header: HeaderValue}, 503, "invalid_grant: subject token expired"},
		{"POST not allowed", "POST", "/v1/token/miaou-prod", map[string]string{Header: HeaderValue}, 405, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, srv.URL+tt.path, nil)
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			body := string(raw)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d (%s), want %d", resp.StatusCode, body, tt.wantStatus)
			}
			switch {
			case tt.wantStatus == 200:
				if got := canon(t, body); got != canon(t, tt.wantBody) {
					t.Errorf("body = %s, want %s", got, tt.wantBody)
				}
				if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
					t.Errorf("Cache-Control = %q, want no-store", cc)
				}
			case !strings.Contains(body, tt.wantBody):
				t.Errorf("body = %s, want it to contain %s", body, tt.wantBody)
			}
			if tt.wantStatus != 200 && strings.Contains(body, "at-") {
				t.Errorf("refusal leaks a token: %s", body)
			}
		})
	}
}

// canon re-encodes a JSON document so that equal documents compare equal.
func canon(t *testing.T, s string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("not JSON: %q: %v", s, err)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// TestHandlerTokenTypeIsTheAuthorizationScheme: token_type tells the app
// which scheme to send; an RFC 8693 "N_A" (an exchanged ID token) is sent
// as Bearer, as the proxy does.
func TestHandlerTokenTypeIsTheAuthorizationScheme(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle(Pattern, New(map[string]Source{"x": fixedSource{tok: &oauth2.Token{AccessToken: "at-x", TokenType: "N_A"}}}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v1/token/x", nil)
	req.Header.Set(Header, HeaderValue)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if got, want := canon(t, string(raw)), canon(t, `{"access_token":"at-x","token_type":"Bearer"}`); got != want {
		t.Errorf("body = %s, want %s", got, want)
	}
}
