// Package provider turns one configured provider — one IdP, one client, one
// way to prove identity — into a cached, self-refreshing token source. It is
// what the fedtoken CLI and sidecar call; it holds no grant logic of its
// own, only the wiring of config onto the subject, grant, discovery, oauth
// and cache packages.
//
// A CronJob-style one-shot calls TokenContext once (or wraps an
// http.Client with Transport); a long-running service also runs Run in a
// goroutine so tokens are replaced ahead of expiry and callers never wait on
// the IdP.
package provider
