// Package mockidp is a test identity provider built on
// github.com/zitadel/oidc/v3/pkg/op that really verifies federated tokens.
//
// One [Server] serves several issuers by path (https://host/prod,
// https://host/staging, …), each with its own RS256 signing key, clients and
// trust policies for external issuers (a Kubernetes API server, GitHub
// Actions, a static JWKS file). Every issuer serves OpenID discovery and
// RFC 8414 metadata, a JWKS, and the token, device authorization, authorize,
// userinfo, introspection and revocation endpoints. The grants are
// jwt-bearer (RFC 7523), token exchange (RFC 8693), client_credentials
// (client secret, private_key_jwt, or a federated client_assertion), device
// code (RFC 8628), authorization code with PKCE, and refresh with rotation.
// Issued access tokens are JWTs signed by the issuer.
//
// Federated tokens are verified for real: signature against the external
// issuer's JWKS (cached, refetched on an unknown kid), iss, aud (audience
// pinning), exp, nbf, iat, maximum age and allowed subjects. Each rejection
// is an RFC 6749 error whose description names the check that failed.
//
// For tests, mockidp injects faults (latency, 5xx, 429 with Retry-After,
// dropped connections, malformed or incomplete bodies, slow_down storms),
// keeps a request log with counters, and has an optional admin API under
// /admin/ that must only be served on loopback. In cluster mode it also
// plays the Kubernetes API server: an extra issuer signs service-account
// tokens and writes them to directories with the kubelet's atomic-writer
// layout, rotating them at 80 % of their lifetime.
//
// mockidp never imports fedtoken's core module: it is the independent
// oracle core is tested against.
package mockidp
