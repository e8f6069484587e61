package login

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	"github.com/fedtoken/fedtoken/core/oauth"
)

// noRetry is an oauth.Client that tries each request once, so a test
// sees every answer of the IdP.
func noRetry() *oauth.Client {
	return &oauth.Client{Retry: oauth.RetryPolicy{MaxAttempts: 1}}
}

// writeJSON answers with a JSON body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func oauthError(w http.ResponseWriter, status int, code string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": "test says " + code})
}

// tokenBody is a successful token response.
func tokenBody(refresh string) map[string]any {
	m := map[string]any{"access_token": "at-1", "token_type": "bearer", "expires_in": 300}
	if refresh != "" {
		m["refresh_token"] = refresh
	}
	return m
}

// form parses a request's form, failing the test on error.
func form(t *testing.T, r *http.Request) url.Values {
	t.Helper()
	if err := r.ParseForm(); err != nil {
		t.Errorf("parse form: %v", err)
	}
	return r.PostForm
}

// serve starts an httptest server with handlers by path.
func serve(t *testing.T, routes map[string]http.HandlerFunc) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	for p, h := range routes {
		mux.HandleFunc(p, h)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// recordPrompts returns a UI that records its prompts.
func recordPrompts() (UI, func() []Prompt) {
	var mu sync.Mutex
	var got []Prompt
	ui := UI{Show: func(p Prompt) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, p)
	}}
	return ui, func() []Prompt {
		mu.Lock()
		defer mu.Unlock()
		return append([]Prompt(nil), got...)
	}
}

var _ oauth.TokenSource = (*DeviceCode)(nil)
var _ oauth.TokenSource = (*AuthCode)(nil)
