// Package oauth holds the OAuth 2.0 wire protocol shared by every grant:
// the context-aware TokenSource interface, the one typed error for
// RFC 6749 §5.2 error responses, token-response parsing, client
// authentication, and the retrying token-endpoint client.
//
// It is the leaf of the core module: it imports nothing else from core.
package oauth
