package mockidp

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// clientCreds are the client credentials of one request.
type clientCreds struct {
	id, secret    string
	assertion     string
	assertionType string
	basic         bool // id and secret came in an Authorization: Basic header
}

func (c clientCreds) present() bool {
	return c.id != "" || c.secret != "" || c.assertion != ""
}

// credsFromRequest reads client credentials from the Basic header and the
// form, for endpoints zitadel's router does not authenticate (jwt-bearer,
// introspection).
func credsFromRequest(header http.Header, form url.Values) (clientCreds, error) {
	c := clientCreds{
		id:            form.Get("client_id"),
		secret:        form.Get("client_secret"),
		assertion:     form.Get("client_assertion"),
		assertionType: form.Get("client_assertion_type"),
	}
	if id, secret, ok := basicAuth(header); ok {
		if c.secret != "" || c.assertion != "" {
			return c, invalidRequest("client authentication must not use more than one method")
		}
		var err error
		if c.id, err = url.QueryUnescape(id); err != nil {
			return c, invalidClient("invalid Basic authorization header: client_id is not URL-encoded")
		}
		if c.secret, err = url.QueryUnescape(secret); err != nil {
			return c, invalidClient("invalid Basic authorization header: client secret is not URL-encoded")
		}
		c.basic = true
	}
	if c.assertion != "" && c.assertionType != oidc.ClientAssertionTypeJWTAssertion {
		return c, invalidRequest("client_assertion_type must be %s", oidc.ClientAssertionTypeJWTAssertion)
	}
	return c, nil
}

func basicAuth(h http.Header) (id, secret string, ok bool) {
	r := http.Request{Header: h}
	return r.BasicAuth()
}

// VerifyClient implements op.Server: it authenticates the client of the
// token (all grants but jwt-bearer), device authorization and revocation
// endpoints.
func (is *issuer) VerifyClient(ctx context.Context, r *op.Request[op.ClientCredentials]) (op.Client, error) {
	_, _, basic := basicAuth(r.Header)
	c := clientCreds{
		id:            r.Data.ClientID,
		secret:        r.Data.ClientSecret,
		assertion:     r.Data.ClientAssertion,
		assertionType: r.Data.ClientAssertionType,
		basic:         basic,
	}
	cl, err := is.authenticate(ctx, c)
	if err != nil {
		return nil, err
	}
	return cl, nil
}

// authenticate checks the client credentials of a request. A client that
// sends only client_id must be public.
func (is *issuer) authenticate(ctx context.Context, c clientCreds) (*authedClient, error) {
	rec := recordFrom(ctx)
	cl, err := is.authenticate1(ctx, c)
	if cl != nil {
		rec.setClient(cl.cfg.ID, cl.method)
	} else if c.id != "" {
		rec.setClient(c.id, "")
	}
	return cl, err
}

func (is *issuer) authenticate1(ctx context.Context, c clientCreds) (*authedClient, error) {
	switch {
	case c.assertion != "":
		return is.authenticateAssertion(ctx, c)
	case c.secret != "":
		method := AuthClientSecretPost
		if c.basic {
			method = AuthClientSecretBasic
		}
		cl := is.lookupClient(c.id)
		if cl == nil {
			return nil, invalidClient("unknown client %q", c.id)
		}
		if cl.cfg.Secret == "" {
			return nil, invalidClient("client %q has no secret (it authenticates with %v)", c.id, cl.methods)
		}
		if !cl.allowsMethod(method) {
			return nil, invalidClient("client %q may not use %s (allowed: %v)", c.id, method, cl.methods)
		}
		if subtle.ConstantTimeCompare([]byte(c.secret), []byte(cl.cfg.Secret.Reveal())) != 1 {
			return nil, invalidClient("client secret does not match for client %q", c.id)
		}
		return &authedClient{client: cl, method: method}, nil
	case c.id != "":
		cl := is.lookupClient(c.id)
		if cl == nil {
			return nil, invalidClient("unknown client %q", c.id)
		}
		if !cl.cfg.Public {
			return nil, invalidClient("client %q is confidential: authenticate with one of %v", c.id, cl.methods)
		}
		return &authedClient{client: cl, method: AuthNone}, nil
	}
	return nil, invalidClient("no client credentials: send client_id, a client secret or a client_assertion")
}

// authenticateAssertion handles private_key_jwt (the client signs its own
// assertion) and federated client assertions (a token from a trusted issuer
// bound to a client by its sub).
func (is *issuer) authenticateAssertion(ctx context.Context, c clientCreds) (*authedClient, error) {
	rec := recordFrom(ctx)
	t, err := parseJWT(c.assertion)
	if err != nil {
		rec.setCheck(err)
		return nil, invalidClient("client_assertion: %v", err)
	}
	rec.setSubject(t.summary())
	var matching []*trustPolicy
	for _, p := range is.policies() {
		if p.issuer == t.iss {
			matching = append(matching, p)
		}
	}
	if len(matching) > 0 {
		return is.authenticateFederated(ctx, c, t, matching)
	}
	cl := is.lookupClient(t.iss)
	if cl == nil || len(cl.keys) == 0 {
		rec.setCheck(&checkError{Check: checkIssuer})
		return nil, invalidClient("client_assertion: issuer %q is neither a trust policy of issuer %q nor a client with a registered key", t.iss, is.name)
	}
	return is.authenticatePrivateKeyJWT(ctx, c, t, cl)
}

