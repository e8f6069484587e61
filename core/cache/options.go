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
	// DefaultRefreshAhead is the fraction of a token's lifetime that Run
	// leaves before expiry when it replaces the token (jittered ±20 %).
	DefaultRefreshAhead = 0.25
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
// client's own retries on a slow or briefly failing IdP.
const refreshMargin = 30 * time.Second

// maxSleep caps one wait in Run. Timers run on the monotonic clock, which
// stops while a laptop sleeps; waking up regularly re-reads the wall clock
// that expiry is measured against.
const maxSleep = 5 * time.Minute

// Option configures a Source.
type Option func(*Source)

// WithSkew sets how long before its expiry a token stops being served
// (default 30 s). A token obtained from the IdP with a lifetime shorter than
// twice the skew uses half its lifetime instead, so very short-lived tokens
// are still reused. Negative values are treated as 0.
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

// WithClock sets the clock (default time.Now). Expiry is compared against
// the wall clock.
func WithClock(now func() time.Time) Option {
	return func(s *Source) {
		if now != nil {
			s.now = now
		}
	}
}

// WithAfter sets the timer used by Run to wait (default time.After). Tests
// pair it with WithClock to drive time by hand.
func WithAfter(after func(time.Duration) <-chan time.Time) Option {
	return func(s *Source) {
		if after != nil {
			s.after = after
		}
	}
}

// WithJitter sets the source of randomness for the refresh point and the
// retry backoff: a function returning a value in [0, 1), safe for
// concurrent use (default math/rand/v2.Float64). Return a constant for
// deterministic tests.
func WithJitter(rand func() float64) Option {
	return func(s *Source) {
		if rand != nil {
			s.jitter = rand
		}
	}
}

// WithRefreshAhead sets the fraction of a token's lifetime that Run leaves
// before expiry when it replaces the token (default 0.25, so a refresh
// happens when 20–30 % of the lifetime remains). The fraction is clamped to
// [0, 0.9]. Whatever the fraction, Run starts at least skew + 30 s (jittered)
// before expiry, and never before half of the token's usable life has passed.
func WithRefreshAhead(fraction float64) Option {
	return func(s *Source) { s.ahead = min(max(fraction, 0), 0.9) }
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
