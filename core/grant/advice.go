package grant

import (
	"errors"
	"strings"

	"github.com/fedtoken/fedtoken/core/oauth"
)

// answer is a known IdP answer and what to do about it.
type answer struct {
	code string   // the OAuth error code
	any  []string // lowercase fragments of the description; one must match
	fix  string
}

// answers are tried in order; the first match wins. They add to the
// grants' hints (Hint) what an error description tells apart — answers of
// Dex, Keycloak and zitadel/mockidp — naming the setting to change.
var answers = []answer{
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

// Advice says what to do about a grant's error: the fix for a known IdP
// answer (matched on its error code and description) when the request
// presented a platform JWT (platformJWT: the answers are about such a
// token), else the grant's hint (see Hint), else "". `fedtoken doctor`
// shows it.
func Advice(err error, platformJWT bool) string {
	var oe *oauth.Error
	if !errors.As(err, &oe) {
		return ""
	}
	desc := strings.ToLower(oe.Description)
	for _, a := range answers {
		if platformJWT && a.code == oe.Code && containsAny(desc, a.any) {
			return a.fix
		}
	}
	return Hint(err)
}

func containsAny(s string, parts []string) bool {
	for _, p := range parts {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}
