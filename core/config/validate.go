package config

import (
	"maps"
	"net/url"
	"slices"
	"strings"

	"github.com/fedtoken/fedtoken/core/grant"
	"github.com/fedtoken/fedtoken/core/oauth"
)

// pathFunc gives the JSON path of a provider field (e.g. "issuer" →
// "provider.miaou.options.oauth2.issuer"; "baseURL" →
// "provider.miaou.options.baseURL").
type pathFunc func(field string) string

// finish applies the defaults that depend on other fields and checks the
// rules that span fields: what each flow and client authentication method
// needs, URL schemes, reserved form parameters.
func finish(d *decoder, p *Provider, at pathFunc) {
	if p.Name == "" {
		p.Name = p.ID
	}
	if p.ClientAuth.OmitClientID == nil {
		p.ClientAuth.OmitClientID = new(p.ClientAuth.Method == oauth.AuthFederated)
	}
	if p.AuthFlow == FlowTokenExchange && p.TokenExchange.SubjectTokenType == "" {
		p.TokenExchange.SubjectTokenType = grant.TokenTypeJWT
	}
	if p.ActorTokenSource != nil && p.TokenExchange.ActorTokenType == "" {
		p.TokenExchange.ActorTokenType = grant.TokenTypeJWT
	}

	// A field whose value was rejected is unknown, not missing; the rules
	// that depend on it are skipped rather than reported twice.
	flowOK := !d.hasErr(at("authFlow"))
	sourceOK := !d.hasErr(at("subjectTokenSource"))

	checkEndpoints(d, p, at, flowOK)
	if p.ClientID == "" && !d.hasErr(at("clientId")) {
		d.fail(at("clientId"), "required")
	}
	if flowOK && sourceOK && !d.hasErr(at("clientAuth")+".method") {
		checkCredentials(d, p, at)
	}

	switch p.AuthFlow {
	case FlowJWTBearer, FlowTokenExchange:
		if p.SubjectTokenSource == nil && flowOK && sourceOK {
			d.fail(at("subjectTokenSource"), "required when authFlow is %s; e.g. {\"type\": \"kubernetes_sa\"}", p.AuthFlow)
		}
	}
	if p.AuthFlow != FlowTokenExchange {
		if p.ActorTokenSource != nil {
			d.warn(at("actorTokenSource"), "ignored: only authFlow token_exchange sends an actor token")
		}
		if te := p.TokenExchange; te.SubjectTokenType != "" || te.ActorTokenType != "" || te.RequestedTokenType != "" || len(te.Resource) > 0 {
			d.warn(at("tokenExchange"), "ignored: only authFlow token_exchange uses it")
		}
	}
	checkExtraParams(d, p, at)
}

// checkEndpoints checks that the flow can find its endpoints and that every
// URL is absolute and https (or loopback, or allowInsecureHTTP).
func checkEndpoints(d *decoder, p *Provider, at pathFunc, flowOK bool) {
	issuerOK := !d.hasErr(at("issuer"))
	if p.Issuer == "" && p.TokenEndpoint == "" && issuerOK && !d.hasErr(at("tokenEndpoint")) {
		d.fail(at("issuer"), "required (or set tokenEndpoint)")
	}
	if p.Issuer == "" && flowOK && issuerOK {
		switch {
		case p.AuthFlow == FlowAuthorizationCode && p.AuthorizationEndpoint == "":
			d.fail(at("authorizationEndpoint"), "required when authFlow is authorization_code and issuer is not set")
		case p.AuthFlow == FlowDeviceCode && p.DeviceAuthorizationEndpoint == "":
			d.fail(at("deviceAuthorizationEndpoint"), "required when authFlow is device_code and issuer is not set")
		}
	}
	insecure := at("allowInsecureHTTP")
	checkURL(d, at("issuer"), p.Issuer, p.AllowInsecureHTTP, insecure, true)
	checkURL(d, at("tokenEndpoint"), p.TokenEndpoint, p.AllowInsecureHTTP, insecure, false)
	checkURL(d, at("authorizationEndpoint"), p.AuthorizationEndpoint, p.AllowInsecureHTTP, insecure, false)
	checkURL(d, at("deviceAuthorizationEndpoint"), p.DeviceAuthorizationEndpoint, p.AllowInsecureHTTP, insecure, false)
	checkURL(d, at("jwksUri"), p.JWKSURI, p.AllowInsecureHTTP, insecure, false)
	checkURL(d, at("baseURL"), p.BaseURL, p.AllowInsecureHTTP, insecure, false)
}

