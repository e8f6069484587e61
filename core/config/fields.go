package config

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fedtoken/fedtoken/core/cache"
	"github.com/fedtoken/fedtoken/core/grant"
	"github.com/fedtoken/fedtoken/core/oauth"
	"github.com/fedtoken/fedtoken/core/subject"
)

// Field names shared by both shapes.
var (
	// upstreamFields are read from options.oauth2 and servers[] by upstream.
	upstreamFields = []string{
		"issuer", "clientId", "clientSecret", "scopes", "authorizationEndpoint",
		"tokenEndpoint", "deviceAuthorizationEndpoint", "redirectPort",
		"authFlow", "pkce", "subjectTokenSource", "tokenExchangeAudience",
		"syncIntervalMinutes", "nameOverrides", "responseApi",
	}
	// upstreamIgnored are upstream fields fedtoken reads but does not act
	// on; each one present is reported (see unusedUpstream).
	upstreamIgnored = []string{"jwksUri"}
	// extensionFields are fedtoken's additions, accepted in both shapes.
	extensionFields = []string{
		"clientSecretFile", "clientSecretEnv", "clientAuth", "tokenExchange",
		"actorTokenSource", "extraParams", "caFile", "allowInsecureHTTP",
		"httpTimeout", "httpTimeoutMs", "tokenExpirySkew", "tokenExpirySkewMs",
		"redirectPath", "assertion",
	}
	// identityFields are id, name and baseURL, written inside the provider
	// object by servers[] entries and native providers.
	identityFields = []string{"id", "name", "baseURL"}

	flows        = grant.FlowNames(nil)
	sourceTypes  = []string{subject.TypeKubernetesSA, subject.TypeFile, subject.TypeEnv, subject.TypeGitHubActions, subject.TypeExec}
	authMethods  = []string{"auto", string(oauth.AuthClientSecretBasic), string(oauth.AuthClientSecretPost), string(oauth.AuthNone), string(oauth.AuthPrivateKeyJWT), string(oauth.AuthFederated)}
	sourceFields = []string{"type", "tokenPath", "path", "var", "audience", "command", "timeout", "timeoutMs"}
)

// Ranges of the duration fields.
const (
	maxHTTPTimeout = 10 * time.Minute
	maxSkew        = time.Hour
	maxExecTimeout = 10 * time.Minute
	// maxSyncIntervalMinutes is a week: beyond it a sync is as good as never.
	maxSyncIntervalMinutes = 7 * 24 * 60
)

// timing holds the two per-provider durations; file-wide values in the
// same spelling are the defaults of each provider.
type timing struct {
	httpTimeout, skew time.Duration
}

var defaultTiming = timing{httpTimeout: oauth.DefaultHTTPTimeout, skew: cache.DefaultSkew}

// readTiming reads httpTimeout(Ms) and tokenExpirySkew(Ms) from o, falling
// back to def.
func readTiming(o object, def timing) timing {
	t := def
	if d, ok := o.duration("httpTimeout", "httpTimeoutMs", time.Millisecond, maxHTTPTimeout); ok {
		t.httpTimeout = d
	}
	if d, ok := o.duration("tokenExpirySkew", "tokenExpirySkewMs", 0, maxSkew); ok {
		t.skew = d
	}
	return t
}

