package mockidp

import "github.com/zitadel/oidc/v3/pkg/oidc"

// Grant types as sent in grant_type.
const (
	GrantAuthorizationCode = string(oidc.GrantTypeCode)
	GrantRefreshToken      = string(oidc.GrantTypeRefreshToken)
	GrantClientCredentials = string(oidc.GrantTypeClientCredentials)
	GrantJWTBearer         = string(oidc.GrantTypeBearer)
	GrantTokenExchange     = string(oidc.GrantTypeTokenExchange)
	GrantDeviceCode        = string(oidc.GrantTypeDeviceCode)
)

// Token types of RFC 8693.
const (
	TokenTypeAccessToken  = string(oidc.AccessTokenType)
	TokenTypeRefreshToken = string(oidc.RefreshTokenType)
	TokenTypeIDToken      = string(oidc.IDTokenType)
	TokenTypeJWT          = string(oidc.JWTTokenType)
)

// grantShortNames maps each grant URN to the short name used in configs,
// counters and the request log.
var grantShortNames = map[string]string{
	GrantAuthorizationCode: "authorization_code",
	GrantRefreshToken:      "refresh_token",
	GrantClientCredentials: "client_credentials",
	GrantJWTBearer:         "jwt_bearer",
	GrantTokenExchange:     "token_exchange",
	GrantDeviceCode:        "device_code",
}

// grantURN returns the grant_type value for a short name or a URN.
func grantURN(name string) (string, bool) {
	if _, ok := grantShortNames[name]; ok {
		return name, true
	}
	for urn, short := range grantShortNames {
		if short == name {
			return urn, true
		}
	}
	return "", false
}

// grantShort returns the short name of a grant_type ("" stays "", unknown
// values are returned unchanged).
func grantShort(grantType string) string {
	if s, ok := grantShortNames[grantType]; ok {
		return s
	}
	return grantType
}