// checkCredentials checks the client secret sources against the client
// authentication method and the flow.
func checkCredentials(d *decoder, p *Provider, at pathFunc) {
	var set []string
	for _, f := range []struct {
		name string
		on   bool
	}{{"clientSecret", p.ClientSecret != ""}, {"clientSecretFile", p.ClientSecretFile != ""}, {"clientSecretEnv", p.ClientSecretEnv != ""}} {
		if f.on {
			set = append(set, f.name)
		}
	}
	if len(set) > 1 {
		d.fail(at(set[1]), "set only one of %s", strings.Join(set, ", "))
	}
	hasSecret := len(set) > 0
	method := at("clientAuth") + ".method"

	switch p.ClientAuth.Method {
	case oauth.AuthClientSecretBasic, oauth.AuthClientSecretPost:
		if !hasSecret {
			d.fail(at("clientSecret"), "required when %s is %s (or set clientSecretFile or clientSecretEnv)", method, p.ClientAuth.Method)
		}
	case oauth.AuthNone:
		if hasSecret {
			d.fail(at(set[0]), "must not be set when %s is none", method)
		}
	case oauth.AuthPrivateKeyJWT:
		if p.ClientAuth.PrivateKeyFile == "" {
			d.fail(at("clientAuth")+".privateKeyFile", "required when %s is private_key_jwt", method)
		}
	case oauth.AuthFederated:
		if p.SubjectTokenSource == nil && p.AuthFlow != FlowJWTBearer && p.AuthFlow != FlowTokenExchange {
			d.fail(at("subjectTokenSource"), "required when %s is federated (the platform JWT is sent as client_assertion)", method)
		}
	}
	if p.ClientAuth.Method != oauth.AuthPrivateKeyJWT && (p.ClientAuth.PrivateKeyFile != "" || p.ClientAuth.KeyID != "") {
		d.warn(at("clientAuth"), "privateKeyFile and keyId are ignored unless method is private_key_jwt")
	}
	if p.AuthFlow == FlowClientCredentials && p.ClientAuth.Method == oauth.AuthAuto && !hasSecret {
		d.fail(at("clientSecret"), "required when authFlow is client_credentials (or set clientSecretFile or clientSecretEnv, or %s private_key_jwt or federated)", method)
	}
	if p.AuthFlow == FlowClientCredentials && p.ClientAuth.Method == oauth.AuthNone {
		d.fail(method, "none cannot be used with authFlow client_credentials; the client must authenticate")
	}
}

// reservedParams are form parameters fedtoken sets itself, mapped to the
// field that controls them.
var reservedParams = map[string]string{
	"grant_type":            "authFlow",
	"client_id":             "clientId",
	"client_secret":         "clientSecret",
	"client_assertion":      "clientAuth",
	"client_assertion_type": "clientAuth",
	"scope":                 "scopes",
	"assertion":             "subjectTokenSource",
	"subject_token":         "subjectTokenSource",
	"actor_token":           "actorTokenSource",
	"code":                  "",
	"code_verifier":         "pkce",
	"redirect_uri":          "redirectPort",
	"refresh_token":         "",
	"device_code":           "",
}

// exchangeParams are reserved only for token_exchange, where they come
// from the tokenExchange section; other flows may send them (e.g. Auth0's
// audience on client_credentials).
var exchangeParams = map[string]string{
	"audience":             "tokenExchange.audience",
	"resource":             "tokenExchange.resource",
	"requested_token_type": "tokenExchange.requestedTokenType",
	"subject_token_type":   "tokenExchange.subjectTokenType",
	"actor_token_type":     "tokenExchange.actorTokenType",
}

func checkExtraParams(d *decoder, p *Provider, at pathFunc) {
	for _, k := range slices.Sorted(maps.Keys(p.ExtraParams)) {
		field, reserved := reservedParams[k]
		if !reserved && p.AuthFlow == FlowTokenExchange {
			field, reserved = exchangeParams[k]
		}
		if !reserved {
			continue
		}
		msg := "is set by fedtoken and cannot be overridden"
		if field != "" {
			msg += "; use " + field
		}
		d.fail(joinPath(at("extraParams"), k), "%s", msg)
	}
}

// checkURL checks one URL field. Values are shown without userinfo, query
// or fragment.
func checkURL(d *decoder, path, raw string, allowInsecure bool, insecurePath string, isIssuer bool) {
	if raw == "" {
		return
	}
	u, err := url.Parse(raw)
	if err != nil {
		d.fail(path, "not a valid URL")
		return
	}
	if u.Scheme == "" || u.Opaque != "" {
		d.fail(path, "must be an absolute https:// URL")
		return
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		d.fail(path, "scheme %s is not allowed; use https", quote(u.Scheme))
		return
	}
	if u.Host == "" || u.Hostname() == "" {
		d.fail(path, "has no host")
		return
	}
	if u.User != nil {
		d.fail(path, "must not contain credentials (user:password@); use clientId and clientSecret")
		return
	}
	if isIssuer && (u.RawQuery != "" || u.Fragment != "" || strings.Contains(raw, "#")) {
		d.fail(path, "an issuer must not have a query or fragment")
		return
	}
	if u.Scheme == "http" && !allowInsecure && !isLoopback(u.Hostname()) {
		d.fail(path, "http:// is refused for %s (not loopback); use https, or set %s: true", safeURL(u), insecurePath)
	}
}

// isLoopback is the run-time rule (oauth.IsLoopbackHost), so that what
// `config validate` accepts is what the provider accepts.
func isLoopback(host string) bool { return oauth.IsLoopbackHost(host) }

// safeURL prints u without userinfo, query or fragment.
func safeURL(u *url.URL) string {
	c := *u
	c.User, c.RawQuery, c.Fragment, c.RawFragment, c.ForceQuery = nil, "", "", "", false
	return c.String()
}

// isAbsoluteURI reports whether s has a scheme (urn:…, https://…).
func isAbsoluteURI(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme != "" && (u.Opaque != "" || u.Host != "" || u.Path != "")
}
