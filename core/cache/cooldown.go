package cache

import (
	"errors"
	"fmt"
	"time"

	"golang.org/x/oauth2"

	"github.com/fedtoken/fedtoken/core/oauth"
)

// The cool-down is the single mechanism that bounds how often a Source
// asks the IdP, whoever is asking: callers of TokenContext (a proxy
// request, the token endpoint, a file sink), Refresh, and Run. After a
// failed acquisition no new one starts before retryAt: the capped, jittered
// exponential backoff of WithBackoff, or longer when the IdP answered with
// a Retry-After (capped at maxRetryAfter). Meanwhile callers get the
// still-valid token if there is one (see entry.usable), else the last
// error at once, without an IdP request. A success ends the cool-down.

// maxRetryAfter caps how long an IdP's Retry-After stops acquisitions.
const maxRetryAfter = time.Hour

// abandonGrace is how long an acquisition may overrun its deadline (an
// operation that ignores its context, such as a read that blocks) before
// the Source stops waiting for it and lets the next one start.
const abandonGrace = time.Second

// CoolDownError is returned instead of starting an acquisition while the
// Source is cooling down after a failure. It wraps that failure, so
// errors.Is and errors.As see the IdP's or the subject source's error.
type CoolDownError struct {
	// Until is when the next acquisition may start.
	Until time.Time
	// Err is why the last acquisition failed.
	Err error
}

func (e *CoolDownError) Error() string {
	return fmt.Sprintf("%v (not retried before %s)", e.Err, e.Until.UTC().Format(time.RFC3339))
}

func (e *CoolDownError) Unwrap() error { return e.Err }

// coolingDown returns the error to answer while no acquisition may start,
// or nil. Call with s.mu held.
func (s *Source) coolingDown() error {
	if s.failures == 0 || !s.now().Before(s.retryAt) {
		return nil
	}
	return &CoolDownError{Until: s.retryAt, Err: s.lastErr}
}

// fallback answers a caller whose acquisition failed or was not started:
// a caller that needs a servable token gets the current one while it has
// not expired (inside the skew, but not invalidated), others get err.
func (s *Source) fallback(m mode, err error) (*oauth2.Token, error) {
	if m == modeStale {
		if e := s.cur.Load(); e.usable(s.now()) {
			return e.tok, nil
		}
	}
	return nil, err
}

// settle records the outcome of an acquisition in the shared cool-down.
// Call with s.mu held.
func (s *Source) settle(err error) {
	if err == nil {
		s.failures, s.retryAt, s.lastErr = 0, time.Time{}, nil
		return
	}
	s.failures++
	s.lastErr = err
	wait := s.backoff(s.failures)
	var oe *oauth.Error
	if errors.As(err, &oe) && oe.RetryAfter > wait {
		wait = min(oe.RetryAfter, maxRetryAfter)
	}
	s.retryAt = s.now().Add(wait)
}

// nextAttempt returns when the next acquisition may start (zero when it
// may start now).
func (s *Source) nextAttempt() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failures == 0 {
		return time.Time{}
	}
	return s.retryAt
}

// Reset ends the cool-down and the invalidate cool-down, for when what made
// acquisitions fail has changed: an interactive login has just stored a
// token, a user fixed the configuration. The next caller may acquire at once.
func (s *Source) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures, s.retryAt, s.lastErr = 0, time.Time{}, nil
	s.lastInvalidate = time.Time{}
}
