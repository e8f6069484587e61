package grant

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/fedtoken/fedtoken/core/internal/stubidp"
	"github.com/fedtoken/fedtoken/core/oauth"
	"github.com/fedtoken/fedtoken/core/subject"
)

func TestSubjectTokenReadFreshEveryTime(t *testing.T) {
	s := newIdP(t, stubidp.Reply{Status: 200, Body: okBody})
	subj := newFakeSource("rotating", "token-v1", "token-v2", "token-v3")
	actor := newFakeSource("actor", "actor-v1", "actor-v2")
	fed := newFakeSource("federated", "fed-v1", "fed-v2")
	ep := Endpoint{TokenURL: s.TokenURL()}
	c := testOAuthClient(s)
	x := &TokenExchange{Endpoint: ep, Client: c, Subject: subj, Actor: actor}
	jb := &JWTBearer{Endpoint: ep, Client: c, Assertion: subj}
	cc := &ClientCredentials{Endpoint: ep, Client: c, Auth: oauth.ClientAuth{Method: oauth.AuthFederated, Assertion: fed.SubjectToken}}
	for _, ts := range []oauth.TokenSource{x, x, jb} {
		if _, err := ts.TokenContext(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		if _, err := cc.Token(); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, r := range s.Requests() {
		got = append(got, r.Form.Get("subject_token")+r.Form.Get("assertion")+"|"+r.Form.Get("actor_token")+"|"+r.Form.Get("client_assertion"))
	}
	want := []string{"token-v1|actor-v1|", "token-v2|actor-v2|", "token-v3||", "||fed-v1", "||fed-v2"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("sent %v, want %v", got, want)
	}
}

func TestSubjectErrors(t *testing.T) {
	s := newIdP(t, stubidp.Reply{Status: 200, Body: okBody})
	ep := Endpoint{TokenURL: s.TokenURL()}
	failing := &fakeSource{name: "/var/run/secrets/tokens/oauth2/token", err: errors.New("subject: kubernetes_sa /var/run/secrets/tokens/oauth2/token: token expired at 12:00")}
	empty := newFakeSource("empty", "")
	tests := []struct {
		name    string
		ts      oauth.TokenSource
		wantErr string
	}{
		{"exchange read error", &TokenExchange{Endpoint: ep, Subject: failing}, "token_exchange: read subject token: subject: kubernetes_sa /var/run/secrets/tokens/oauth2/token: token expired"},
		{"actor read error", &TokenExchange{Endpoint: ep, Subject: empty, Actor: failing}, "token_exchange: read subject token: subject: fake empty: no subject token"},
		{"bearer no source", &JWTBearer{Endpoint: ep}, "jwt_bearer: no assertion source configured"},
		{"exchange no source", &TokenExchange{Endpoint: ep}, "token_exchange: no subject token source configured"},
		{"actor error", &TokenExchange{Endpoint: ep, Subject: newFakeSource("s", "x"), Actor: failing}, "token_exchange: read actor token: subject: kubernetes_sa"},
		{"federated read error", &ClientCredentials{Endpoint: ep, Auth: oauth.ClientAuth{Method: oauth.AuthFederated,
			Assertion: func(ctx context.Context) (string, error) { return subject.Read(ctx, failing) }}},
			"client_credentials: oauth: client auth federated: read assertion: subject: kubernetes_sa"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.ts.TokenContext(context.Background())
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want %q", err, tt.wantErr)
			}
			var se *subject.Error
			if strings.Contains(tt.name, "no source") == errors.As(err, &se) {
				t.Errorf("errors.As(*subject.Error) = %v; want it for every failed read and only then", se != nil)
			}
		})
	}
	if n := len(s.Requests()); n != 0 {
		t.Errorf("requests = %d, want 0: nothing is sent without a subject token", n)
	}
}

func TestParamsMayNotOverrideTheGrant(t *testing.T) {
	s := newIdP(t, stubidp.Reply{Status: 200, Body: okBody})
	g := &TokenExchange{Endpoint: Endpoint{TokenURL: s.TokenURL()}, Subject: newFakeSource("s", "x"),
		Params: url.Values{"subject_token_type": {TokenTypeIDToken}}}
	_, err := g.TokenContext(context.Background())
	if err == nil || !strings.Contains(err.Error(), `token_exchange: extra parameter "subject_token_type" is set by the grant itself`) {
		t.Fatalf("error = %v", err)
	}
	if n := len(s.Requests()); n != 0 {
		t.Errorf("requests = %d, want 0", n)
	}
}

