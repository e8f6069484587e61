package cache

import (
	"time"

	"golang.org/x/oauth2"
)

// entry is one immutable cached token with its precomputed deadlines. The
// Source swaps whole entries atomically; nothing in an entry changes after
// it is published, which is what lets TokenContext read without a lock.
type entry struct {
	tok *oauth2.Token
	// staleAt is when the token stops being served (expiry − skew). Zero
	// means never served: no expiry known, or invalidated.
	staleAt time.Time
	// refreshAt is when Run replaces the token. Zero means Run leaves it
	// alone (a token without expiry, re-acquired by every caller).
	refreshAt time.Time
	// invalidated is set by Invalidate: the API rejected the token, so it
	// is never served again, not even while the IdP is failing.
	invalidated bool
}

// noExpiryReuse is how long a token without expiry, which callers otherwise
// re-acquire on every call, is reused: it bounds the IdP rate of one Source
// to one request per second under any caller behaviour.
const noExpiryReuse = time.Second

// usable reports whether e's token may be served when no better one can be
// had (the IdP is failing or cooling down): not invalidated and not past
// its expiry, even inside the skew.
func (e *entry) usable(now time.Time) bool {
	return e != nil && !e.invalidated && e.tok != nil && !e.tok.Expiry.IsZero() && now.Before(e.tok.Expiry)
}

// servable reports whether e's token may be handed out at now.
func (e *entry) servable(now time.Time) bool {
	return e != nil && now.Before(e.staleAt)
}

// newEntry computes the deadlines of tok obtained (or loaded) at now.
// fresh says tok has just come from the IdP, so its whole lifetime is known;
// a token loaded from a store may be old, so it keeps the full skew.
//
// Deadlines drop the monotonic clock reading: expiry is a wall-clock fact,
// and the monotonic clock stops while a laptop sleeps.
func (s *Source) newEntry(tok *oauth2.Token, now time.Time, fresh bool) *entry {
	now = now.Round(0)
	exp := tok.Expiry.Round(0)
	if exp.IsZero() {
		if s.unknownExpiry <= 0 {
			if fresh {
				// Re-acquired by every caller, but not more than once per
				// noExpiryReuse, whatever the callers do.
				return &entry{tok: tok, staleAt: now.Add(noExpiryReuse)}
			}
			return &entry{tok: tok}
		}
		exp = now.Add(s.unknownExpiry)
	}
	life := exp.Sub(now)
	if life <= 0 {
		// Already expired: not served; Run replaces it at once.
		return &entry{tok: tok, refreshAt: now}
	}
	skew := s.skew
	if fresh && skew > life/4 {
		// A short-lived token is served for three quarters of its life, so
		// that refreshing it ahead of staleness costs at most two IdP
		// requests per lifetime.
		skew = life / 4
	}
	stale := exp.Add(-skew)
	refresh := now.Add(s.refreshAfter(life, stale.Sub(now), skew))
	return &entry{tok: tok, staleAt: stale, refreshAt: refresh}
}

// The refresh window: Run replaces a token at a point drawn uniformly from
// [refreshSpread·latest, latest] after it was obtained (see refreshAfter).
// The jitter is applied last, after every bound, so that tokens obtained at
// the same moment are replaced over a window of a third of the refresh
// interval whatever their lifetime: a fleet started together stops
// refreshing in lockstep from its first refresh on.
const refreshSpread = 0.65

// refreshAfter returns how long after it was obtained a token with
// lifetime life, usable for usable (until expiry − skew), is replaced:
// uniformly in [refreshSpread·latest, latest], where latest leaves the
// larger of the refresh-ahead share of the lifetime and skew + margin
// before expiry (margin: refreshMargin, at most a tenth of the usable
// life, the head start that retries get before callers would wait), but
// is at least usable/(2·refreshSpread), so that no refresh happens in the
// first half of the usable life (short tokens would refresh in a loop).
func (s *Source) refreshAfter(life, usable, skew time.Duration) time.Duration {
	if usable <= 0 {
		return 0
	}
	margin := min(refreshMargin, usable/10)
	latest := life - max(time.Duration(s.ahead*float64(life)), skew+margin)
	latest = max(latest, time.Duration(float64(usable)/(2*refreshSpread)))
	after := time.Duration(float64(latest) * (refreshSpread + (1-refreshSpread)*s.jitter()))
	return max(after, usable/2) // only floating-point rounding can cross it
}
