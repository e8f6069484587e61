package oauth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/fedtoken/fedtoken/core/internal/stubidp"
)

func TestTokenSendsFormAndParses(t *testing.T) {
	idp := stubidp.New(t, stubidp.JSON(200, `{"access_token":"at-1","token_type":"bearer","expires_in":300,"scope":"openid","issued_token_type":"urn:ietf:params:oauth:token-type:access_token"}`))
	c, sleeps := testClient(idp)
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"openid"}}
	tok, err := c.Token(context.Background(), idp.TokenURL(), form, ClientAuth{ClientID: "cli", ClientSecret: "s3cret-value"})
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	if tok.AccessToken != "at-1" || tok.TokenType != "Bearer" || !tok.Expiry.Equal(testNow.Add(300*time.Second)) {
		t.Errorf("token = %+v", tok)
	}
	if got := tok.Extra("issued_token_type"); got != "urn:ietf:params:oauth:token-type:access_token" {
		t.Errorf("issued_token_type = %v", got)
	}
	reqs := idp.Requests()
	if len(reqs) != 1 || len(sleeps.recorded()) != 0 {
		t.Fatalf("requests = %d, sleeps = %d; want 1, 0", len(reqs), len(sleeps.recorded()))
	}
	r := reqs[0]
	if r.Method != http.MethodPost || r.Path != "/token" {
		t.Errorf("request = %s %s", r.Method, r.Path)
	}
	if got := r.Header.Get("Accept"); got != "application/json" {
		t.Errorf("Accept = %q", got)
	}
	if got := r.Header.Get("Content-Type"); got != "application/x-www-form-urlencoded" {
		t.Errorf("Content-Type = %q", got)
	}
	if got := r.Form.Encode(); got != "grant_type=client_credentials&scope=openid" {
		t.Errorf("form = %s", got)
	}
	if len(form) != 2 {
		t.Errorf("caller's form was modified: %v", form)
	}
}