func TestRefresh(t *testing.T) {
	prev := &oauth2.Token{AccessToken: "old", RefreshToken: "rt-old"}
	tests := []struct {
		name        string
		body        string
		wantRefresh string
	}{
		{"keeps the previous refresh token", `{"access_token":"new","token_type":"Bearer","expires_in":60}`, "rt-old"},
		{"takes a rotated refresh token", `{"access_token":"new","refresh_token":"rt-new","expires_in":60}`, "rt-new"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newIdP(t, stubidp.Reply{Status: 200, Body: tt.body})
			r := &Refresh{Endpoint: Endpoint{TokenURL: s.TokenURL()}, Client: testOAuthClient(s), Auth: oauth.ClientAuth{ClientID: "cli"}, Scopes: []string{"openid"}}
			tok, err := r.Renew(context.Background(), prev)
			if err != nil {
				t.Fatal(err)
			}
			if tok.AccessToken != "new" || tok.RefreshToken != tt.wantRefresh {
				t.Errorf("token = %q/%q, want new/%s", tok.AccessToken, tok.RefreshToken, tt.wantRefresh)
			}
			if got := s.Requests()[0].Form.Encode(); got != "client_id=cli&grant_type=refresh_token&refresh_token=rt-old&scope=openid" {
				t.Errorf("form = %s", got)
			}
		})
	}
	for _, p := range []*oauth2.Token{nil, {AccessToken: "a"}} {
		_, err := (&Refresh{Endpoint: Endpoint{TokenURL: "https://idp.test/token"}}).Renew(context.Background(), p)
		if err == nil || err.Error() != "refresh_token: the previous token has no refresh token; sign in again" {
			t.Errorf("Renew(%v) error = %v", p, err)
		}
	}
}

