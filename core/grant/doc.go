// Package grant implements the machine OAuth 2.0 grants as plain structs,
// each an oauth.TokenSource: JWTBearer (RFC 7523 §2.1), TokenExchange
// (RFC 8693), ClientCredentials (RFC 6749 §4.4, with a secret, a signed
// key or a federated platform JWT as client credentials), and Refresh
// (RFC 6749 §6, an oauth.Renewer). [Flows] is the table of every authFlow,
// these and the interactive ones: what each sends and needs, read by
// configuration checks, provider wiring, doctor and messages; its rows
// name every grant of this package.
//
// Every acquisition reads its subject token afresh from its
// subject.Source: projected tokens rotate, so nothing here caches them.
// Caching access tokens is the job of package cache.
//
// Errors say which grant and which step failed, keep the *oauth.Error
// reachable with errors.As, and carry a hint for the rejections whose
// cause is well known (a Dex subject_token_type, a federated client
// assertion Keycloak refused, …).
package grant

// Grant type and token type identifiers.
const (
	GrantTypeJWTBearer         = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	GrantTypeTokenExchange     = "urn:ietf:params:oauth:grant-type:token-exchange"
	GrantTypeClientCredentials = "client_credentials"
	GrantTypeRefreshToken      = "refresh_token"

	TokenTypeJWT          = "urn:ietf:params:oauth:token-type:jwt"
	TokenTypeIDToken      = "urn:ietf:params:oauth:token-type:id_token"
	TokenTypeAccessToken  = "urn:ietf:params:oauth:token-type:access_token"
	TokenTypeRefreshToken = "urn:ietf:params:oauth:token-type:refresh_token"
)

// Names of the grants in errors, as in configuration (authFlow).
const (
	nameJWTBearer         = "jwt_bearer"
	nameTokenExchange     = "token_exchange"
	nameClientCredentials = "client_credentials"
	nameRefresh           = "refresh_token"
)
