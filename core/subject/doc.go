// Package subject provides the platform identity token — the "subject
// token" — that fedtoken presents to an IdP: a projected Kubernetes
// ServiceAccount token, a file, an environment variable, a GitHub Actions
// OIDC token or the output of a command.
//
// Every Source in this package re-reads its token on every call and
// caches nothing: projected tokens rotate underneath the process (the
// kubelet swaps a `..data` symlink), CI tokens are minted per request.
// Caching belongs to the access token (package cache), not to the
// identity that obtains it.
//
// Tokens are size-limited (MaxTokenSize) and trimmed of surrounding
// whitespace. An empty token is an error matching ErrNoToken. A JWT
// whose "exp" has passed is not returned: the source reports an
// *ExpiredError naming where it came from, when it expired and what to
// check, so the IdP's terse invalid_grant is not the first symptom.
// Opaque (non-JWT) tokens are passed through unchecked.
//
// Errors name the source (`subject: kubernetes_sa /var/run/…/token: …`)
// and never contain the token.
package subject
