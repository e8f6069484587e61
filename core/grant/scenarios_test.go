package grant

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/fedtoken/fedtoken/core/internal/stubidp"
	"github.com/fedtoken/fedtoken/core/oauth"
)

// TestGrantAuthScenarios runs every grant with every client authentication
// through success, an OAuth error, transient failures and malformed bodies.
func TestGrantAuthScenarios(t *testing.T) {
	secrets := []string{testSubjectJWT, testFederatedJWT, testClientSecret, testRefreshToken,
		"test-subject-signature", "test-federated-signature"}
	scenarios := []struct {
		name     string
		replies  []stubidp.Reply
		wantReqs int
		check    func(t *testing.T, grant string, err error)
	}{
		{
			name: "success", replies: []stubidp.Reply{{Status: 200, Body: okBody}}, wantReqs: 1,
			check: func(t *testing.T, _ string, err error) {
				if err != nil {
					t.Fatalf("error = %v", err)
				}
			},
		},
		{
			name: "oauth error echoing the request", replies: []stubidp.Reply{{Echo: true}}, wantReqs: 1,
			check: func(t *testing.T, grant string, err error) {
				var oe *oauth.Error
				if !errors.As(err, &oe) || !errors.Is(err, oauth.ErrInvalidGrant) || oe.StatusCode != 400 {
					t.Fatalf("error = %v, want a reachable invalid_grant *oauth.Error", err)
				}
				if !strings.HasPrefix(err.Error(), grant+": oauth2: invalid_grant: rejected ") {
					t.Errorf("error = %q, want the grant prefix and the IdP text", err)
				}
			},
		},
		{
			name: "5xx then success", replies: []stubidp.Reply{{Status: 503, Body: `{"error":"temporarily_unavailable"}`}, {Status: 200, Body: okBody}}, wantReqs: 2,
			check: func(t *testing.T, _ string, err error) {
				if err != nil {
					t.Fatalf("error = %v", err)
				}
			},
		},
		{
			name: "429 until retries run out", replies: []stubidp.Reply{{Status: 429, Header: map[string]string{"Retry-After": "1"}}}, wantReqs: oauth.DefaultMaxAttempts,
			check: func(t *testing.T, grant string, err error) {
				var oe *oauth.Error
				if !errors.As(err, &oe) || oe.StatusCode != 429 {
					t.Fatalf("error = %v, want the last *oauth.Error (429)", err)
				}
				if !strings.HasPrefix(err.Error(), grant+": oauth: POST ") || !strings.Contains(err.Error(), "gave up after 4 attempts") {
					t.Errorf("error = %q", err)
				}
			},
		},
		{
			name: "malformed success body", replies: []stubidp.Reply{{Status: 200, Body: `{"access_token":`}}, wantReqs: 1,
			check: func(t *testing.T, grant string, err error) {
				if err == nil || !strings.Contains(err.Error(), "token response is not a JSON object") || !strings.HasPrefix(err.Error(), grant+": ") {
					t.Fatalf("error = %v", err)
				}
			},
		},
		{
			name: "success without access token", replies: []stubidp.Reply{{Status: 200, Body: `{"token_type":"bearer"}`}}, wantReqs: 1,
			check: func(t *testing.T, _ string, err error) {
				if err == nil || !strings.Contains(err.Error(), `/token: token response has no "access_token"`) {
					t.Fatalf("error = %v, want a missing access_token naming the endpoint", err)
				}
			},
		},
	}
	for _, g := range grantCases() {
		for _, a := range authVariants(t) {
			for _, sc := range scenarios {
				t.Run(g.name+"/"+a.name+"/"+sc.name, func(t *testing.T) {
					s := newIdP(t, sc.replies...)
					tok, err := g.build(Endpoint{TokenURL: s.TokenURL()}, testOAuthClient(s), a.auth)(context.Background())
					sc.check(t, g.name, err)
					if err == nil && (tok.AccessToken != "at-1" || tok.TokenType != "Bearer") {
						t.Errorf("token = %+v", tok)
					}
					if got := len(s.Requests()); got != sc.wantReqs {
						t.Errorf("requests = %d, want %d", got, sc.wantReqs)
					}
					if err == nil {
						return
					}
					for _, secret := range secrets {
						if strings.Contains(err.Error(), secret) {
							t.Errorf("error leaks %q: %s", secret, err)
						}
					}
					// When the IdP echoed a request that carried credentials,
					// they must show as redacted (the echo reached the error).
					if sc.replies[0].Echo && sentCredentials(s.Requests()[0]) && !strings.Contains(err.Error(), "[REDACTED]") {
						t.Errorf("error = %q, want the echoed credentials redacted", err)
					}
				})
			}
		}
	}
}

// sentCredentials reports whether a request carried any credential.
func sentCredentials(r stubidp.Request) bool {
	if r.Header.Get("Authorization") != "" {
		return true
	}
	for _, k := range []string{"client_secret", "client_assertion", "assertion", "subject_token", "refresh_token"} {
		if r.Form.Has(k) {
			return true
		}
	}
	return false
}