// readProvider reads the OAuth fields (everything but id, name and
// baseURL) of o into p and applies the defaults that need no
// cross-field knowledge.
func readProvider(o object, p *Provider, def timing) {
	p.Issuer = o.str("issuer")
	p.ClientID = o.str("clientId")
	p.ClientSecret = oauth.Secret(o.rawStr("clientSecret"))
	p.ClientSecretFile = o.str("clientSecretFile")
	p.ClientSecretEnv = o.str("clientSecretEnv")
	p.Scopes = o.strList("scopes", true)

	p.AuthFlow = FlowAuthorizationCode
	if o.has("authFlow") {
		if f := o.str("authFlow"); f != "" && o.oneOf("authFlow", f, flows) {
			p.AuthFlow = Flow(f)
		}
	}

	p.ClientAuth = readClientAuth(o)
	p.Assertion = readAssertion(o, p.AuthFlow)
	p.SubjectTokenSource = readSource(o, "subjectTokenSource")
	p.ActorTokenSource = readSource(o, "actorTokenSource")
	p.TokenExchange = readTokenExchange(o)
	p.ExtraParams = o.stringMap("extraParams")

	p.TokenEndpoint = o.str("tokenEndpoint")
	p.AuthorizationEndpoint = o.str("authorizationEndpoint")
	p.DeviceAuthorizationEndpoint = o.str("deviceAuthorizationEndpoint")
	p.JWKSURI = o.str("jwksUri")
	if o.has("jwksUri") {
		o.d.warn(o.at("jwksUri"), "accepted from the plugin but not used: fedtoken verifies no ID token")
	}

	p.PKCE = o.boolPtr("pkce")
	if p.PKCE == nil {
		p.PKCE = new(true)
	}
	if n, ok := o.integer("redirectPort", 1, 65535); ok {
		p.RedirectPort = int(n)
	}
	if rp := o.str("redirectPath"); rp != "" {
		if !strings.HasPrefix(rp, "/") || strings.ContainsAny(rp, "?# ") {
			o.d.fail(o.at("redirectPath"), "%s is not a path: start it with / and leave out query, fragment and spaces", quote(rp))
		} else {
			p.RedirectPath = rp
		}
	}
	if m, ok := o.number("syncIntervalMinutes"); ok {
		// Upstream falls back to its default for a value that is not
		// positive; fedtoken says so instead of guessing.
		if m <= 0 || m > maxSyncIntervalMinutes {
			o.d.fail(o.at("syncIntervalMinutes"), "must be more than 0 and at most %d (a week), got %v", maxSyncIntervalMinutes, m)
		} else {
			p.SyncInterval = time.Duration(m * float64(time.Minute))
		}
	}
	p.NameOverrides = o.stringMap("nameOverrides")
	if b := o.boolPtr("responseApi"); b != nil {
		p.ResponseAPI = *b
	}
	p.CAFile = o.str("caFile")
	if b := o.boolPtr("allowInsecureHTTP"); b != nil {
		p.AllowInsecureHTTP = *b
	}

	t := readTiming(o, def)
	p.HTTPTimeout, p.TokenExpirySkew = t.httpTimeout, t.skew
}

func readClientAuth(o object) ClientAuth {
	c, ok := o.child("clientAuth")
	if !ok {
		return ClientAuth{}
	}
	var a ClientAuth
	if c.has("method") {
		if m := c.str("method"); m != "" && c.oneOf("method", m, authMethods) && m != "auto" {
			a.Method = oauth.AuthMethod(m)
		}
	}
	a.PrivateKeyFile = c.str("privateKeyFile")
	a.KeyID = c.str("keyId")
	a.OmitClientID = c.boolPtr("omitClientId")
	c.warnUnknown([]string{"method", "privateKeyFile", "keyId", "omitClientId"})
	return a
}

// readAssertion reads the signing key of authFlow jwt_bearer_key.
func readAssertion(o object, flow Flow) Assertion {
	var a Assertion
	c, ok := o.child("assertion")
	if ok {
		a = Assertion{PrivateKeyFile: c.str("privateKeyFile"), KeyID: c.str("keyId"), Audience: c.str("audience")}
		c.warnUnknown([]string{"privateKeyFile", "keyId", "audience"})
	}
	used := slices.Contains(flow.Info().Uses, "assertion")
	switch {
	case used && a.PrivateKeyFile == "" && !o.d.hasErr(o.at("assertion")) && !o.d.hasErr(o.at("authFlow")):
		o.d.fail(o.at("assertion")+".privateKeyFile", "required when authFlow is %s (the PEM private key that signs the assertion; its public key is registered for clientId at the IdP)", flow)
	case !used && o.has("assertion"):
		o.d.warn(o.at("assertion"), "ignored: only authFlow %s uses it", strings.Join(grant.UsedBy("assertion"), ", "))
	}
	return a
}

