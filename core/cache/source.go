package cache

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"

	"github.com/fedtoken/fedtoken/core/oauth"
)

// Source caches the tokens of a wrapped oauth.TokenSource. It is safe for
// concurrent use; see the package documentation for its behaviour.
//
// Tokens it returns are shared between callers: never modify them.
type Source struct {
	src     oauth.TokenSource
	renewer oauth.Renewer // src, if it implements oauth.Renewer

	cur atomic.Pointer[entry]

	now            func() time.Time
	after          func(time.Duration) <-chan time.Time
	jitter         func() float64
	skew           time.Duration
	ahead          float64
	startDelay     time.Duration
	unknownExpiry  time.Duration
	acquireTimeout time.Duration
	minBackoff     time.Duration
	maxBackoff     time.Duration
	store          Store
	key            string
	locker         Locker
	observe        func(Event)

	// wake tells Run that the current entry changed.
	wake chan struct{}

	mu       sync.Mutex
	inflight *flight // the acquisition in progress, if any

	// deadRefresh is a refresh token the IdP rejected with invalid_grant,
	// so it is not offered again. Guarded by mu: an abandoned acquisition
	// may still be running when the next one starts.
	deadRefresh string

	// The shared cool-down (see coolDown.go), guarded by mu.
	identity           func(ctx context.Context) (string, error)
	invalidateCoolDown time.Duration
	failures           int       // consecutive failed acquisitions
	retryAt            time.Time // no acquisition starts before this
	lastErr            error     // why the last acquisition failed
	lastInvalidate     time.Time // when Invalidate last dropped a token
}

var _ oauth.TokenSource = (*Source)(nil)

// flight is one shared acquisition. tok and err are written before done is
// closed and only read after.
type flight struct {
	done    chan struct{}
	tok     *oauth2.Token
	err     error
	waiters int // guarded by Source.mu
}

// mode says why an acquisition is wanted, which decides whether the current
// token is good enough and whether a token found in the store will do.
type mode int

const (
	modeStale mode = iota // a caller needs a servable token
	modeAhead             // Run: replace a servable token before it goes stale
	modeForce             // Refresh: a new token from the IdP, whatever we hold
)

// New returns a Source that caches the tokens of src.
func New(src oauth.TokenSource, opts ...Option) *Source {
	s := &Source{src: src, wake: make(chan struct{}, 1)}
	s.renewer, _ = src.(oauth.Renewer)
	defaults(s)
	for _, o := range opts {
		o(s)
	}
	return s
}

// Token returns a valid token; it is TokenContext(context.Background()).
func (s *Source) Token() (*oauth2.Token, error) {
	return s.TokenContext(context.Background())
}

// TokenContext returns the cached token while it is valid (more than the
// skew before its expiry): no lock, no allocation, no I/O, and the same
// *oauth2.Token pointer to every caller, which must not modify it.
//
// Otherwise it waits for a new one. Concurrent callers share one
// acquisition; a caller whose ctx ends stops waiting and gets ctx.Err(),
// while the acquisition carries on for the others.
func (s *Source) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	if e := s.cur.Load(); e != nil && s.now().Before(e.staleAt) {
		return e.tok, nil
	}
	return s.wait(ctx, modeStale)
}

// Refresh acquires a new token from the IdP now, even if the current one is
// valid, and returns it. If an acquisition is already running it waits for
// that one instead of starting another.
func (s *Source) Refresh(ctx context.Context) (*oauth2.Token, error) {
	return s.wait(ctx, modeForce)
}

// Peek returns the current token, if any, and whether it is valid (would be
// served by TokenContext). It does no I/O, takes no lock and does not
// allocate; the token may be stale or invalidated when ok is false, and it
// is nil before the first acquisition.
func (s *Source) Peek() (tok *oauth2.Token, ok bool) {
	e := s.cur.Load()
	if e == nil {
		return nil, false
	}
	return e.tok, s.now().Before(e.staleAt)
}

// Invalidate stops serving tok, typically after the API answered 401 to it.
// It does nothing unless tok (the same pointer or the same access token) is
// still the current token, so late reports about an old token do no harm,
// and nothing within the invalidate cool-down (WithInvalidateCoolDown,
// default 30 s) of the last token it dropped, so an upstream that rejects
// every token costs at most one IdP acquisition per cool-down.
// The token stays available to Renewer.Renew, and Run replaces it at once.
func (s *Source) Invalidate(tok *oauth2.Token) {
	if tok == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.lastInvalidate.IsZero() && s.now().Sub(s.lastInvalidate) < s.invalidateCoolDown {
		// An upstream that rejects every token would otherwise turn each
		// request into an IdP request: at most one per cool-down.
		return
	}
	for {
		e := s.cur.Load()
		if e == nil || (e.tok != tok && e.tok.AccessToken != tok.AccessToken) {
			return
		}
		now := s.now()
		if !e.servable(now) {
			return // not being served anyway
		}
		if s.cur.CompareAndSwap(e, &entry{tok: e.tok, refreshAt: now.Round(0), invalidated: true}) {
			s.lastInvalidate = now
			s.notify()
			return
		}
	}
}

// wait joins the acquisition in progress, or starts one if the current
// token does not satisfy m, and waits for it or for ctx.
func (s *Source) wait(ctx context.Context, m mode) (*oauth2.Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	f := s.inflight
	if f == nil {
		cur := s.cur.Load()
		if tok, ok := s.satisfied(cur, m); ok {
			s.mu.Unlock()
			return tok, nil
		}
		if err := s.coolingDown(); err != nil {
			s.mu.Unlock()
			return s.fallback(m, err)
		}
		f = &flight{done: make(chan struct{})}
		s.inflight = f
		// The acquisition keeps the starting caller's context values (trace
		// IDs) but not its cancellation: others may be waiting on it.
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.acquireTimeout)
		go func() {
			defer cancel()
			s.acquire(actx, f, cur, m)
		}()
	}
	f.waiters++
	s.mu.Unlock()

	select {
	case <-f.done:
		if f.err != nil {
			return s.fallback(m, f.err)
		}
		return f.tok, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// satisfied reports whether cur already meets m, re-checked under s.mu so
// that a caller arriving just after an acquisition finished uses its result.
func (s *Source) satisfied(cur *entry, m mode) (*oauth2.Token, bool) {
	if cur == nil {
		return nil, false
	}
	now := s.now()
	switch m {
	case modeStale:
		return cur.tok, cur.servable(now)
	case modeAhead:
		return cur.tok, cur.servable(now) && now.Before(cur.refreshAt)
	}
	return nil, false
}

// notify wakes Run after the current entry changed.
func (s *Source) notify() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}
