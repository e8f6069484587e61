package mockidp

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// accessClaims describes an access token to issue.
type accessClaims struct {
	subject   string
	clientID  string
	audiences []string
	scopes    []string
	act       map[string]any
	extra     map[string]any
	lifetime  time.Duration
}

// mintAccess signs an RFC 9068 JWT access token.
func (is *issuer) mintAccess(ac accessClaims) (string, time.Time, error) {
	now := is.now()
	exp := now.Add(ac.lifetime)
	claims := map[string]any{}
	for k, v := range ac.extra {
		claims[k] = v
	}
	claims["iss"] = is.url
	claims["sub"] = ac.subject
	claims["aud"] = ac.audiences
	claims["iat"] = now.Unix()
	claims["nbf"] = now.Unix()
	claims["exp"] = exp.Unix()
	claims["jti"] = randomID(16)
	if ac.clientID != "" {
		claims["client_id"] = ac.clientID
	}
	if len(ac.scopes) > 0 {
		claims["scope"] = strings.Join(ac.scopes, " ")
	}
	if ac.act != nil {
		claims["act"] = ac.act
	}
	tok, err := is.key.sign(claims, "at+jwt")
	return tok, exp, err
}

// mintID signs an ID token for a user.
func (is *issuer) mintID(u *UserConfig, subject, clientID, nonce string, lifetime time.Duration) (string, error) {
	now := is.now()
	claims := map[string]any{}
	if u != nil {
		for k, v := range u.Claims {
			claims[k] = v
		}
		if _, ok := claims["preferred_username"]; !ok {
			claims["preferred_username"] = u.Username
		}
	}
	claims["iss"] = is.url
	claims["sub"] = subject
	claims["aud"] = []string{clientID}
	claims["azp"] = clientID
	claims["iat"] = now.Unix()
	claims["exp"] = now.Add(lifetime).Unix()
	claims["auth_time"] = now.Unix()
	claims["jti"] = randomID(16)
	if nonce != "" {
		claims["nonce"] = nonce
	}
	return is.key.sign(claims, "JWT")
}

// tokenResponse is the token endpoint's success body (RFC 6749 section
// 5.1, RFC 8693 section 2.2.1).
type tokenResponse struct {
	AccessToken     string `json:"access_token"`
	IssuedTokenType string `json:"issued_token_type,omitempty"`
	TokenType       string `json:"token_type"`
	ExpiresIn       int64  `json:"expires_in"`
	RefreshToken    string `json:"refresh_token,omitempty"`
	IDToken         string `json:"id_token,omitempty"`
	Scope           string `json:"scope,omitempty"`
}

func expiresIn(now, exp time.Time) int64 {
	return max(1, int64(math.Ceil(exp.Sub(now).Seconds())))
}

func tokenResp(body any) *op.Response {
	r := op.NewResponse(body)
	r.Header.Set("Cache-Control", "no-store")
	r.Header.Set("Pragma", "no-cache")
	return r
}

// interactiveGrant is what authorization code and device grants issue from.
type interactiveGrant struct {
	client *client
	user   *UserConfig
	scopes []string
	nonce  string
}

// issueInteractive issues an access token, an ID token when openid was
// granted, and a refresh token when the client may refresh.
func (is *issuer) issueInteractive(ctx context.Context, g interactiveGrant) (*op.Response, error) {
	sub := g.user.subject()
	recordFrom(ctx).setSubject(map[string]any{"sub": sub, "username": g.user.Username})
	at, exp, err := is.mintAccess(accessClaims{
		subject: sub, clientID: g.client.cfg.ID, audiences: g.client.audiences(),
		scopes: g.scopes, lifetime: is.accessLifetime(g.client),
	})
	if err != nil {
		return nil, err
	}
	resp := &tokenResponse{AccessToken: at, TokenType: "Bearer", ExpiresIn: expiresIn(is.now(), exp), Scope: strings.Join(g.scopes, " ")}
	if containsScope(g.scopes, "openid") {
		if resp.IDToken, err = is.mintID(g.user, sub, g.client.cfg.ID, g.nonce, is.idLifetime(g.client)); err != nil {
			return nil, err
		}
	}
	if g.client.allows(GrantRefreshToken) {
		resp.RefreshToken = is.newRefresh(&refreshGrant{client: g.client.cfg.ID, user: g.user, scopes: g.scopes})
	}
	return tokenResp(resp), nil
}

func containsScope(scopes []string, s string) bool {
	for _, x := range scopes {
		if x == s {
			return true
		}
	}
	return false
}

// hashSecret is how opaque credentials (codes, refresh tokens) are keyed
// in memory: never by their value.
func hashSecret(s string) string {
	h := sha256.Sum256([]byte(s))
	return b64(h[:])
}

// ownToken verifies an access token this issuer signed: signature, exp and
// revocation. Its errors are checkErrors.
func (is *issuer) ownToken(ctx context.Context, raw string) (*parsedJWT, error) {
	t, err := parseJWT(raw)
	if err != nil {
		return nil, err
	}
	if t.iss != is.url {
		return nil, &checkError{Check: checkIssuer, Detail: fmt.Sprintf("token was issued by %q, not by this issuer", t.iss)}
	}
	return is.verifyOwn(ctx, t)
}

func (is *issuer) verifyOwn(ctx context.Context, t *parsedJWT) (*parsedJWT, error) {
	src := &staticKeys{set: is.key.jwks().Keys, desc: "the keys of issuer " + is.name}
	if err := verifySignature(ctx, t, src); err != nil {
		return nil, err
	}
	if err := checkTimes(t, is.now(), 0, 0); err != nil {
		return nil, err
	}
	is.mu.Lock()
	_, revoked := is.revoked[t.jti]
	is.mu.Unlock()
	if revoked {
		return nil, &checkError{Check: checkRevoked, Detail: "token was revoked"}
	}
	return t, nil
}

// invalidToken is the RFC 6750 invalid_token error (HTTP 401) of the
// userinfo endpoint.
func invalidToken(desc string) error {
	return statusError(&oidc.Error{ErrorType: "invalid_token", Description: desc}, http.StatusUnauthorized)
}
