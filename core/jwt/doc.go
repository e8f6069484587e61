// Package jwt reads and writes JSON Web Tokens (RFC 7519) for fedtoken.
//
// # Decode does not verify anything
//
// Decode splits a compact JWS and returns its header and claims WITHOUT
// CHECKING THE SIGNATURE, the issuer, the audience or the lifetime. A
// decoded claim is only what the token says about itself: anyone can
// forge it. fedtoken decodes tokens it already holds — the workload's own
// platform token, an access token the IdP just issued — to report their
// expiry, to warn before sending an expired token, and to show them in
// `fedtoken inspect` and `doctor`. Never use Decode to make a trust
// decision; the IdP that receives the token is the party that verifies it.
//
// Decode errors are precise ("not a JWT: expected 3 segments, got 2",
// "claim exp is not a number") and never contain the token or any part of
// it, so they are safe to log. Every one of them matches ErrMalformed.
//
// Sign builds the signed assertions of the private_key_jwt client
// authentication method (RFC 7523 §2.2).
package jwt
