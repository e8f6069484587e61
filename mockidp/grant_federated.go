package mockidp

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// verifyExternal verifies a token from a trusted issuer (or, when allowOwn,
// one this issuer signed). Its errors are checkErrors.
func (is *issuer) verifyExternal(ctx context.Context, raw string, allowOwn bool) (*parsedJWT, error) {
	t, err := parseJWT(raw)
	if err != nil {
		return nil, err
	}
	if allowOwn && t.iss == is.url {
		return is.verifyOwn(ctx, t)
	}
	var firstErr error
	var trusted []string
	for _, p := range is.policies() {
		trusted = append(trusted, p.issuer)
		if p.issuer != t.iss {
			continue
		}
		err := p.verify(ctx, t, is.now())
		if err == nil {
			return t, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if firstErr != nil {
		return t, firstErr
	}
	return t, &checkError{Check: checkIssuer, Detail: fmt.Sprintf("unknown issuer %q: no trust policy of issuer %q accepts it (trusted: %v)", t.iss, is.name, trusted)}
}

// reject turns a failed token check into the OAuth error answered for the
// request parameter param (assertion, subject_token, actor_token).
func (is *issuer) reject(ctx context.Context, param string, err error, code string) error {
	recordFrom(ctx).setCheck(err)
	var ce *checkError
	if !errors.As(err, &ce) {
		return err
	}
	desc := param + ": " + ce.Detail
	if ce.Unavailable {
		return temporarilyUnavailable(desc)
	}
	if code == "invalid_request" {
		return invalidRequest("%s", desc)
	}
	return invalidGrant("%s", desc)
}

// subjectErrorCode is the error code for rejected token-exchange tokens.
func (is *issuer) subjectErrorCode() string {
	if is.cfg.SubjectTokenError == "invalid_request" {
		return "invalid_request"
	}
	return "invalid_grant"
}

// JWTProfile implements op.Server: the RFC 7523 jwt-bearer grant with an
// assertion from a trusted issuer. Client authentication is optional; a
// client that sends only client_id must be public.
func (is *issuer) JWTProfile(ctx context.Context, r *op.Request[oidc.JWTProfileGrantRequest]) (*op.Response, error) {
	cl, err := is.optionalClient(ctx, r.Header, r.Form)
	if err != nil {
		return nil, err
	}
	if cl != nil && !cl.allows(GrantJWTBearer) {
		return nil, unauthorizedClient("client %q may not use grant jwt_bearer", cl.cfg.ID)
	}
	if signer, t := is.selfSigner(r.Data.Assertion); signer != nil {
		return is.jwtProfileSelfSigned(ctx, cl, signer, t, r.Data.Scope)
	}
	t, err := is.verifyExternal(ctx, r.Data.Assertion, false)
	if t != nil {
		recordFrom(ctx).setSubject(t.summary())
	}
	if err != nil {
		return nil, is.reject(ctx, "assertion", err, "invalid_grant")
	}
	ac := accessClaims{subject: t.sub, scopes: r.Data.Scope, audiences: []string{is.url}, lifetime: is.accessLifetime(nil)}
	if cl != nil {
		if ac.scopes, err = cl.grantScopes(r.Data.Scope); err != nil {
			return nil, err
		}
		ac.clientID, ac.audiences, ac.lifetime = cl.cfg.ID, cl.audiences(), is.accessLifetime(cl.client)
	}
	return is.accessResponse(ac, "")
}

// selfSigner returns the client that signed a jwt-bearer assertion
// itself — its iss is the ID of a client with a registered key and no
// trust policy covers that issuer (the service-account-key pattern of
// golang.org/x/oauth2/jwt, Zitadel's JWT profile) — and the parsed
// assertion; nil when the assertion is not such a one.
func (is *issuer) selfSigner(raw string) (*client, *parsedJWT) {
	t, err := parseJWT(raw)
	if err != nil {
		return nil, nil
	}
	for _, p := range is.policies() {
		if p.issuer == t.iss {
			return nil, nil
		}
	}
	cl := is.lookupClient(t.iss)
	if cl == nil || len(cl.keys) == 0 {
		return nil, nil
	}
	return cl, t
}

// jwtProfileSelfSigned serves a jwt-bearer request whose assertion the
// client signer signed with its registered key (iss = sub = its ID). The
// token is the client's own: sub and client_id are its ID. authed is the
// client the request authenticated besides, if any; it must be signer.
func (is *issuer) jwtProfileSelfSigned(ctx context.Context, authed *authedClient, signer *client, t *parsedJWT, scope []string) (*op.Response, error) {
	rec := recordFrom(ctx)
	rec.setSubject(t.summary())
	if authed == nil {
		rec.setClient(signer.cfg.ID, "") // the assertion names the client; nothing else authenticated it
	}
	if authed != nil && authed.cfg.ID != signer.cfg.ID {
		return nil, invalidGrant("assertion: signed by client %q, but the request authenticated client %q", signer.cfg.ID, authed.cfg.ID)
	}
	if !signer.allows(GrantJWTBearer) {
		return nil, unauthorizedClient("client %q may not use grant jwt_bearer", signer.cfg.ID)
	}
	if ce := is.verifyClientSigned(ctx, t, signer, "self-signed assertion"); ce != nil {
		return nil, is.reject(ctx, "assertion", ce, "invalid_grant")
	}
	scopes, err := signer.grantScopes(scope)
	if err != nil {
		return nil, err
	}
	return is.accessResponse(accessClaims{subject: signer.cfg.ID, clientID: signer.cfg.ID, audiences: signer.audiences(),
		scopes: scopes, lifetime: is.accessLifetime(signer)}, "")
}

// accessResponse issues an access token and wraps it in a token response.
func (is *issuer) accessResponse(ac accessClaims, issuedType string) (*op.Response, error) {
	at, exp, err := is.mintAccess(ac)
	if err != nil {
		return nil, err
	}
	return tokenResp(&tokenResponse{
		AccessToken:     at,
		IssuedTokenType: issuedType,
		TokenType:       "Bearer",
		ExpiresIn:       expiresIn(is.now(), exp),
		Scope:           strings.Join(ac.scopes, " "),
	}), nil
}

// TokenExchange implements op.Server: RFC 8693 with subject (and actor)
// tokens from trusted issuers or from this issuer.
func (is *issuer) TokenExchange(ctx context.Context, r *op.ClientRequest[oidc.TokenExchangeRequest]) (*op.Response, error) {
	cl := r.Client.(*authedClient)
	if !cl.allows(GrantTokenExchange) {
		return nil, unauthorizedClient("client %q may not use grant token_exchange", cl.cfg.ID)
	}
	req := r.Data
	code := is.subjectErrorCode()
	for _, p := range []struct {
		name string
		typ  oidc.TokenType
	}{{"subject_token_type", req.SubjectTokenType}, {"actor_token_type", req.ActorTokenType}} {
		if p.typ == oidc.RefreshTokenType {
			return nil, invalidRequest("%s %s is not supported: send a jwt, id_token or access_token", p.name, p.typ)
		}
	}
	if req.ActorToken != "" && req.ActorTokenType == "" {
		return nil, invalidRequest("actor_token_type missing")
	}
	if req.ActorToken == "" && req.ActorTokenType != "" {
		return nil, invalidRequest("actor_token_type without actor_token")
	}
	issued := req.RequestedTokenType
	switch issued {
	case "":
		issued = oidc.AccessTokenType
	case oidc.AccessTokenType, oidc.JWTTokenType, oidc.IDTokenType:
	default:
		return nil, invalidRequest("requested_token_type %s is not supported: request %s, %s or %s", issued, oidc.AccessTokenType, oidc.JWTTokenType, oidc.IDTokenType)
	}
	rec := recordFrom(ctx)
	subj, err := is.verifyExternal(ctx, req.SubjectToken, true)
	if subj != nil {
		rec.setSubject(subj.summary())
	}
	if err != nil {
		return nil, is.reject(ctx, "subject_token", err, code)
	}
	var act map[string]any
	if req.ActorToken != "" {
		actor, err := is.verifyExternal(ctx, req.ActorToken, true)
		if actor != nil {
			rec.setActor(actor.summary())
		}
		if err != nil {
			return nil, is.reject(ctx, "actor_token", err, code)
		}
		act = map[string]any{"sub": actor.sub, "iss": actor.iss}
		if prior, ok := subj.claims["act"]; ok {
			act["act"] = prior
		}
	}
	scopes, err := cl.grantScopes(req.Scopes)
	if err != nil {
		return nil, err
	}
	aud := slices.Concat([]string(req.Audience), req.Resource)
	if len(aud) == 0 {
		aud = cl.audiences()
	}
	if issued == oidc.IDTokenType {
		idt, err := is.mintID(nil, subj.sub, cl.cfg.ID, "", is.idLifetime(cl.client))
		if err != nil {
			return nil, err
		}
		return tokenResp(&tokenResponse{
			AccessToken: idt, IssuedTokenType: string(issued), TokenType: "N_A",
			ExpiresIn: int64(is.idLifetime(cl.client).Seconds()), Scope: strings.Join(scopes, " "),
		}), nil
	}
	return is.accessResponse(accessClaims{
		subject: subj.sub, clientID: cl.cfg.ID, audiences: aud, scopes: scopes,
		act: act, lifetime: is.accessLifetime(cl.client),
	}, string(issued))
}

// ClientCredentialsExchange implements op.Server. The client was
// authenticated by VerifyClient (secret, private_key_jwt or a federated
// assertion); the token's sub is the client ID.
func (is *issuer) ClientCredentialsExchange(ctx context.Context, r *op.ClientRequest[oidc.ClientCredentialsRequest]) (*op.Response, error) {
	cl := r.Client.(*authedClient)
	if !cl.allows(GrantClientCredentials) {
		return nil, unauthorizedClient("client %q may not use grant client_credentials", cl.cfg.ID)
	}
	scopes, err := cl.grantScopes(r.Data.Scope)
	if err != nil {
		return nil, err
	}
	return is.accessResponse(accessClaims{
		subject: cl.cfg.ID, clientID: cl.cfg.ID, audiences: cl.audiences(),
		scopes: scopes, lifetime: is.accessLifetime(cl.client),
	}, "")
}
