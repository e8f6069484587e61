package mockidp

import (
	"context"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// Introspect implements op.Server (RFC 7662). Any confidential client may
// introspect; access tokens of this issuer and its refresh tokens are
// active until they expire or are revoked.
func (is *issuer) Introspect(ctx context.Context, r *op.Request[op.IntrospectionRequest]) (*op.Response, error) {
	_, _, basic := basicAuth(r.Header)
	cc := r.Data.ClientCredentials
	if _, err := is.authenticate(ctx, clientCreds{
		id: cc.ClientID, secret: cc.ClientSecret, assertion: cc.ClientAssertion,
		assertionType: cc.ClientAssertionType, basic: basic,
	}); err != nil {
		return nil, err
	}
	token := r.Data.IntrospectionRequest.Token
	if t, err := is.ownToken(ctx, token); err == nil {
		out := map[string]any{"active": true, "token_type": "Bearer"}
		for k, v := range t.claims {
			out[k] = v
		}
		return op.NewResponse(out), nil
	}
	is.mu.Lock()
	g := is.refresh[hashSecret(token)]
	active := g != nil && !g.used && !g.revoked && !is.now().After(g.expires)
	var out map[string]any
	if active {
		out = map[string]any{
			"active": true, "token_type": "refresh_token", "client_id": g.client,
			"sub": g.user.subject(), "exp": g.expires.Unix(), "scope": joinScopes(g.scopes), "iss": is.url,
		}
	}
	is.mu.Unlock()
	if out == nil {
		out = map[string]any{"active": false}
	}
	return op.NewResponse(out), nil
}

func joinScopes(s []string) string { return oidc.SpaceDelimitedArray(s).String() }

// UserInfo implements op.Server: the claims of the user behind an access
// token of this issuer.
func (is *issuer) UserInfo(ctx context.Context, r *op.Request[oidc.UserInfoRequest]) (*op.Response, error) {
	t, err := is.ownToken(ctx, r.Data.AccessToken)
	if err != nil {
		recordFrom(ctx).setCheck(err)
		return nil, invalidToken("access token: " + err.Error())
	}
	recordFrom(ctx).setSubject(t.summary())
	out := map[string]any{}
	is.mu.Lock()
	for _, u := range is.users {
		if u.subject() == t.sub {
			for k, v := range u.Claims {
				out[k] = v
			}
			out["preferred_username"] = u.Username
		}
	}
	is.mu.Unlock()
	out["sub"] = t.sub
	return op.NewResponse(out), nil
}

// Revocation implements op.Server (RFC 7009): refresh tokens and access
// tokens (by jti) of the requesting client. Unknown tokens are ignored.
func (is *issuer) Revocation(ctx context.Context, r *op.ClientRequest[oidc.RevocationRequest]) (*op.Response, error) {
	cl := r.Client.(*authedClient)
	is.mu.Lock()
	g := is.refresh[hashSecret(r.Data.Token)]
	if g != nil && g.client == cl.cfg.ID {
		g.revoked = true
	}
	is.mu.Unlock()
	if g != nil {
		if g.client != cl.cfg.ID {
			return nil, unauthorizedClient("the token was issued to another client")
		}
		return op.NewResponse(nil), nil
	}
	t, err := is.ownToken(ctx, r.Data.Token)
	if err != nil {
		return op.NewResponse(nil), nil // invalid, expired or already revoked: nothing to do
	}
	if id, _ := t.claims["client_id"].(string); id != cl.cfg.ID {
		return nil, unauthorizedClient("the token was issued to another client")
	}
	is.mu.Lock()
	is.revoked[t.jti] = t.exp
	is.mu.Unlock()
	return op.NewResponse(nil), nil
}
