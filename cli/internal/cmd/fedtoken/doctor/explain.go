package doctor

import (
	"errors"
	"net"
	"strconv"
	"strings"
	"syscall"

	"github.com/fedtoken/fedtoken/core/config"
	"github.com/fedtoken/fedtoken/core/grant"
	"github.com/fedtoken/fedtoken/core/oauth"
)

// hint is a known IdP answer and what to do about it.
type hint struct {
	code string   // the OAuth error code
	any  []string // lowercase fragments of the description; one must match
	fix  string
}

// hints are tried in order; the first match wins. They add to the grant
// package's hints (grant.Hint) what an error description tells apart —
// answers of Dex, Keycloak and zitadel/mockidp — naming the setting to
// change.
var hints = []hint{
	{code: "request_not_supported", any: []string{"subject_token_type"},
		fix: "Dex accepts only id_token and access_token subject tokens: set tokenExchange.subjectTokenType: urn:ietf:params:oauth:token-type:id_token"},
	{code: "invalid_client", any: []string{"reuse"},
		fix: "the IdP refuses a token it has seen before: allow assertion reuse (a projected token is presented many times before the kubelet rotates it)"},
	{code: "invalid_grant", any: []string{"user not found"},
		fix: "Keycloak: link the token's sub to a user through the identity provider (a federated identity link)"},
	{code: "invalid_grant", any: []string{"too far in the past", "too old", "max age", "maximum age"},
		fix: "the token is older than the IdP accepts (Keycloak: jwtAuthorizationGrantMaxAllowedAssertionExpiration, default 300 s): raise it to the projected token's expirationSeconds"},
	{code: "invalid_grant", any: []string{"audience"},
		fix: "the token's aud is not one the IdP accepts: set the projected volume's audience (or subjectTokenSource.audience) to the IdP's issuer"},
	{code: "invalid_grant", any: []string{"no identity provider", "unknown issuer", "not trusted", "untrusted"},
		fix: "register the token's issuer at the IdP (Keycloak: an identity provider whose issuer is the token's iss; mockidp: a trust policy)"},
	{code: "invalid_grant", any: []string{"reuse", "replay", "already used"},
		fix: "the IdP refuses a token it has seen before: allow assertion reuse (Keycloak: jwtAuthorizationGrantAssertionReuseAllowed)"},
	{code: "invalid_grant", any: []string{"signature", "jwks", "kid"},
		fix: "the IdP cannot verify the token's signature: check the JWKS it fetches for the token's issuer (Kubernetes: /openid/v1/jwks must be reachable, anonymously)"},
	{code: "invalid_grant", any: []string{"subject"},
		fix: "the token's sub is not allowed for this client by the IdP's policy: check the allowed subjects"},
}

// explain returns the IdP's answer (without the grant's hint, which
// becomes the fix) and what to do about it.
func explain(err error, p config.Provider) (msg, fix string) {
	var oe *oauth.Error
	if !errors.As(err, &oe) {
		return err.Error(), networkFix(err, "the IdP's URL")
	}
	msg = string(p.AuthFlow) + ": " + oe.Error()
	desc := strings.ToLower(oe.Description)
	for _, h := range hints {
		if h.code == oe.Code && containsAny(desc, h.any) {
			return msg, h.fix
		}
	}
	if h := grant.Hint(err); h != "" {
		return msg, h
	}
	if oe.Retryable() {
		return msg, "the IdP is failing (HTTP " + strconv.Itoa(oe.StatusCode) + "): try again later, or check its logs"
	}
	return msg, "read the IdP's description; run with -v for more detail"
}

// networkFix says what to check when an endpoint cannot be reached.
func networkFix(err error, what string) string {
	var dns *net.DNSError
	switch tlsFailure := oauth.ClassifyTLS(err); {
	case tlsFailure != oauth.NoTLSFailure:
		return tlsFailure.Fix()
	case errors.As(err, &dns):
		return "the host name does not resolve: check " + what
	case errors.Is(err, syscall.ECONNREFUSED):
		return "nothing listens there: check " + what + " and that the IdP is running"
	}
	return "check " + what + " and that it is reachable from here (proxies: HTTPS_PROXY, NO_PROXY)"
}

func containsAny(s string, parts []string) bool {
	for _, p := range parts {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}
