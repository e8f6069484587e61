// Package keycloak runs Keycloak (the Quarkus distribution, start-dev) for
// the e2e suites and configures it through the admin REST API. The realm
// representations here are exactly what the suites apply; docs/idp/keycloak.md
// shows them (testdata/*.golden.json, kept in sync by `go test -update`).
package keycloak

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Params are the values a realm configuration depends on.
type Params struct {
	// Issuer is the Kubernetes service-account issuer (https URL), equal
	// to the tokens' "iss" and served with anonymous discovery and JWKS.
	Issuer string
	// Namespace and ServiceAccount name the workload; its tokens' "sub" is
	// system:serviceaccount:<Namespace>:<ServiceAccount>.
	Namespace, ServiceAccount string
	// ClientSecret is the jwt_bearer realm's confidential client's secret.
	ClientSecret string
}

// Subject is the "sub" of the workload's service-account tokens.
func (p Params) Subject() string {
	return "system:serviceaccount:" + p.Namespace + ":" + p.ServiceAccount
}

// Names used by both realms and by the suites.
const (
	// FederatedRealm: client_credentials with the projected token as a
	// federated client assertion (Keycloak 26.6+: "Signed JWT - Federated").
	FederatedRealm    = "fedtoken"
	FederatedIdP      = "kubernetes"
	FederatedClientID = "ai-jobs-runner"

	// JWTGrantRealm: RFC 7523 jwt-bearer with the projected token as the
	// authorization grant. Issuers must be unique per realm, hence a second realm.
	JWTGrantRealm    = "fedtoken-jag"
	JWTGrantIdP      = "kubernetes-jag"
	JWTGrantClientID = "ai-jobs-bot"
	JWTGrantUser     = "workload"

	// AccessTokenLifespan is short so the sidecar refreshes several times
	// within a test (it refreshes 30 s before expiry by default).
	AccessTokenLifespan = 60
)

// FederatedRealmRepresentation is the realm for federated client
// authentication: a Kubernetes identity provider trusting Issuer, and a
// confidential client authenticated by "federated-jwt" whose expected
// credential is the service account's token from that provider. Tokens
// must carry aud = the realm's issuer URL (exactly one audience), and the
// request must not send a client_id (or send one equal to the token's sub).
func FederatedRealmRepresentation(p Params) map[string]any {
	return map[string]any{
		"realm":               FederatedRealm,
		"enabled":             true,
		"sslRequired":         "none",
		"accessTokenLifespan": AccessTokenLifespan,
		"identityProviders":   []any{kubernetesIdP(FederatedIdP, p.Issuer)},
		"clients": []any{map[string]any{
			"clientId":                  FederatedClientID,
			"enabled":                   true,
			"publicClient":              false,
			"serviceAccountsEnabled":    true,
			"standardFlowEnabled":       false,
			"directAccessGrantsEnabled": false,
			"clientAuthenticatorType":   "federated-jwt",
			"attributes": map[string]any{
				"jwt.credential.issuer": FederatedIdP,
				"jwt.credential.sub":    p.Subject(),
			},
		}},
	}
}

// JWTGrantRealmRepresentation is the realm for the RFC 7523 JWT
// Authorization Grant: a "jwt-authorization-grant" identity provider trusting
// Issuer's JWKS, a confidential client allowed to use it, and a user linked
// to the service account (Keycloak maps the assertion's sub to a linked
// user; it does not create one). Assertions may be reused and be up to an
// hour old, since the kubelet hands out the same token for ~80% of its TTL.
func JWTGrantRealmRepresentation(p Params) map[string]any {
	return map[string]any{
		"realm":               JWTGrantRealm,
		"enabled":             true,
		"sslRequired":         "none",
		"accessTokenLifespan": AccessTokenLifespan,
		"identityProviders":   []any{jwtGrantIdP(JWTGrantIdP, p.Issuer)},
		"clients": []any{map[string]any{
			"clientId":                  JWTGrantClientID,
			"enabled":                   true,
			"publicClient":              false,
			"secret":                    p.ClientSecret,
			"clientAuthenticatorType":   "client-secret",
			"serviceAccountsEnabled":    false,
			"standardFlowEnabled":       false,
			"directAccessGrantsEnabled": false,
			"attributes": map[string]any{
				"oauth2.jwt.authorization.grant.enabled": "true",
				"oauth2.jwt.authorization.grant.idp":     JWTGrantIdP,
			},
		}},
		"users": []any{LinkedUser(JWTGrantUser, p.Subject())},
	}
}

// Render formats a realm representation as indented JSON, the form the docs
// quote (no HTML escaping, sorted keys).
func Render(rep map[string]any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		return nil, fmt.Errorf("keycloak: render realm: %w", err)
	}
	return buf.Bytes(), nil
}

// LinkedUser is a user of the JWT-grant realm linked to a service account's
// subject: Keycloak maps a jwt-bearer assertion to the user linked to its
// sub, so every workload identity that uses the grant needs one.
func LinkedUser(username, subject string) map[string]any {
	return map[string]any{
		"username":      username,
		"enabled":       true,
		"email":         username + "@example.com",
		"emailVerified": true,
		"firstName":     username,
		"lastName":      "Service Account",
		"federatedIdentities": []any{map[string]any{
			"identityProvider": JWTGrantIdP,
			"userId":           subject,
			"userName":         subject,
		}},
	}
}

// RealmIssuer is the issuer URL of a realm served at baseURL.
func RealmIssuer(baseURL, realm string) string { return baseURL + "/realms/" + realm }

// TokenEndpoint is a realm's token endpoint.
func TokenEndpoint(baseURL, realm string) string {
	return RealmIssuer(baseURL, realm) + "/protocol/openid-connect/token"
}

// kubernetesIdP is an identity provider that verifies the cluster's
// service-account tokens as federated client assertions.
func kubernetesIdP(alias, issuer string) map[string]any {
	return map[string]any{
		"alias":      alias,
		"providerId": "kubernetes",
		"enabled":    true,
		"config":     map[string]any{"issuer": issuer},
	}
}

// jwtGrantIdP is an identity provider that accepts the cluster's
// service-account tokens as RFC 7523 authorization grants (keys from the
// issuer's JWKS).
func jwtGrantIdP(alias, issuer string) map[string]any {
	return map[string]any{
		"alias":      alias,
		"providerId": "jwt-authorization-grant",
		"enabled":    true,
		"config": map[string]any{
			"issuer":                       issuer,
			"useJwksUrl":                   "true",
			"jwksUrl":                      issuer + "/openid/v1/jwks",
			"jwtAuthorizationGrantEnabled": "true",
			"jwtAuthorizationGrantAssertionReuseAllowed":         "true",
			"jwtAuthorizationGrantMaxAllowedAssertionExpiration": "3600",
		},
	}
}