// readSource reads a subject or actor token source.
func readSource(o object, key string) *SubjectSource {
	c, ok := o.child(key)
	if !ok {
		return nil
	}
	s := &SubjectSource{Type: c.str("type")}
	tokenPath, path, env, aud := c.str("tokenPath"), c.str("path"), c.str("var"), c.str("audience")
	command := readCommand(c)
	timeout, hasTimeout := c.duration("timeout", "timeoutMs", time.Millisecond, maxExecTimeout)

	// used lists the fields the type reads; any other source field present
	// is reported as ignored.
	var used []string
	switch s.Type {
	case "":
		if !c.d.hasErr(c.at("type")) {
			c.d.fail(c.at("type"), "required; one of %s", strings.Join(sourceTypes, ", "))
		}
		return s
	case subject.TypeKubernetesSA:
		used = []string{"tokenPath"}
		s.TokenPath = tokenPath
		if s.TokenPath == "" {
			s.TokenPath = subject.DefaultKubernetesTokenPath
		}
	case subject.TypeFile:
		used = []string{"path"}
		if s.Path = path; path == "" {
			c.d.fail(c.at("path"), "required when type is file")
		}
	case subject.TypeEnv:
		used = []string{"var"}
		switch s.Env = env; {
		case env == "":
			c.d.fail(c.at("var"), "required when type is env (the name of the environment variable)")
		case strings.ContainsAny(env, "= \t"):
			c.d.fail(c.at("var"), "%s is not an environment variable name", quote(env))
		}
	case subject.TypeGitHubActions:
		used = []string{"audience"}
		if s.Audience = aud; aud == "" {
			c.d.fail(c.at("audience"), "required when type is github_actions (the aud your IdP expects)")
		}
	case subject.TypeExec:
		used = []string{"command", "timeout", "timeoutMs"}
		if s.Command = command; !c.has("command") {
			c.d.fail(c.at("command"), "required when type is exec (the program and its arguments, e.g. [\"/bin/get-token\", \"--audience\", \"x\"])")
		}
		s.Timeout = subject.DefaultExecTimeout
		if hasTimeout {
			s.Timeout = timeout
		}
	default:
		c.oneOf("type", s.Type, sourceTypes)
		return s
	}
	for _, k := range sourceFields[1:] {
		if c.has(k) && !slices.Contains(used, k) {
			hint := ""
			if s.Type == subject.TypeKubernetesSA && k == "path" {
				hint = " (did you mean tokenPath?)"
			}
			c.d.warn(c.at(k), "ignored for type %s%s", s.Type, hint)
		}
	}
	c.warnUnknown(sourceFields)
	return s
}

func readTokenExchange(o object) TokenExchange {
	var te TokenExchange
	if aud := o.str("tokenExchangeAudience"); aud != "" {
		te.Audience = []string{aud}
	}
	c, ok := o.child("tokenExchange")
	if !ok {
		return te
	}
	te.SubjectTokenType = tokenType(c, "subjectTokenType")
	te.ActorTokenType = tokenType(c, "actorTokenType")
	te.RequestedTokenType = tokenType(c, "requestedTokenType")
	if c.has("audience") {
		if te.Audience != nil {
			o.d.fail(c.at("audience"), "set only one of tokenExchangeAudience and tokenExchange.audience")
		}
		te.Audience = c.strList("audience", false)
	}
	te.Resource = c.strList("resource", false)
	for i, r := range te.Resource {
		if !isAbsoluteURI(r) {
			p := c.at("resource")
			if v, _ := c.get("resource"); isArray(v) {
				p += "[" + strconv.Itoa(i) + "]"
			}
			o.d.fail(p, "%s is not an absolute URI (RFC 8693 §2.1)", quote(r))
		}
	}
	c.warnUnknown([]string{"subjectTokenType", "actorTokenType", "requestedTokenType", "audience", "resource"})
	return te
}

// tokenTypeAliases are short names for the RFC 8693 §3 token types.
var tokenTypeAliases = []string{"jwt", "id_token", "access_token", "refresh_token", "saml1", "saml2"}

// tokenType reads a token type URI; the short names of tokenTypeAliases
// expand to urn:ietf:params:oauth:token-type:<name>.
func tokenType(o object, key string) string {
	s := o.str(key)
	if s == "" {
		return ""
	}
	if slices.Contains(tokenTypeAliases, s) {
		return "urn:ietf:params:oauth:token-type:" + s
	}
	if !isAbsoluteURI(s) {
		o.d.fail(o.at(key), "%s is not a token type URI; use e.g. %s, or a short name: %s",
			quote(s), grant.TokenTypeJWT, strings.Join(tokenTypeAliases, ", "))
		return ""
	}
	return s
}

// readCommand reads the exec command: an array of strings, never a shell
// string.
func readCommand(c object) []string {
	v, ok := c.get("command")
	if !ok {
		return nil
	}
	arr, isArr := v.([]any)
	if !isArr {
		c.d.fail(c.at("command"), "expected an array of strings (the program and its arguments; no shell), got %s", typeName(v))
		return nil
	}
	if len(arr) == 0 {
		c.d.fail(c.at("command"), "must name a program")
		return nil
	}
	return c.strList("command", false)
}

func isArray(v any) bool {
	_, ok := v.([]any)
	return ok
}
