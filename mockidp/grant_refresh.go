package mockidp

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// refreshGrant is an issued refresh token.
type refreshGrant struct {
	client  string
	user    *UserConfig
	scopes  []string
	expires time.Time
	used    bool // rotated: presenting it again fails
	revoked bool
}

// newRefresh stores g and returns its opaque refresh token.
func (is *issuer) newRefresh(g *refreshGrant) string {
	tok := randomToken(32)
	g.expires = is.now().Add(is.refreshLifetime())
	is.mu.Lock()
	is.refresh[hashSecret(tok)] = g
	is.mu.Unlock()
	return tok
}

// RefreshToken implements op.Server. Each refresh rotates the refresh token
// (the old one becomes invalid) unless keepRefreshToken is set, in which
// case the response has no refresh_token and the old one stays valid.
func (is *issuer) RefreshToken(ctx context.Context, r *op.ClientRequest[oidc.RefreshTokenRequest]) (*op.Response, error) {
	cl := r.Client.(*authedClient)
	now := is.now()
	is.mu.Lock()
	g := is.refresh[hashSecret(r.Data.RefreshToken)]
	var err error
	switch {
	case g == nil:
		err = invalidGrant("unknown refresh token")
	case g.revoked:
		err = invalidGrant("refresh token was revoked")
	case g.used:
		err = invalidGrant("refresh token was already used (it was rotated)")
	case now.After(g.expires):
		err = invalidGrant("refresh token expired at %s", fmtTime(g.expires))
	case g.client != cl.cfg.ID:
		err = invalidGrant("refresh token was issued to another client")
	}
	scopes := []string(r.Data.Scopes)
	if err == nil {
		if len(scopes) == 0 {
			scopes = g.scopes
		}
		for _, s := range scopes {
			if !slices.Contains(g.scopes, s) {
				err = oidc.ErrInvalidScope().WithDescription("%s", "scope "+s+" was not granted by the original authorization")
				break
			}
		}
	}
	if err == nil && !is.cfg.KeepRefreshToken {
		g.used = true
	}
	is.mu.Unlock()
	if err != nil {
		return nil, err
	}
	sub := g.user.subject()
	recordFrom(ctx).setSubject(map[string]any{"sub": sub, "username": g.user.Username})
	at, exp, err := is.mintAccess(accessClaims{
		subject: sub, clientID: cl.cfg.ID, audiences: cl.audiences(), scopes: scopes, lifetime: is.accessLifetime(cl.client),
	})
	if err != nil {
		return nil, err
	}
	resp := &tokenResponse{AccessToken: at, TokenType: "Bearer", ExpiresIn: expiresIn(now, exp), Scope: strings.Join(scopes, " ")}
	if containsScope(scopes, "openid") {
		if resp.IDToken, err = is.mintID(g.user, sub, cl.cfg.ID, "", is.idLifetime(cl.client)); err != nil {
			return nil, err
		}
	}
	if !is.cfg.KeepRefreshToken {
		resp.RefreshToken = is.newRefresh(&refreshGrant{client: g.client, user: g.user, scopes: g.scopes})
	}
	return tokenResp(resp), nil
}
