package oauth

import (
	"strings"

	"golang.org/x/oauth2"
)

// AuthScheme is the scheme of the Authorization header that carries tok:
// its token_type, "Bearer" when the IdP gave none or "bearer" (Dex), and
// "Bearer" for RFC 8693 §2.2.1's "N_A" (not applicable, e.g. an exchanged
// ID token), which is no HTTP authentication scheme. Every Authorization
// header fedtoken builds, and every token_type it hands out for one, comes
// from here.
func AuthScheme(tok *oauth2.Token) string {
	typ := tok.Type()
	if strings.EqualFold(typ, "N_A") {
		return "Bearer"
	}
	return typ
}

// AuthorizationValue is the value of the Authorization header that
// carries tok: "<AuthScheme> <access token>".
func AuthorizationValue(tok *oauth2.Token) string {
	return AuthScheme(tok) + " " + tok.AccessToken
}
