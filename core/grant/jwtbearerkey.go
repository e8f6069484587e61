package grant

import (
	"context"
	"crypto"
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"
	"time"

	"golang.org/x/oauth2"

	"github.com/fedtoken/fedtoken/core/jwt"
	"github.com/fedtoken/fedtoken/core/oauth"
)

// keyAssertionLifetime is the validity of a JWTBearerKey assertion: it
// is signed afresh for every request, so a minute is plenty.
const keyAssertionLifetime = 60 * time.Second

// JWTBearerKey is the RFC 7523 §2.1 JWT authorization grant with an
// assertion the client signs with its own private key: the service-account
// key pattern of golang.org/x/oauth2/jwt (Zitadel's JWT profile, Google
// service account keys). The assertion has iss = sub = ClientID, aud = the
// token endpoint (or Audience), a random jti, iat and an exp a minute
// later, and is signed for every acquisition (RS256 with an RSA key,
// ES256 with a P-256 key; see jwt.Sign).
type JWTBearerKey struct {
	Endpoint
	// Client posts the request; nil means a default oauth.Client.
	Client *oauth.Client
	// Auth authenticates the client. The signed assertion already names
	// the client, so it is usually none (AuthAuto without a secret): then
	// the request carries no client_id either, as x/oauth2/jwt sends it.
	Auth oauth.ClientAuth
	// ClientID is the assertion's iss and sub.
	ClientID string
	// Key returns the signing key. It is called for every acquisition, so
	// a rotated key file is picked up; its errors name the file, never
	// the key.
	Key func() (crypto.Signer, error)
	// KeyID is the "kid" header (optional): the id under which the IdP
	// registered the public key.
	KeyID string
	// Audience is the "aud" claim; empty means the token endpoint URL.
	// Some IdPs (Zitadel) want their issuer.
	Audience string
	// Scopes are sent space-separated as "scope".
	Scopes []string
	// Params are extra form parameters; they may not repeat one the grant sets.
	Params url.Values

	// now is the clock of iat and exp; nil means time.Now.
	now func() time.Time
}

// Token implements oauth2.TokenSource.
func (g *JWTBearerKey) Token() (*oauth2.Token, error) { return g.TokenContext(context.Background()) }

// TokenContext signs a new assertion and requests a token with it.
func (g *JWTBearerKey) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	if g.ClientID == "" {
		return nil, errors.New(nameJWTBearerKey + ": no client id to sign the assertion for; set clientId")
	}
	if g.Key == nil {
		return nil, errors.New(nameJWTBearerKey + ": no signing key; set assertion.privateKeyFile")
	}
	key, err := g.Key()
	if err != nil {
		return nil, fmt.Errorf("%s: signing key: %w", nameJWTBearerKey, err)
	}
	aud := g.Audience
	if aud == "" {
		if aud, err = g.Endpoint.TokenEndpoint(ctx); err != nil {
			return nil, fmt.Errorf("%s: %w", nameJWTBearerKey, err)
		}
	}
	now := time.Now()
	if g.now != nil {
		now = g.now()
	}
	assertion, err := jwt.Sign(map[string]any{
		"iss": g.ClientID,
		"sub": g.ClientID,
		"aud": aud,
		"jti": rand.Text(),
		"iat": now.Unix(),
		"exp": now.Add(keyAssertionLifetime).Unix(),
	}, key, g.KeyID)
	if err != nil {
		return nil, fmt.Errorf("%s: sign the assertion: %w", nameJWTBearerKey, err)
	}
	auth := g.Auth
	if auth.Effective() == oauth.AuthNone {
		auth.ClientID = "" // the assertion names the client
	}
	form := url.Values{"grant_type": {GrantTypeJWTBearer}, "assertion": {assertion}}
	return request{grant: nameJWTBearerKey, ep: g.Endpoint, client: g.Client, auth: auth,
		form: form, scopes: g.Scopes, params: g.Params}.do(ctx)
}
