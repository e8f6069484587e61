package grant

import (
	"context"
	"net/url"

	"golang.org/x/oauth2"

	"github.com/fedtoken/fedtoken/core/oauth"
)

// ClientCredentials is the RFC 6749 §4.4 client credentials grant. The
// credentials are Auth's: a secret, a private_key_jwt key, or — with
// oauth.AuthFederated — the platform JWT as client_assertion (Keycloak's
// federated-jwt, Azure-style workload identity). The federated assertion
// is read afresh for every acquisition.
type ClientCredentials struct {
	Endpoint
	// Client posts the request; nil means a default oauth.Client.
	Client *oauth.Client
	// Auth authenticates the client; it is the grant's only credential.
	Auth oauth.ClientAuth
	// Scopes are sent space-separated as "scope".
	Scopes []string
	// Params are extra form parameters; they may not repeat one the grant sets.
	Params url.Values
}

// Token implements oauth2.TokenSource.
func (g *ClientCredentials) Token() (*oauth2.Token, error) {
	return g.TokenContext(context.Background())
}

// TokenContext requests a token for the client.
func (g *ClientCredentials) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	form := url.Values{"grant_type": {GrantTypeClientCredentials}}
	return request{grant: nameClientCredentials, ep: g.Endpoint, client: g.Client, auth: g.Auth,
		form: form, scopes: g.Scopes, params: g.Params}.do(ctx)
}