func (is *issuer) authenticateFederated(ctx context.Context, c clientCreds, t *parsedJWT, policies []*trustPolicy) (*authedClient, error) {
	rec := recordFrom(ctx)
	var policy *trustPolicy
	var firstErr error
	for _, p := range policies {
		err := p.verify(ctx, t, is.now())
		if err == nil {
			policy = p
			break
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if policy == nil {
		rec.setCheck(firstErr)
		var ce *checkError
		if errors.As(firstErr, &ce) && ce.Unavailable {
			return nil, temporarilyUnavailable("client_assertion: " + ce.Detail)
		}
		return nil, invalidClient("client_assertion: %v", firstErr)
	}
	bound := func(cl *client) bool {
		f := cl.cfg.Federated
		return f != nil && f.Trust == policy.name && f.Subject == t.sub
	}
	var cl *client
	if c.id != "" {
		cl = is.lookupClient(c.id)
		if cl == nil {
			return nil, invalidClient("unknown client %q", c.id)
		}
		if !bound(cl) {
			if f := cl.cfg.Federated; f != nil {
				return nil, invalidClient("client_assertion subject %q from trust policy %q is not bound to client %q (it expects subject %q from trust policy %q)", t.sub, policy.name, c.id, f.Subject, f.Trust)
			}
			return nil, invalidClient("client %q does not accept federated client assertions", c.id)
		}
	} else {
		is.mu.Lock()
		ids := make([]string, 0, len(is.clients))
		for id := range is.clients {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, id := range ids {
			if bound(is.clients[id]) {
				cl = is.clients[id]
				break
			}
		}
		is.mu.Unlock()
		if cl == nil {
			return nil, invalidClient("no client is bound to subject %q from trust policy %q", t.sub, policy.name)
		}
	}
	if !cl.allowsMethod(AuthFederated) {
		return nil, invalidClient("client %q may not use federated client assertions (allowed: %v)", cl.cfg.ID, cl.methods)
	}
	return &authedClient{client: cl, method: AuthFederated}, nil
}

func (is *issuer) authenticatePrivateKeyJWT(ctx context.Context, c clientCreds, t *parsedJWT, cl *client) (*authedClient, error) {
	rec := recordFrom(ctx)
	fail := func(ce *checkError) (*authedClient, error) {
		rec.setCheck(ce)
		return nil, invalidClient("client_assertion: %s", ce.Detail)
	}
	if t.sub != t.iss {
		return fail(&checkError{Check: checkSubject, Detail: fmt.Sprintf("private_key_jwt: iss %q and sub %q must both be the client_id", t.iss, t.sub)})
	}
	if c.id != "" && c.id != t.iss {
		return fail(&checkError{Check: checkSubject, Detail: fmt.Sprintf("client_id %q does not match the assertion's iss %q", c.id, t.iss)})
	}
	if !cl.allowsMethod(AuthPrivateKeyJWT) {
		return nil, invalidClient("client %q may not use private_key_jwt (allowed: %v)", cl.cfg.ID, cl.methods)
	}
	if ce := is.verifyClientSigned(ctx, t, cl, "private_key_jwt"); ce != nil {
		return fail(ce)
	}
	return &authedClient{client: cl, method: AuthPrivateKeyJWT}, nil
}

// verifyClientSigned checks a JWT a client signed itself with its
// registered key (a private_key_jwt client assertion, or a self-signed
// jwt-bearer assertion): iss = sub = the client ID, signature, exp, aud
// (the issuer or one of its endpoints) and a jti not seen before. what
// names the use in messages.
func (is *issuer) verifyClientSigned(ctx context.Context, t *parsedJWT, cl *client, what string) *checkError {
	if t.sub != t.iss {
		return &checkError{Check: checkSubject, Detail: fmt.Sprintf("%s: iss %q and sub %q must both be the client_id", what, t.iss, t.sub)}
	}
	src := &staticKeys{set: cl.keys, desc: fmt.Sprintf("the registered keys of client %q", cl.cfg.ID)}
	if err := verifySignature(ctx, t, src); err != nil {
		var ce *checkError
		errors.As(err, &ce)
		return ce
	}
	now := is.now()
	if err := checkTimes(t, now, 0, 0); err != nil {
		var ce *checkError
		errors.As(err, &ce)
		return ce
	}
	if !slices.ContainsFunc(t.aud, func(a string) bool { return a == is.url || strings.HasPrefix(a, is.url+"/") }) {
		return &checkError{Check: checkAudience, Detail: fmt.Sprintf("audience %v must contain the issuer %q or its token endpoint", t.aud, is.url)}
	}
	if t.jti != "" {
		is.mu.Lock()
		for j, exp := range is.usedJTI {
			if now.After(exp) {
				delete(is.usedJTI, j)
			}
		}
		_, used := is.usedJTI[t.jti]
		if !used {
			is.usedJTI[t.jti] = t.exp
		}
		is.mu.Unlock()
		if used {
			return &checkError{Check: checkReplay, Detail: fmt.Sprintf("jti %q was already used", t.jti)}
		}
	}
	return nil
}

// optionalClient authenticates the client of a jwt-bearer request, where
// client authentication is optional (RFC 7523 section 3.1). It returns nil
// when the request carries no client at all.
func (is *issuer) optionalClient(ctx context.Context, header http.Header, form url.Values) (*authedClient, error) {
	c, err := credsFromRequest(header, form)
	if err != nil {
		return nil, err
	}
	if !c.present() {
		return nil, nil
	}
	return is.authenticate(ctx, c)
}
