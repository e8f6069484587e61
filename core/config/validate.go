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
	if slices.Contains(p.AuthFlow.Info().Uses, "tokenExchange") && p.TokenExchange.SubjectTokenType == "" {
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

	flow := p.AuthFlow.Info()
	if flow.Subject && p.SubjectTokenSource == nil && flowOK && sourceOK {
		d.fail(at("subjectTokenSource"), "required when authFlow is %s; e.g. {\"type\": \"kubernetes_sa\"}", p.AuthFlow)
	}
	if p.ActorTokenSource != nil && !slices.Contains(flow.Uses, "actorTokenSource") {
		d.warn(at("actorTokenSource"), "ignored: only authFlow %s sends an actor token", strings.Join(grant.UsedBy("actorTokenSource"), ", "))
	}
	if te := p.TokenExchange; (te.SubjectTokenType != "" || te.ActorTokenType != "" || te.RequestedTokenType != "" || len(te.Resource) > 0) &&
		!slices.Contains(flow.Uses, "tokenExchange") {
		d.warn(at("tokenExchange"), "ignored: only authFlow %s uses it", strings.Join(grant.UsedBy("tokenExchange"), ", "))
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
	if field := p.AuthFlow.Info().Endpoint; field != "" && p.Issuer == "" && flowOK && issuerOK {
		set := map[string]string{"authorizationEndpoint": p.AuthorizationEndpoint, "deviceAuthorizationEndpoint": p.DeviceAuthorizationEndpoint}
		if set[field] == "" {
			d.fail(at(field), "required when authFlow is %s and issuer is not set", p.AuthFlow)
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
		if p.SubjectTokenSource == nil && !p.AuthFlow.Info().Subject {
			d.fail(at("subjectTokenSource"), "required when %s is federated (the platform JWT is sent as client_assertion)", method)
		}
	}
	if p.ClientAuth.Method != oauth.AuthPrivateKeyJWT && (p.ClientAuth.PrivateKeyFile != "" || p.ClientAuth.KeyID != "") {
		d.warn(at("clientAuth"), "privateKeyFile and keyId are ignored unless method is private_key_jwt")
	}
	if p.AuthFlow.Info().NeedsClientAuth && p.ClientAuth.Method == oauth.AuthAuto && !hasSecret {
		d.fail(at("clientSecret"), "required when authFlow is %s (or set clientSecretFile or clientSecretEnv, or %s private_key_jwt or federated)", p.AuthFlow, method)
	}
	if p.AuthFlow.Info().NeedsClientAuth && p.ClientAuth.Method == oauth.AuthNone {
		d.fail(method, "none cannot be used with authFlow %s; the client must authenticate", p.AuthFlow)
	}
}

// commonParams are form parameters fedtoken sets itself in every flow,
// mapped to the field that controls them. Each flow adds its own
// (grant.Flow Sets and Owns).
var commonParams = map[string]string{
	"grant_type":            "authFlow",
	"client_id":             "clientId",
	"client_secret":         "clientSecret",
	"client_assertion":      "clientAuth",
	"client_assertion_type": "clientAuth",
	"scope":                 "scopes",
}

// reservedParam reports whether extraParams may not set k under flow, and
// the field that controls it. A parameter some flow sets is reserved in
// every flow; one a flow owns (token_exchange's audience) only in that flow.
func reservedParam(flow Flow, k string) (field string, reserved bool) {
	if field, ok := commonParams[k]; ok {
		return field, true
	}
	own := flow.Info()
	if field, ok := own.Sets[k]; ok {
		return field, true
	}
	if field, ok := own.Owns[k]; ok {
		return field, true
	}
	for _, f := range grant.Flows {
		if field, ok := f.Sets[k]; ok {
			return field, true
		}
	}
	return "", false
}

func checkExtraParams(d *decoder, p *Provider, at pathFunc) {
	for _, k := range slices.Sorted(maps.Keys(p.ExtraParams)) {
		field, reserved := reservedParam(p.AuthFlow, k)
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
