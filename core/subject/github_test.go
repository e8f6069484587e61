package subject

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const (
	ghRequestToken = "ghs-request-bearer-0123456789abcdef"
	ghPath         = "/_apis/distributedtask/hubs/Actions/plans/p1/jobs/j1/idtoken"
)

// seenRequest is what the fake token endpoint received.
type seenRequest struct {
	method, path, rawQuery, authorization string
}

func TestGitHubActions(t *testing.T) {
	jsonReply := func(status int, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(status)
			fmt.Fprint(w, body)
		}
	}
	tokenReply := jsonReply(200, `{"count":1800,"value":"`+freshJWT+`"}`)

	tests := []struct {
		name      string
		audience  string
		url       string // "$S" is the server URL
		noBearer  bool
		handler   http.HandlerFunc
		want      string
		wantQuery string
		wantIs    error
		wantErr   []string // "$S" is the server URL
	}{
		{
			name:      "runner URL with a query string",
			audience:  "https://idp.example/realms/ai",
			url:       "$S" + ghPath + "?api-version=2.0",
			handler:   tokenReply,
			want:      freshJWT,
			wantQuery: "api-version=2.0&audience=https%3A%2F%2Fidp.example%2Frealms%2Fai",
		},
		{
			name:      "runner URL without a query string",
			audience:  "api://AzureADTokenExchange",
			url:       "$S" + ghPath,
			handler:   tokenReply,
			want:      freshJWT,
			wantQuery: "audience=api%3A%2F%2FAzureADTokenExchange",
		},
		{
			name:      "default audience",
			url:       "$S" + ghPath + "?api-version=2.0",
			handler:   tokenReply,
			want:      freshJWT,
			wantQuery: "api-version=2.0",
		},
		{
			name:    "no ID-token URL: permission missing",
			url:     "",
			wantIs:  ErrNoToken,
			wantErr: []string{"subject: github_actions (default audience): ACTIONS_ID_TOKEN_REQUEST_URL is not set: no subject token: the job needs `permissions: id-token: write`"},
		},
		{
			name:     "no request token",
			url:      "$S" + ghPath,
			noBearer: true,
			wantIs:   ErrNoToken,
			wantErr:  []string{"ACTIONS_ID_TOKEN_REQUEST_TOKEN is not set: no subject token: the job needs `permissions: id-token: write`"},
		},
		{
			name:    "URL not http",
			url:     "ftp://runner/idtoken",
			wantErr: []string{"subject: github_actions (default audience): ACTIONS_ID_TOKEN_REQUEST_URL is not an http(s) URL"},
		},
		{
			name: "401 with an HTML page",
			url:  "$S" + ghPath + "?api-version=2.0",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(401)
				fmt.Fprint(w, "<html><body><h1>Unauthorized</h1>"+strings.Repeat("<p>x</p>", 100)+"</body></html>")
			},
			wantErr: []string{"subject: github_actions (default audience): token request to $S" + ghPath + " returned HTTP 401 (847-byte text/html body); the request token is refused: it is valid only while the job runs"},
		},
		{
			name:    "403 JSON message that echoes the bearer",
			url:     "$S" + ghPath + "?api-version=2.0",
			handler: jsonReply(403, `{"message":"Token `+ghRequestToken+` is not allowed to request an ID token"}`),
			wantErr: []string{"returned HTTP 403: Token [REDACTED] is not allowed to request an ID token; the request token is refused"},
		},
		{
			name:    "503",
			url:     "$S" + ghPath,
			handler: jsonReply(503, `{}`),
			wantErr: []string{"returned HTTP 503 (2-byte application/json body); the runner's token service is unavailable, try again"},
		},
		{
			name:    "404",
			url:     "$S" + ghPath,
			handler: jsonReply(404, ``),
			wantErr: []string{"returned HTTP 404 (0-byte application/json body); check ACTIONS_ID_TOKEN_REQUEST_URL"},
		},
		{
			name: "200 but HTML",
			url:  "$S" + ghPath,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				fmt.Fprint(w, "<html>"+freshJWT+"</html>")
			},
			wantErr: []string{"subject: github_actions (default audience): the response of $S" + ghPath + " is not a JSON object (text/html)"},
		},
		{
			name:    "no value",
			url:     "$S" + ghPath,
			handler: jsonReply(200, `{"count":0}`),
			wantIs:  ErrNoToken,
			wantErr: []string{`the response of $S` + ghPath + ` has no "value": no subject token`},
		},
		{
			name:    "value not a string",
			url:     "$S" + ghPath,
			handler: jsonReply(200, `{"value":42}`),
			wantErr: []string{`has a "value" that is not a string`},
		},
		{
			name:    "empty value",
			url:     "$S" + ghPath,
			handler: jsonReply(200, `{"value":"  "}`),
			wantIs:  ErrNoToken,
			wantErr: []string{`subject: github_actions (default audience): the response's "value" is empty: no subject token`},
		},
		{
			name:    "oversized response",
			url:     "$S" + ghPath,
			handler: jsonReply(200, `{"value":"`+strings.Repeat("a", maxResponseSize)+`"}`),
			wantErr: []string{"the response of $S" + ghPath + " is larger than 256 KiB"},
		},
		{
			name:     "expired token",
			audience: "https://idp.example",
			url:      "$S" + ghPath + "?api-version=2.0",
			handler:  jsonReply(200, `{"value":"`+expiredJWT+`"}`),
			wantErr:  []string{"subject: github_actions $S" + ghPath + ": token expired at 2026-11-26T09:55:00Z (5m0s ago); the token endpoint returned an expired token: check the runner's clock"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen := make(chan seenRequest, 1)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				seen <- seenRequest{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Authorization")}
				tt.handler(w, r)
			}))
			defer srv.Close()

			env := map[string]string{GitHubRequestURLEnv: strings.ReplaceAll(tt.url, "$S", srv.URL)}
			if !tt.noBearer {
				env[GitHubRequestTokenEnv] = ghRequestToken
			}
			src := GitHubActions{
				Audience:   tt.audience,
				HTTPClient: srv.Client(),
				Getenv:     func(k string) string { return env[k] },
				Now:        fixedNow,
			}
			got, err := src.SubjectToken(context.Background())
			if tt.wantErr != nil {
				want := make([]string, len(tt.wantErr))
				for i, w := range tt.wantErr {
					want[i] = strings.ReplaceAll(w, "$S", srv.URL)
				}
				assertErr(t, err, tt.wantIs, want...)
				assertNoSecret(t, err, ghRequestToken, freshJWT, expiredJWT)
				for _, q := range []string{"api-version", "audience="} {
					if strings.Contains(err.Error(), q) {
						t.Errorf("error %q shows the URL's query", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("token = %.30q…, want %.30q…", got, tt.want)
			}
			req := <-seen
			want := seenRequest{http.MethodGet, ghPath, tt.wantQuery, "Bearer " + ghRequestToken}
			if req != want {
				t.Errorf("request = %+v\nwant      %+v", req, want)
			}
		})
	}
}

func TestGitHubActionsTransportErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	env := map[string]string{
		GitHubRequestURLEnv:   srv.URL + ghPath + "?api-version=2.0",
		GitHubRequestTokenEnv: ghRequestToken,
	}
	src := GitHubActions{Audience: "https://idp", HTTPClient: srv.Client(), Getenv: func(k string) string { return env[k] }}

	t.Run("context cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := src.SubjectToken(ctx)
		assertErr(t, err, context.Canceled, "subject: github_actions audience=https://idp: token request to "+srv.URL+ghPath+": context canceled")
		assertNoSecret(t, err, ghRequestToken)
		if strings.Contains(err.Error(), "api-version") {
			t.Errorf("error %q shows the URL's query", err)
		}
	})

	t.Run("server gone", func(t *testing.T) {
		srv.Close()
		_, err := src.SubjectToken(context.Background())
		assertErr(t, err, nil, "subject: github_actions audience=https://idp: token request to "+srv.URL+ghPath+": ")
		assertNoSecret(t, err, ghRequestToken)
		if strings.Contains(err.Error(), "api-version") {
			t.Errorf("error %q shows the URL's query", err)
		}
		var ne interface{ Timeout() bool }
		if !errors.As(err, &ne) {
			t.Errorf("the network error is not wrapped: %v", err)
		}
	})
}
