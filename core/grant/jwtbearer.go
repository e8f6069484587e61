package grant

import (
	"context"
	"net/url"

	"golang.org/x/oauth2"

	"github.com/fedtoken/fedtoken/core/oauth"
	"github.com/fedtoken/fedtoken/core/subject"
)

// JWTBearer is the RFC 7523 §2.1 JWT authorization grant: the platform
// JWT is the assertion, and the client authenticates with Auth (Keycloak
// requires a confidential client).
type JWTBearer struct {
	Endpoint
	// Client posts the request; nil means a default oauth.Client.
	Client *oauth.Client
	// Auth authenticates the client.
	Auth oauth.ClientAuth
	// Assertion supplies the JWT, read afresh on every acquisition.
	Assertion subject.Source
	// Scopes are sent space-separated as "scope".
	Scopes []string
	// Params are extra form parameters; they may not repeat one the grant sets.
	Params url.Values
}

// Token implements oauth2.TokenSource.
func (g *JWTBearer) Token() (*oauth2.Token, error) { return g.TokenContext(context.Background()) }

// TokenContext requests a token for the current assertion.
func (g *JWTBearer) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	assertion, err := readToken(ctx, nameJWTBearer, "assertion", g.Assertion)
	if err != nil {
		return nil, err
	}
	form := url.Values{"grant_type": {GrantTypeJWTBearer}, "assertion": {assertion}}
	return request{grant: nameJWTBearer, ep: g.Endpoint, client: g.Client, auth: g.Auth,
		form: form, scopes: g.Scopes, params: g.Params}.do(ctx)
}
