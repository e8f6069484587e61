// Package oauth holds the OAuth 2.0 wire protocol shared by every grant:
// the context-aware TokenSource interface, the one typed error for
// RFC 6749 §5.2 error responses, token-response parsing, client
// authentication, the retrying token-endpoint client, and the HTTP client
// and URL rules for reaching an IdP.
//
// It sits at the bottom of the core module: from core it imports only
// core/jwt, to sign private_key_jwt client assertions.
package oauth
