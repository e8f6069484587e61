package keycloak

// SecretlessParams are the values of a secretless realm: the seed's
// jwt_bearer provider with no client secret anywhere.
type SecretlessParams struct {
	// Realm is the realm's name, e.g. "prod" for the seed's
	// https://auth.example.com/realms/prod.
	Realm string
	// ClientID is the seed's clientId, e.g. "k8s-runner". fedtoken does not
	// send it (Keycloak finds a federated-jwt client by the token's iss and
	// sub), but naming the client alike keeps the config readable.
	ClientID string
	// Issuer is the Kubernetes service-account issuer.
	Issuer string
	// Subject is the workload's "sub":
	// system:serviceaccount:<namespace>:<service account>.
	Subject string
	// Username is the Keycloak user linked to Subject; access tokens name it.
	Username string
}

// Identity-provider aliases of a secretless realm. Keycloak needs one of
// each type for the same cluster issuer: "kubernetes" authenticates the
// client with the projected token (federated client assertion);
// "kubernetes-grant" trusts the same token as the RFC 7523 authorization
// grant.
const (
	SecretlessClientIdP = "kubernetes"
	SecretlessGrantIdP  = "kubernetes-grant"
)

// SecretlessRealmRepresentation is the realm that lets the seed's
// opencode.json work at Keycloak with no secret: one client, authenticated
// by "Signed JWT - Federated" (the projected token is the client
// assertion), allowed the JWT Authorization Grant (the same token is the
// assertion), and a user linked to the service account. fedtoken sends
// grant_type=jwt-bearer, assertion=<token>, client_assertion=<token> and
// no client_id. Tokens must have aud = the realm issuer, exactly one.
func SecretlessRealmRepresentation(p SecretlessParams) map[string]any {
	return map[string]any{
		"realm":               p.Realm,
		"enabled":             true,
		"sslRequired":         "none",
		"accessTokenLifespan": AccessTokenLifespan,
		"identityProviders": []any{
			kubernetesIdP(SecretlessClientIdP, p.Issuer),
			jwtGrantIdP(SecretlessGrantIdP, p.Issuer),
		},
		"clients": []any{map[string]any{
			"clientId":                  p.ClientID,
			"enabled":                   true,
			"publicClient":              false,
			"clientAuthenticatorType":   "federated-jwt",
			"serviceAccountsEnabled":    false,
			"standardFlowEnabled":       false,
			"directAccessGrantsEnabled": false,
			"attributes": map[string]any{
				"jwt.credential.issuer":                  SecretlessClientIdP,
				"jwt.credential.sub":                     p.Subject,
				"oauth2.jwt.authorization.grant.enabled": "true",
				"oauth2.jwt.authorization.grant.idp":     SecretlessGrantIdP,
			},
		}},
		"users": []any{map[string]any{
			"username":      p.Username,
			"enabled":       true,
			"email":         p.Username + "@example.com",
			"emailVerified": true,
			"firstName":     p.Username,
			"lastName":      "Service Account",
			"federatedIdentities": []any{map[string]any{
				"identityProvider": SecretlessGrantIdP,
				"userId":           p.Subject,
				"userName":         p.Subject,
			}},
		}},
	}
}

// SecretlessOAuth2 is the one change the seed's jwt_bearer provider needs
// at Keycloak, applied to its options.oauth2 object: clientAuth method
// federated, so the projected token both authenticates the client
// (client_assertion) and is the grant (assertion). Nothing else changes:
// clientId stays, and there is no secret.
func SecretlessOAuth2(oauth2 map[string]any) {
	oauth2["clientAuth"] = map[string]any{"method": "federated"}
}
