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
	if fresh && skew > life/2 {
		skew = life / 2
	}
	stale := exp.Add(-skew)

	// Run starts refreshing when a jittered share of the lifetime remains,
	// or skew + margin before expiry if that is earlier, but never in the
	// first half of the usable life (short tokens would refresh in a loop).
	lead := max(time.Duration(s.ahead*float64(life)), skew+refreshMargin)
	lead = time.Duration(float64(lead) * (0.8 + 0.4*s.jitter()))
	refresh := exp.Add(-lead)
	if earliest := now.Add(stale.Sub(now) / 2); refresh.Before(earliest) {
		refresh = earliest
	}
	return &entry{tok: tok, staleAt: stale, refreshAt: refresh}
}
