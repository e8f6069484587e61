package cache

import (
	"context"
	"math/rand/v2"
	"time"
)

// Defaults used by New.
const (
	// DefaultSkew is how long before its expiry a token stops being served
	// (upstream tokenExpirySkewMs, 30 s).
	DefaultSkew = 30 * time.Second
	// DefaultRefreshAhead is the least fraction of a token's lifetime that
	// Run leaves before expiry when it replaces the token (see
	// WithRefreshAhead).
	DefaultRefreshAhead = 0.2
	// DefaultAcquireTimeout bounds one shared acquisition (lock wait, store
	// I/O and the IdP round trips with their retries).
	DefaultAcquireTimeout = 2 * time.Minute
	// DefaultMinBackoff and DefaultMaxBackoff bound the cool-down after a
	// failed acquisition, shared by every caller and Run.
	DefaultMinBackoff = time.Second
	DefaultMaxBackoff = time.Minute
	// DefaultInvalidateCoolDown is the least time between two tokens
	// dropped by Invalidate.
	DefaultInvalidateCoolDown = 30 * time.Second
)

// refreshMargin is the head start, beyond the skew, that a background
// refresh gets before callers would have to wait: enough for the token
// client's own retries on a slow or briefly failing IdP. A short-lived
// token gets at most a tenth of its usable life.
const refreshMargin = 30 * time.Second

// maxSleep caps one wait in Run. Timers run on the monotonic clock, which
// stops while a laptop sleeps; waking up regularly re-reads the wall clock
// that expiry is measured against.
const maxSleep = 5 * time.Minute

// Option configures a Source.
type Option func(*Source)

// WithSkew sets how long before its expiry a token stops being served
// (default 30 s). A token obtained from the IdP with a lifetime shorter than
// four times the skew uses a quarter of its lifetime instead, so that
// short-lived tokens are still reused and refreshing them costs at most two
// IdP requests per lifetime. Negative values are treated as 0.
func WithSkew(d time.Duration) Option {
	return func(s *Source) { s.skew = max(d, 0) }
}

// WithStore persists tokens in store under key (build key with Key). On a
// cold start the Source loads from the store before asking the IdP; if the
// store also implements Locker, every acquisition holds its lock, re-reads
// the store and saves the new token before unlocking, so processes sharing
// the store make one IdP request between them.
func WithStore(store Store, key string) Option {
	return func(s *Source) {
		s.store, s.key = store, key
		s.locker, _ = store.(Locker)
	}
}

// withClock sets the clock (default time.Now). Expiry is compared against
// the wall clock. A test hook: tests reach it through export_test.go, other
// packages' tests through core/providertest.
func withClock(now func() time.Time) Option {
	return func(s *Source) {
		if now != nil {
			s.now = now
		}
	}
}

// withAfter sets the timer used by Run to wait (default time.After). Tests
// pair it with withClock to drive time by hand (a test hook).
func withAfter(after func(time.Duration) <-chan time.Time) Option {
	return func(s *Source) {
		if after != nil {
			s.after = after
		}
	}
}

// withJitter sets the source of randomness for the refresh point, the
// start delay and the retry backoff: a function returning a value in
// [0, 1), safe for concurrent use (default math/rand/v2.Float64). A test
// hook: tests return a constant, or draw from a seeded generator.
func withJitter(rand func() float64) Option {
	return func(s *Source) {
		if rand != nil {
			s.jitter = rand
		}
	}
}

// WithRefreshAhead sets the least fraction of a token's lifetime that Run
// leaves before expiry when it replaces the token (default 0.2). The
// fraction is clamped to [0, 0.9]. The latest refresh point leaves that
// share of the lifetime, or skew + 30 s (at most a tenth of the usable life
// beyond the skew), whichever is more, before expiry; Run refreshes at a
// point drawn uniformly between 65 % and 100 % of the time to that latest
// point, so a 1 h token is replaced when 20–48 % of its lifetime remains.
// Whatever the fraction, no refresh happens before half of the token's
// usable life (until expiry − skew) has passed.
func WithRefreshAhead(fraction float64) Option {
	return func(s *Source) { s.ahead = min(max(fraction, 0), 0.9) }
}

