// Package discovery finds an issuer's endpoints: OpenID Connect Discovery
// 1.0 (<issuer>/.well-known/openid-configuration) first, then RFC 8414
// authorization-server metadata, with results cached per issuer.
package discovery

// Metadata is the subset of OpenID provider / RFC 8414 authorization
// server metadata that fedtoken uses.
type Metadata struct {
	Issuer                            string   `json:"issuer"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	DeviceAuthorizationEndpoint       string   `json:"device_authorization_endpoint"`
	JWKSURI                           string   `json:"jwks_uri"`
	UserinfoEndpoint                  string   `json:"userinfo_endpoint"`
	RevocationEndpoint                string   `json:"revocation_endpoint"`
	IntrospectionEndpoint             string   `json:"introspection_endpoint"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported"`

	// URL is the well-known document the metadata was read from.
	URL string `json:"-"`
}
