package cache

import (
	"time"

	"golang.org/x/oauth2"
)

// Event describes one acquisition, for metrics and logs (see WithObserver).
// Cached reads produce no event.
type Event struct {
	// Background is true when Run started the acquisition ahead of expiry,
	// false when a caller needed a token (cold start, stale token,
	// Invalidate) or forced one with Refresh.
	Background bool
	// Forced is true for Refresh.
	Forced bool
	// FromStore is true when the token came from the Store (another process
	// had just acquired it): no IdP request was made.
	FromStore bool
	// Renewed is true when the token came from Renewer.Renew (a refresh
	// token) rather than a fresh TokenContext.
	Renewed bool
	// Duration is the time the acquisition took, lock wait included.
	Duration time.Duration
	// Token is the new token, nil on failure. Do not modify it.
	Token *oauth2.Token
	// Err is why the acquisition failed, nil on success. A failed
	// background refresh leaves the current token in service.
	Err error
	// StoreErr reports a Store or Locker failure that the acquisition
	// survived (the token was still obtained, just not shared or persisted).
	StoreErr error
}