func TestHints(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		ts       func(ep Endpoint, c *oauth.Client) oauth.TokenSource
		wantCode *oauth.Error
		wantHint string
	}{
		{
			name: "dex rejects the jwt subject type",
			body: `{"error":"request_not_supported","error_description":"Invalid subject_token_type."}`,
			ts: func(ep Endpoint, c *oauth.Client) oauth.TokenSource {
				return &TokenExchange{Endpoint: ep, Client: c, Subject: newFakeSource("s", "x")}
			},
			wantCode: oauth.ErrRequestNotSupported,
			wantHint: "set subjectTokenType to urn:ietf:params:oauth:token-type:id_token",
		},
		{
			name: "dex without connector_id",
			body: `{"error":"invalid_request","error_description":"Requested connector does not exist."}`,
			ts: func(ep Endpoint, c *oauth.Client) oauth.TokenSource {
				return &TokenExchange{Endpoint: ep, Client: c, Subject: newFakeSource("s", "x"), SubjectTokenType: TokenTypeIDToken}
			},
			wantCode: oauth.ErrInvalidRequest,
			wantHint: "set extraParams connector_id",
		},
		{
			name: "dex has no jwt-bearer grant",
			body: `{"error":"unsupported_grant_type"}`,
			ts: func(ep Endpoint, c *oauth.Client) oauth.TokenSource {
				return &JWTBearer{Endpoint: ep, Client: c, Assertion: newFakeSource("s", "x")}
			},
			wantCode: oauth.ErrUnsupportedGrantType,
			wantHint: "the IdP does not offer the jwt_bearer grant",
		},
		{
			name: "keycloak refuses the federated assertion",
			body: `{"error":"invalid_client","error_description":"Invalid client or Invalid client credentials"}`,
			ts: func(ep Endpoint, c *oauth.Client) oauth.TokenSource {
				return &ClientCredentials{Endpoint: ep, Client: c, Auth: oauth.ClientAuth{Method: oauth.AuthFederated, ClientID: "workload",
					Assertion: newFakeSource("s", "x").SubjectToken}}
			},
			wantCode: oauth.ErrInvalidClient,
			wantHint: "set clientAuth.omitClientId",
		},
		{
			name: "wrong client secret",
			body: `{"error":"invalid_client","error_description":"Invalid client credentials."}`,
			ts: func(ep Endpoint, c *oauth.Client) oauth.TokenSource {
				return &TokenExchange{Endpoint: ep, Client: c, Subject: newFakeSource("s", "x"), Auth: oauth.ClientAuth{ClientID: "a", ClientSecret: "wrong-secret"}}
			},
			wantCode: oauth.ErrInvalidClient,
			wantHint: "check clientId and clientSecret",
		},
		{
			name: "keycloak user not linked",
			body: `{"error":"invalid_grant","error_description":"User not found"}`,
			ts: func(ep Endpoint, c *oauth.Client) oauth.TokenSource {
				return &JWTBearer{Endpoint: ep, Client: c, Assertion: newFakeSource("s", "x")}
			},
			wantCode: oauth.ErrInvalidGrant,
			wantHint: "link the user to the identity provider",
		},
		{
			// The seed's jwt_bearer client with no secret, at Keycloak 26.7.3.
			name: "keycloak public client with the jwt-bearer grant",
			body: `{"error":"invalid_grant","error_description":"Public client not allowed to use authorization grant"}`,
			ts: func(ep Endpoint, c *oauth.Client) oauth.TokenSource {
				return &JWTBearer{Endpoint: ep, Client: c, Auth: oauth.ClientAuth{ClientID: "k8s-bot"}, Assertion: newFakeSource("s", "x")}
			},
			wantCode: oauth.ErrInvalidGrant,
			wantHint: `only to a client that authenticates, and none was sent: to stay secretless, set clientAuth: {"method": "federated"}`,
		},
		{
			// The seed's file at Keycloak when k8s-bot is a confidential
			// (e.g. federated) client: Keycloak 26.7.3 answers 401.
			name: "keycloak confidential client, no client authentication sent",
			body: `{"error":"invalid_client","error_description":"Invalid client or Invalid client credentials"}`,
			ts: func(ep Endpoint, c *oauth.Client) oauth.TokenSource {
				return &JWTBearer{Endpoint: ep, Client: c, Auth: oauth.ClientAuth{ClientID: "k8s-bot"}, Assertion: newFakeSource("s", "x")}
			},
			wantCode: oauth.ErrInvalidClient,
			wantHint: `no client authentication was sent and the IdP requires it for this client: to stay secretless, set clientAuth: {"method": "federated"}`,
		},
		{
			name: "unauthorized_client with no client authentication",
			body: `{"error":"unauthorized_client","error_description":"Client authentication required"}`,
			ts: func(ep Endpoint, c *oauth.Client) oauth.TokenSource {
				return &JWTBearer{Endpoint: ep, Client: c, Auth: oauth.ClientAuth{ClientID: "k8s-bot"}, Assertion: newFakeSource("s", "x")}
			},
			wantCode: oauth.ErrUnauthorizedClient,
			wantHint: `no client authentication was sent and the IdP wants the client to authenticate for the jwt_bearer grant: to stay secretless, set clientAuth: {"method": "federated"}`,
		},
		{
			name: "unauthorized_client of an authenticated client",
			body: `{"error":"unauthorized_client"}`,
			ts: func(ep Endpoint, c *oauth.Client) oauth.TokenSource {
				return &JWTBearer{Endpoint: ep, Client: c, Auth: oauth.ClientAuth{ClientID: "a", ClientSecret: "wrong-secret"}, Assertion: newFakeSource("s", "x")}
			},
			wantCode: oauth.ErrUnauthorizedClient,
			wantHint: "enable it on the client at the IdP",
		},
		{
			name: "no hint for an unknown code",
			body: `{"error":"weird"}`,
			ts: func(ep Endpoint, c *oauth.Client) oauth.TokenSource {
				return &JWTBearer{Endpoint: ep, Client: c, Assertion: newFakeSource("s", "x")}
			},
			wantCode: &oauth.Error{Code: "weird"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newIdP(t, stubidp.Reply{Status: 400, Body: tt.body})
			_, err := tt.ts(Endpoint{TokenURL: s.TokenURL()}, testOAuthClient(s)).TokenContext(context.Background())
			if !errors.Is(err, tt.wantCode) {
				t.Fatalf("error = %v, want errors.Is %s", err, tt.wantCode.Code)
			}
			hint := Hint(err)
			if tt.wantHint == "" {
				if hint != "" || strings.Contains(err.Error(), "hint:") {
					t.Errorf("unexpected hint in %q", err)
				}
				return
			}
			if !strings.Contains(hint, tt.wantHint) || !strings.Contains(err.Error(), "; hint: "+hint) {
				t.Errorf("error = %q\nwant hint containing %q", err, tt.wantHint)
			}
			if strings.Contains(err.Error(), "wrong-secret") {
				t.Errorf("error leaks the client secret: %s", err)
			}
		})
	}
}