func TestTokenRetries(t *testing.T) {
	html502 := stubidp.Reply{Status: 502, ContentType: "text/html", Body: "<html><title>Bad Gateway</title></html>"}
	ok := stubidp.JSON(200, okBody)
	tests := []struct {
		name      string
		replies   []stubidp.Reply
		wantReqs  int
		wantErr   string            // "" means success
		wantWaits []time.Duration   // exact waits (Retry-After); nil → check backoff bounds
		checkErr  func(error) error // extra check on the error
	}{
		{name: "503 then success", replies: []stubidp.Reply{stubidp.JSON(503, `{"error":"temporarily_unavailable"}`), ok}, wantReqs: 2},
		{name: "html 502 then success", replies: []stubidp.Reply{html502, ok}, wantReqs: 2},
		{name: "connection dropped then success", replies: []stubidp.Reply{{Hangup: true}, ok}, wantReqs: 2},
		{name: "200 temporarily_unavailable then success", replies: []stubidp.Reply{stubidp.JSON(200, `{"error":"temporarily_unavailable"}`), ok}, wantReqs: 2},
		{
			name:      "429 retry-after seconds",
			replies:   []stubidp.Reply{{Status: 429, Header: map[string]string{"Retry-After": "7"}}, ok},
			wantReqs:  2,
			wantWaits: []time.Duration{7 * time.Second},
		},
		{
			name:      "503 retry-after http-date",
			replies:   []stubidp.Reply{{Status: 503, Header: map[string]string{"Retry-After": testNow.Add(3 * time.Second).Format(http.TimeFormat)}}, ok},
			wantReqs:  2,
			wantWaits: []time.Duration{3 * time.Second},
		},
		{
			// The IdP asked for an hour: not retried within this request
			// (the cache's cool-down honours the hour, see RetryAfter).
			name:      "retry-after beyond the cap is not retried",
			replies:   []stubidp.Reply{{Status: 429, Header: map[string]string{"Retry-After": "3600"}}, ok},
			wantReqs:  1,
			wantErr:   "(HTTP 429",
			wantWaits: []time.Duration{},
			checkErr:  checkRetryAfter(time.Hour),
		},
		{
			name:     "retries exhausted",
			replies:  []stubidp.Reply{stubidp.JSON(503, `{"error":"server_error","error_description":"db down"}`)},
			wantReqs: DefaultMaxAttempts,
			wantErr:  "gave up after 4 attempts: oauth2: server_error: db down (HTTP 503 from http://",
			checkErr: func(err error) error {
				var oe *Error
				if !errors.As(err, &oe) || oe.StatusCode != 503 || !errors.Is(err, ErrServerError) {
					return errors.New("want a reachable *Error with status 503")
				}
				return nil
			},
		},
		{name: "network errors exhausted", replies: []stubidp.Reply{{Hangup: true}}, wantReqs: DefaultMaxAttempts, wantErr: "gave up after 4 attempts"},
		{name: "invalid_grant", replies: []stubidp.Reply{stubidp.JSON(400, `{"error":"invalid_grant"}`)}, wantReqs: 1, wantErr: "oauth2: invalid_grant (HTTP 400 from http://"},
		{name: "invalid_client 401", replies: []stubidp.Reply{stubidp.JSON(401, `{"error":"invalid_client","error_description":"Invalid client credentials."}`)}, wantReqs: 1, wantErr: "invalid_client"},
		{name: "invalid_grant with odd 500", replies: []stubidp.Reply{stubidp.JSON(500, `{"error":"invalid_grant"}`)}, wantReqs: 1, wantErr: "invalid_grant (HTTP 500"},
		{name: "invalid_client with odd 503", replies: []stubidp.Reply{stubidp.JSON(503, `{"error":"invalid_client"}`)}, wantReqs: 1, wantErr: "invalid_client (HTTP 503"},
		{name: "unauthorized_client", replies: []stubidp.Reply{stubidp.JSON(400, `{"error":"unauthorized_client"}`)}, wantReqs: 1, wantErr: "unauthorized_client"},
		{name: "invalid_scope", replies: []stubidp.Reply{stubidp.JSON(400, `{"error":"invalid_scope"}`)}, wantReqs: 1, wantErr: "invalid_scope"},
		{name: "invalid_request 429", replies: []stubidp.Reply{stubidp.JSON(429, `{"error":"invalid_request"}`)}, wantReqs: 1, wantErr: "invalid_request"},
		{name: "plain 400 html", replies: []stubidp.Reply{{Status: 400, ContentType: "text/html", Body: "<p>no</p>"}}, wantReqs: 1, wantErr: "non-JSON text/html body (9 bytes) (HTTP 400"},
		{name: "malformed 200", replies: []stubidp.Reply{{Status: 200, ContentType: "text/html", Body: "<html>login</html>"}}, wantReqs: 1, wantErr: "token response is not a JSON object (HTTP 200, text/html body (18 bytes))"},
		{name: "200 without access token", replies: []stubidp.Reply{stubidp.JSON(200, `{"token_type":"bearer"}`)}, wantReqs: 1, wantErr: `/token: token response has no "access_token"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			idp := stubidp.New(t, tt.replies...)
			c, sleeps := testClient(idp)
			tok, err := c.Token(context.Background(), idp.TokenURL(), url.Values{"grant_type": {"client_credentials"}}, ClientAuth{})
			if got := len(idp.Requests()); got != tt.wantReqs {
				t.Errorf("requests = %d, want %d", got, tt.wantReqs)
			}
			if tt.wantErr == "" {
				if err != nil || tok.AccessToken != "at-1" {
					t.Fatalf("Token = %v, %v; want at-1", tok, err)
				}
			} else {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
				}
				if tt.checkErr != nil {
					if cerr := tt.checkErr(err); cerr != nil {
						t.Errorf("%v: %v", err, cerr)
					}
				}
			}
			waits := sleeps.recorded()
			if len(waits) != tt.wantReqs-1 {
				t.Fatalf("waits = %v, want %d of them", waits, tt.wantReqs-1)
			}
			for i, w := range waits {
				if tt.wantWaits != nil {
					if w != tt.wantWaits[i] {
						t.Errorf("wait %d = %v, want %v", i, w, tt.wantWaits[i])
					}
					continue
				}
				nominal := DefaultMinDelay << i
				if w < nominal/2 || w > nominal {
					t.Errorf("wait %d = %v, want within [%v, %v]", i, w, nominal/2, nominal)
				}
			}
		})
	}
}

func TestBackoffIsCappedAndJittered(t *testing.T) {
	p := RetryPolicy{MinDelay: time.Second, MaxDelay: 4 * time.Second}.withDefaults()
	seen := map[time.Duration]bool{}
	for n := 1; n <= 40; n++ {
		d := p.backoff(n)
		nominal := min(time.Second<<min(n-1, 10), 4*time.Second)
		if d < nominal/2 || d > nominal {
			t.Fatalf("backoff(%d) = %v, want within [%v, %v]", n, d, nominal/2, nominal)
		}
		seen[d] = true
	}
	if len(seen) < 10 {
		t.Errorf("backoff produced %d distinct waits in 40 calls; want jitter", len(seen))
	}
}

func TestParseRetryAfter(t *testing.T) {
	tests := []struct {
		v      string
		want   time.Duration
		wantOK bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"12", 12 * time.Second, true},
		{"-3", 0, false},
		{"soon", 0, false},
		{"99999999999", 24 * time.Hour, true},
		{testNow.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{testNow.Add(-time.Hour).Format(http.TimeFormat), 0, true},
	}
	for _, tt := range tests {
		h := http.Header{}
		if tt.v != "" {
			h.Set("Retry-After", tt.v)
		}
		got, ok := parseRetryAfter(h, testNow)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tt.v, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestTokenStopsWhenContextEnds(t *testing.T) {
	idp := stubidp.New(t, stubidp.JSON(503, `{"error":"server_error"}`))
	c, sleeps := testClient(idp)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sleeps.onCall = cancel // the caller gives up while the client waits
	_, err := c.Token(ctx, idp.TokenURL(), url.Values{}, ClientAuth{})
	if !errors.Is(err, context.Canceled) || !errors.Is(err, ErrServerError) {
		t.Fatalf("error = %v, want context.Canceled wrapping the last server_error", err)
	}
	if got := len(idp.Requests()); got != 1 {
		t.Errorf("requests = %d, want 1", got)
	}
}

func TestTokenDoesNotWaitPastDeadline(t *testing.T) {
	idp := stubidp.New(t, stubidp.Reply{Status: 429, Header: map[string]string{"Retry-After": "20"}})
	c, sleeps := testClient(idp)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := c.Token(ctx, idp.TokenURL(), url.Values{}, ClientAuth{})
	if err == nil || !strings.Contains(err.Error(), "would pass the deadline") {
		t.Fatalf("error = %v, want a deadline refusal", err)
	}
	if n := len(sleeps.recorded()); n != 0 {
		t.Errorf("slept %d times, want 0", n)
	}
}

func TestTokenCancelledBeforeSend(t *testing.T) {
	idp := stubidp.New(t, stubidp.JSON(200, okBody))
	c, _ := testClient(idp)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.Token(ctx, idp.TokenURL(), url.Values{}, ClientAuth{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
}

func TestTokenRefusesOversizedBody(t *testing.T) {
	big := `{"access_token":"` + strings.Repeat("a", MaxResponseBytes) + `"}`
	idp := stubidp.New(t, stubidp.JSON(200, big))
	c, _ := testClient(idp)
	_, err := c.Token(context.Background(), idp.TokenURL(), url.Values{}, ClientAuth{})
	if err == nil || !strings.Contains(err.Error(), "response body exceeds 1048576 bytes") {
		t.Fatalf("error = %v, want a size refusal", err)
	}
	if got := len(idp.Requests()); got != 1 {
		t.Errorf("requests = %d, want 1", got)
	}
}

func TestTokenDoesNotFollowRedirects(t *testing.T) {
	var followed int
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { followed++ }))
	t.Cleanup(other.Close)
	idp := stubidp.New(t, stubidp.Reply{Status: 307, Header: map[string]string{"Location": other.URL + "/token?x=1"}})
	c, _ := testClient(idp)
	_, err := c.Token(context.Background(), idp.TokenURL(), url.Values{}, ClientAuth{ClientID: "c", ClientSecret: "post-secret", Method: AuthClientSecretPost})
	want := "unexpected redirect (HTTP 307 to " + other.URL + "/token)"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error = %v, want it to contain %q", err, want)
	}
	if followed != 0 {
		t.Errorf("the redirect was followed %d times", followed)
	}
}

func TestTokenRejectsBadEndpoint(t *testing.T) {
	c := &Client{}
	for _, u := range []string{"", "/token", "token.example", "https://user:pw@%zz"} {
		_, err := c.Token(context.Background(), u, url.Values{}, ClientAuth{})
		if err == nil || !strings.Contains(err.Error(), "is not an absolute URL") || strings.Contains(err.Error(), "pw") {
			t.Errorf("Token(%q) error = %v", u, err)
		}
	}
}

func TestNilClientWorks(t *testing.T) {
	idp := stubidp.New(t, stubidp.JSON(200, okBody))
	var c *Client
	tok, err := c.Token(context.Background(), idp.TokenURL(), url.Values{}, ClientAuth{})
	if err != nil || tok.AccessToken != "at-1" {
		t.Fatalf("Token = %v, %v", tok, err)
	}
}

func TestPostForm(t *testing.T) {
	tests := []struct {
		name    string
		reply   stubidp.Reply
		wantErr string
	}{
		{"json object", stubidp.JSON(200, `{"device_code":"d","user_code":"U","verification_uri":"https://idp/device","expires_in":600}`), ""},
		{"not an object", stubidp.JSON(200, `[1]`), "response is not a JSON object (HTTP 200, application/json body (3 bytes))"},
		{"error field", stubidp.JSON(200, `{"error":"unauthorized_client"}`), "oauth2: unauthorized_client (HTTP 200 from"},
		{"oauth error", stubidp.JSON(400, `{"error":"invalid_client"}`), "oauth2: invalid_client (HTTP 400 from"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			idp := stubidp.New(t, tt.reply)
			c, _ := testClient(idp)
			body, err := c.PostForm(context.Background(), idp.URL()+"/device", url.Values{"scope": {"openid"}}, ClientAuth{ClientID: "pub"})
			if tt.wantErr == "" {
				if err != nil || string(body) != tt.reply.Body {
					t.Fatalf("PostForm = %q, %v", body, err)
				}
				if got := idp.Requests()[0].Form.Encode(); got != "client_id=pub&scope=openid" {
					t.Errorf("form = %s", got)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func checkRetryAfter(want time.Duration) func(error) error {
	return func(err error) error {
		var oe *Error
		if !errors.As(err, &oe) || oe.RetryAfter != want {
			return errors.New("want an *Error carrying the Retry-After")
		}
		return nil
	}
}
