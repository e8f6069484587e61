package cache

import (
	"context"
	"time"
)

// Run keeps the token fresh in the background until ctx is done, then
// returns nil. It acquires a token if there is none — at once, or after
// the random start delay of WithStartDelay — and replaces
// each token at its refresh point (see the package documentation), so that
// callers of TokenContext are served from the cache and never wait on the
// IdP. If a refresh fails it keeps the current token in service and retries
// after the Source's shared cool-down (WithBackoff, or the IdP's
// Retry-After); errors are
// reported to the observer, never returned. Run at most one Run per Source
// at a time.
func (s *Source) Run(ctx context.Context) error {
	if !s.delayStart(ctx) {
		return nil
	}
	for {
		// Drop a pending wake-up: the entry is read just below, and any
		// later change sends a new one.
		select {
		case <-s.wake:
		default:
		}
		e := s.cur.Load()
		now := s.now()
		due, m, idle := s.plan(e, now)
		if retryAt := s.nextAttempt(); !idle && retryAt.After(due) {
			due = retryAt // the shared cool-down after a failure
		}
		if d := due.Sub(now); idle || d > 0 {
			if idle || d > maxSleep {
				d = maxSleep
			}
			select {
			case <-ctx.Done():
				return nil
			case <-s.wake:
			case <-s.after(d):
			}
			continue
		}

		// A failure sets the shared cool-down, which the next plan honours.
		_, _ = s.wait(ctx, m)
		if ctx.Err() != nil {
			return nil
		}
	}
}

// plan says when Run should next act on e and how; idle means only a
// change of entry (or the periodic wake-up) can give it work.
func (s *Source) plan(e *entry, now time.Time) (due time.Time, m mode, idle bool) {
	switch {
	case e == nil:
		return now, modeStale, false
	case e.refreshAt.IsZero():
		return time.Time{}, modeStale, true // no expiry: callers re-acquire
	case e.servable(now):
		return e.refreshAt, modeAhead, false
	default:
		return e.refreshAt, modeStale, false // stale or invalidated: due already
	}
}

// backoff returns the delay before retry number n (1-based): min·2ⁿ⁻¹
// capped at max, then jittered down by up to half.
func (s *Source) backoff(n int) time.Duration {
	d := s.minBackoff
	for i := 1; i < n && d < s.maxBackoff; i++ {
		d *= 2
	}
	d = min(d, s.maxBackoff)
	return d/2 + time.Duration(s.jitter()*float64(d/2))
}

// startWait returns how long Run waits before its first acquisition: a
// random share of WithStartDelay's bound.
func (s *Source) startWait() time.Duration {
	if s.startDelay <= 0 {
		return 0
	}
	return time.Duration(s.jitter() * float64(s.startDelay))
}

// delayStart waits out the start delay unless a token is already there or
// arrives meanwhile. It returns false if ctx ended.
func (s *Source) delayStart(ctx context.Context) bool {
	d := s.startWait()
	if d <= 0 || s.cur.Load() != nil {
		return ctx.Err() == nil
	}
	timer := s.after(d)
	for {
		select {
		case <-ctx.Done():
			return false
		case <-timer:
			return true
		case <-s.wake:
			if s.cur.Load() != nil {
				return true
			}
		}
	}
}