// WithStartDelay makes Run wait a random time, uniform in [0, d), before
// it acquires the first token (default 0: at once), so that a fleet of
// long-running instances started together — a rollout — does not reach the
// IdP in the same second. Run skips the rest of the delay as soon as a
// token is there (a caller acquired one: a caller that needs a token never
// waits for the delay). Leave it 0 where the first token's latency matters
// more than the IdP's peak load: one-shot commands, a Job's first token.
// Negative values are treated as 0.
func WithStartDelay(d time.Duration) Option {
	return func(s *Source) { s.startDelay = max(d, 0) }
}

// WithBackoff sets the cool-down after a failed acquisition: capped
// exponential backoff, default 1 s doubling up to 1 min, jittered down by up
// to half. It is shared by every caller of the Source and by Run: while it
// lasts no acquisition starts, callers get the still-valid token or the last
// error at once. A Retry-After from the IdP lengthens it (up to 1 h).
// Values below 1 ms are raised to 1 ms; maxDelay is raised to minDelay if
// smaller.
func WithBackoff(minDelay, maxDelay time.Duration) Option {
	return func(s *Source) {
		s.minBackoff = max(minDelay, time.Millisecond)
		s.maxBackoff = max(maxDelay, s.minBackoff)
	}
}

// WithAcquireTimeout bounds one shared acquisition (default 2 min). The
// acquisition does not run with any single caller's context, so that a
// caller giving up does not fail the others; this timeout is what stops it.
// Interactive flows (device code) need a longer one. Values <= 0 restore the
// default.
func WithAcquireTimeout(d time.Duration) Option {
	return func(s *Source) {
		if d <= 0 {
			d = DefaultAcquireTimeout
		}
		s.acquireTimeout = d
	}
}

// WithUnknownExpiry sets how long a token without an expiry (no expires_in)
// is served. The default, 0, never serves such a token from the cache: it
// is re-acquired on every call, the upstream rule for machine flows.
// Interactive flows may set a lifetime here instead.
func WithUnknownExpiry(d time.Duration) Option {
	return func(s *Source) { s.unknownExpiry = max(d, 0) }
}

// WithObserver registers fn to be called once per acquisition, after the new
// token (if any) is in place and before waiting callers are released. fn
// runs synchronously on the acquiring goroutine: keep it quick (update
// metrics, log) and never call back into the Source.
func WithObserver(fn func(Event)) Option {
	return func(s *Source) { s.observe = fn }
}

// WithInvalidateCoolDown sets the least time between two tokens dropped by
// Invalidate (default 30 s); an Invalidate sooner is ignored, so an API
// that rejects every token costs at most one IdP acquisition per d.
// Negative values are treated as 0.
func WithInvalidateCoolDown(d time.Duration) Option {
	return func(s *Source) { s.invalidateCoolDown = max(d, 0) }
}

// WithIdentity binds stored tokens to the identity that earned them. id
// returns a digest of the current subject's identity (never the token
// itself), or "" when it cannot be bound (an opaque token); an error means
// the subject cannot be read. A token is saved with its identity
// (IdentityExtra) and a stored token is used only by the same identity: a
// store shared by several identities (a CI runner's $HOME) never hands one
// identity's token to another, and a subject that cannot be read is never
// answered from the store. id runs on every acquisition that involves the
// store, with the acquisition's context.
func WithIdentity(id func(ctx context.Context) (string, error)) Option {
	return func(s *Source) { s.identity = id }
}

func defaults(s *Source) {
	s.now = time.Now
	s.after = time.After
	s.jitter = rand.Float64
	s.skew = DefaultSkew
	s.ahead = DefaultRefreshAhead
	s.acquireTimeout = DefaultAcquireTimeout
	s.minBackoff = DefaultMinBackoff
	s.maxBackoff = DefaultMaxBackoff
	s.invalidateCoolDown = DefaultInvalidateCoolDown
}
