// Package cache keeps an OAuth 2.0 access token ready for use: Source wraps
// any oauth.TokenSource with a lock-free cache, single-flight acquisition,
// proactive background refresh and optional persistence (Store).
//
// # Reading
//
// Source.TokenContext returns the cached token while it is valid, that is
// until skew before its expiry (WithSkew, default 30 s, upstream
// tokenExpirySkewMs). That read loads one atomic pointer to an immutable
// entry and compares two times: no lock, no allocation, no I/O. Every
// caller gets the same *oauth2.Token pointer, so callers must not modify
// the token. A token obtained from the IdP with a lifetime shorter than four
// times the skew uses a quarter of its lifetime as skew instead, so it is
// still reused.
//
// A token without an expiry (no expires_in) is never served from the cache:
// machine flows re-acquire it on every call, as upstream does, except that
// a token is reused for one second so that no pattern of callers makes more
// than one IdP request per second.
// WithUnknownExpiry gives such tokens a lifetime instead.
//
// # Acquiring
//
// When the token is missing or stale, callers wait for a new one. All the
// callers that arrive while an acquisition is running share it: one IdP
// request however many callers. The acquisition runs on its own goroutine
// with a context detached from the callers (keeping the first caller's
// values) and bounded by WithAcquireTimeout, so a caller that gives up
// (its ctx ends; it gets ctx.Err()) does not fail the others.
//
// If the wrapped source implements oauth.Renewer and the previous token has
// a refresh token, the Source calls Renew; if the IdP answers invalid_grant
// it falls back to TokenContext once and does not offer that refresh token
// again. Invalidate drops the current token after the API rejected it (401),
// only if it is still the current one.
//
// # Proactive refresh
//
// Run replaces the token before it goes stale, so that callers are served
// from the cache and never wait on the IdP. For a token with lifetime L the
// latest refresh point leaves the larger of 0.2·L (WithRefreshAhead) and
// skew + 30 s (the margin is at most a tenth of the usable life L − skew)
// before expiry; Run refreshes at a point drawn uniformly between 65 % and
// 100 % of the time to that latest point. The jitter comes last, after
// every bound, so instances that obtained their tokens together are spread
// over a third of the refresh interval whatever the lifetime, and never in
// lockstep. No refresh happens in the first half of the usable life, and a
// fresh token shorter than 4 × skew uses a quarter of its lifetime as skew,
// so with the default share a token costs 1.5–1.8 IdP requests per
// lifetime on average. For a 300 s Keycloak token that is 156–240 s after it was
// obtained; for a 1 h token, 31.2–48 min; for a 60 s token, 26.3–40.5 s.
// WithStartDelay adds a random delay before the first acquisition of a
// long-running Run (a rollout of many replicas); one-shot use never waits.
// The fleet simulator in fleet_test.go (BenchmarkFleet, docs/benchmarks.md)
// measures the IdP's load for 10,000 instances started together.
//
// This borrows the AWS SDK's
// advisory window (refresh early without blocking callers) and mandatory
// window (the skew, after which callers wait), and Azure's rule that a
// failed early refresh keeps the old token: while the current token is
// valid, a failed refresh only makes Run retry with capped exponential
// backoff (WithBackoff, default 1 s to 1 min, jittered). Failures are
// reported to the observer (WithObserver), not returned.
//
// # Bounded IdP rate
//
// The backoff is one cool-down shared by every caller of the Source and by
// Run: after a failed acquisition no new one starts before it ends (or
// before the IdP's Retry-After, up to 1 h); callers meanwhile get the
// current token if it has not expired — even inside the skew — or the last
// error at once (*CoolDownError). Invalidate drops at most one token per
// 30 s (WithInvalidateCoolDown). An acquisition that overruns its timeout
// because something ignores cancellation is abandoned after one more
// second, so it cannot wedge the Source. Together: one IdP acquisition at a
// time, none during a cool-down, whatever the callers do.
//
// # Identity binding
//
// WithIdentity binds stored tokens to a digest of the subject's identity
// (iss, sub, aud of the platform JWT): a token in a store shared by several
// identities (a CI runner's $HOME) is only used by the identity that
// earned it, and a subject that cannot be read is never answered from the
// store.
//
// # Persistence and the cross-process lock
//
// WithStore(store, key) persists tokens. On a cold start the Source loads
// from the store first: a valid token there means no IdP request. If the
// store implements Locker, each acquisition holds its lock, re-reads the
// store (another process may have just written a token), goes to the IdP
// only if still needed, saves, and unlocks; N processes starting cold make
// one IdP request between them (the int128/kubelogin approach, which also
// locks around authentication). Store failures never cost the caller its
// token: they are reported as Event.StoreErr.
//
// FileStore keeps one file per key in its directory (FileStore.Dir, default
// DefaultDir: $FEDTOKEN_CACHE_DIR, else $XDG_CACHE_HOME/fedtoken, else
// os.UserCacheDir()/fedtoken):
//
//	<dir>/                 0700; an existing directory open to group or
//	                       others is tightened, a shared one is refused
//	<dir>/<key>.json       0600, the token
//	<dir>/<key>.lock       0600, empty; flock(2) / LockFileEx target, never deleted
//	<dir>/.<key>.*.tmp     a save in progress
//
// where key is Key(issuer, client, grant, …): the SHA-256 of the
// length-prefixed parts in hex. Saves are atomic: write a temporary file in
// the same directory, fsync, rename over the old file, fsync the directory.
// The file is versioned JSON:
//
//	{"version": 1, "key": "<key>", "access_token": "…", "token_type": "Bearer",
//	 "refresh_token": "…", "expiry": "2026-11-26T16:30:00Z",
//	 "extra": {"id_token": "…", "scope": "…", "issued_token_type": "…"}}
//
// A missing, corrupt, truncated or foreign file (another version or key) is
// a miss, never an error. MemoryStore is the in-process equivalent.
package cache
