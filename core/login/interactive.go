package login

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/oauth2"

	"github.com/fedtoken/fedtoken/core/oauth"
)

// Interactive pairs a login flow with a refresh grant. It is an
// oauth.TokenSource (TokenContext logs in) and an oauth.Renewer: Renew
// uses the previous token's refresh token while the IdP accepts it, and
// logs in again only when there is none or the IdP rejects it with
// invalid_grant (expired, revoked). Any other refresh failure (network,
// HTTP 5xx) is returned as is, so a flaky IdP never triggers a login
// prompt.
type Interactive struct {
	// Login is the flow: a *DeviceCode or an *AuthCode.
	Login oauth.TokenSource
	// Refresh renews a token with its refresh token (typically a
	// *grant.Refresh, which keeps the old refresh token when the response
	// omits it). nil means every renewal is a new login.
	Refresh oauth.Renewer
}

// Token logs in with context.Background().
func (s *Interactive) Token() (*oauth2.Token, error) { return s.TokenContext(context.Background()) }

// TokenContext runs a new login.
func (s *Interactive) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	return s.Login.TokenContext(ctx)
}

// Renew refreshes prev, or logs in again when it cannot be refreshed.
func (s *Interactive) Renew(ctx context.Context, prev *oauth2.Token) (*oauth2.Token, error) {
	if prev == nil || prev.RefreshToken == "" || s.Refresh == nil {
		return s.Login.TokenContext(ctx)
	}
	tok, err := s.Refresh.Renew(ctx, prev)
	if err == nil {
		return tok, nil
	}
	if !errors.Is(err, oauth.ErrInvalidGrant) {
		return nil, err
	}
	tok, loginErr := s.Login.TokenContext(ctx)
	if loginErr != nil {
		return nil, fmt.Errorf("%w (the refresh token was rejected: %v)", loginErr, err)
	}
	return tok, nil
}
