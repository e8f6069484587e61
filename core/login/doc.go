// Package login holds the interactive OAuth 2.0 flows, for people on
// laptops: the device authorization grant (RFC 8628) and the
// authorization code grant with PKCE (RFC 7636) and a loopback redirect
// (RFC 8252 §7.3).
//
// The flows hold all the protocol logic; a frontend only supplies a UI:
// a function that shows the person what to do (the user code and
// verification URI, or the authorization URL) and, optionally, a way to
// open a browser. A flow whose UI cannot show anything fails at once with
// ErrNonInteractive instead of waiting for a person who is not there, so
// a CronJob or CI job never hangs on a login prompt.
//
// Both flows require a refresh token in the token response: a login is
// meant to be done once and renewed silently (package provider renews it
// with grant.Refresh).
//
// The structs are plain, with exported fields, like the grants of
// core/grant; none stores a context, and each call takes its own.
package login
