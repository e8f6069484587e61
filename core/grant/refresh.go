package grant

import (
	"context"
	"errors"
	"net/url"

	"golang.org/x/oauth2"

	"github.com/fedtoken/fedtoken/core/oauth"
)

// Refresh renews a token with its refresh token (RFC 6749 §6). It is an
// oauth.Renewer: caches call Renew with the token they hold.
type Refresh struct {
	Endpoint
	// Client posts the request; nil means a default oauth.Client.
	Client *oauth.Client
	// Auth authenticates the client (often AuthNone with a client id).
	Auth oauth.ClientAuth
	// Scopes, when set, narrow the renewed token's scope.
	Scopes []string
}

var _ oauth.Renewer = (*Refresh)(nil)

// Renew exchanges prev's refresh token for a new token. When the response
// has no refresh token the previous one is kept (RFC 6749 §6 lets the IdP
// keep it valid).
func (g *Refresh) Renew(ctx context.Context, prev *oauth2.Token) (*oauth2.Token, error) {
	if prev == nil || prev.RefreshToken == "" {
		return nil, errors.New(nameRefresh + ": the previous token has no refresh token; sign in again")
	}
	form := url.Values{"grant_type": {GrantTypeRefreshToken}, "refresh_token": {prev.RefreshToken}}
	tok, err := request{grant: nameRefresh, ep: g.Endpoint, client: g.Client, auth: g.Auth,
		form: form, scopes: g.Scopes}.do(ctx)
	if err != nil {
		return nil, err
	}
	if tok.RefreshToken == "" {
		tok.RefreshToken = prev.RefreshToken
	}
	return tok, nil
}
