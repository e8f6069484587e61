package grant

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"flag"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/fedtoken/fedtoken/core/internal/stubidp"
	"github.com/fedtoken/fedtoken/core/oauth"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// Deterministic test credentials (fixtures, not real secrets).
const (
	testSubjectJWT   = "eyJhbGciOiJSUzI1NiIsImtpZCI6InRlc3QifQ.eyJpc3MiOiJodHRwczovL2s4cy50ZXN0Iiwic3ViIjoic3lzdGVtOnNlcnZpY2VhY2NvdW50OmUyZTp3b3JrbG9hZCJ9.test-subject-signature"
	testFederatedJWT = "eyJhbGciOiJSUzI1NiIsImtpZCI6InRlc3QifQ.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6ZTJlOndvcmtsb2FkIn0.test-federated-signature"
	testActorJWT     = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhY3RvciJ9.test-actor-signature"
	testClientSecret = "test-client-secret"
	testRefreshToken = "test-refresh-token"
)

// fakeSource is a subject.Source returning tokens in turn (the last repeats).
type fakeSource struct {
	name   string
	tokens []string
	err    error
	calls  atomic.Int32
}

func newFakeSource(name string, tokens ...string) *fakeSource {
	return &fakeSource{name: name, tokens: tokens}
}

func (f *fakeSource) SubjectToken(context.Context) (string, error) {
	n := int(f.calls.Add(1)) - 1
	if f.err != nil {
		return "", f.err
	}
	return f.tokens[min(n, len(f.tokens)-1)], nil
}

func (f *fakeSource) String() string { return "fake " + f.name }

// newIdP starts core/internal/stubidp's token endpoint; its replies are
// JSON unless they say otherwise.
func newIdP(t *testing.T, replies ...stubidp.Reply) *stubidp.Server {
	t.Helper()
	replies = slices.Clone(replies)
	for i := range replies {
		if replies[i].ContentType == "" {
			replies[i].ContentType = "application/json"
		}
	}
	return stubidp.New(t, replies...)
}

const okBody = `{"access_token":"at-1","token_type":"bearer","expires_in":300}`

// noSleep is a RetryPolicy that never waits.
var noSleep = oauth.RetryPolicy{Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }}

func testOAuthClient(s *stubidp.Server) *oauth.Client {
	return &oauth.Client{HTTPClient: s.Client(), Retry: noSleep}
}

func testKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// authVariant is one client authentication configuration under test.
type authVariant struct {
	name string
	auth oauth.ClientAuth
}

func authVariants(t *testing.T) []authVariant {
	fed := newFakeSource("federated", testFederatedJWT)
	return []authVariant{
		{"client_secret_basic", oauth.ClientAuth{Method: oauth.AuthClientSecretBasic, ClientID: "fedtoken-client", ClientSecret: testClientSecret}},
		{"client_secret_post", oauth.ClientAuth{Method: oauth.AuthClientSecretPost, ClientID: "fedtoken-client", ClientSecret: testClientSecret}},
		{"none", oauth.ClientAuth{Method: oauth.AuthNone, ClientID: "fedtoken-public"}},
		{"private_key_jwt", oauth.ClientAuth{Method: oauth.AuthPrivateKeyJWT, ClientID: "fedtoken-client", PrivateKey: testKey(t), KeyID: "test-key-1"}},
		{"federated", oauth.ClientAuth{Method: oauth.AuthFederated, ClientID: "workload", Assertion: fed.SubjectToken}},
		{"federated_omit_client_id", oauth.ClientAuth{Method: oauth.AuthFederated, ClientID: "workload", OmitClientID: true, Assertion: fed.SubjectToken}},
	}
}

// grantCase builds one grant against an endpoint and returns its acquire func.
type grantCase struct {
	name  string
	build func(ep Endpoint, c *oauth.Client, auth oauth.ClientAuth) func(context.Context) (*oauth2.Token, error)
}

func grantCases() []grantCase {
	return []grantCase{
		{nameJWTBearer, func(ep Endpoint, c *oauth.Client, auth oauth.ClientAuth) func(context.Context) (*oauth2.Token, error) {
			g := &JWTBearer{Endpoint: ep, Client: c, Auth: auth, Assertion: newFakeSource("subject", testSubjectJWT), Scopes: []string{"openid", "profile"}}
			return g.TokenContext
		}},
		{nameTokenExchange, func(ep Endpoint, c *oauth.Client, auth oauth.ClientAuth) func(context.Context) (*oauth2.Token, error) {
			g := &TokenExchange{Endpoint: ep, Client: c, Auth: auth, Subject: newFakeSource("subject", testSubjectJWT),
				Audience: []string{"llm-gateway"}, Scopes: []string{"openid"}}
			return g.TokenContext
		}},
		{nameClientCredentials, func(ep Endpoint, c *oauth.Client, auth oauth.ClientAuth) func(context.Context) (*oauth2.Token, error) {
			g := &ClientCredentials{Endpoint: ep, Client: c, Auth: auth, Scopes: []string{"llm:invoke"}}
			return g.TokenContext
		}},
		{nameJWTBearerKey, func(ep Endpoint, c *oauth.Client, auth oauth.ClientAuth) func(context.Context) (*oauth2.Token, error) {
			g := &JWTBearerKey{Endpoint: ep, Client: c, Auth: auth, ClientID: "svc-account", KeyID: "svc-key-1",
				Key: func() (crypto.Signer, error) { return testAssertionKey(), nil }, Scopes: []string{"openid"}}
			return g.TokenContext
		}},
		{nameRefresh, func(ep Endpoint, c *oauth.Client, auth oauth.ClientAuth) func(context.Context) (*oauth2.Token, error) {
			g := &Refresh{Endpoint: ep, Client: c, Auth: auth}
			return func(ctx context.Context) (*oauth2.Token, error) {
				return g.Renew(ctx, &oauth2.Token{AccessToken: "old", RefreshToken: testRefreshToken})
			}
		}},
	}
}

func testClientAuth() oauth.ClientAuth {
	return oauth.ClientAuth{ClientID: "fedtoken-client", ClientSecret: testClientSecret}
}
