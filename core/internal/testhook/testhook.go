// Package testhook carries core's test hooks — the clocks that tests drive
// by hand — between core's packages without making them options of the
// public API. Package cache and package provider fill in the functions
// below when they are initialised; core/providertest hands them to the
// tests of other modules. Nothing else may use them.
package testhook

import (
	"context"
	"time"
)

// Clock is the time a test drives by hand. A nil field means real time.
type Clock struct {
	// Now is the wall clock: token expiry in the cache, login deadlines.
	Now func() time.Time
	// Wait blocks for d or until ctx is done: the device-code flow's
	// polling interval.
	Wait func(ctx context.Context, d time.Duration) error
}

// CacheClock returns a cache.Option that sets the cache's clock (as any:
// package cache imports this package). Set by package cache.
var CacheClock func(now func() time.Time) any

// ProviderClock returns a provider.Option that sets c for the cache and
// the login flows of a provider (as any: package provider imports this
// package). Set by package provider.
var ProviderClock func(c Clock) any
