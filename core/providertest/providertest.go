// Package providertest is test support for programs built on package
// provider: it drives a provider's time by hand, so that a test can make a
// cached token expire or a device-code login poll without waiting. It is
// meant for tests only; a program never needs it.
package providertest

import (
	"context"
	"time"

	"github.com/fedtoken/fedtoken/core/internal/testhook"
	"github.com/fedtoken/fedtoken/core/provider"
)

// WithClock returns a provider.Option that makes the provider read the
// time from now (token expiry in the cache, login deadlines) and wait with
// wait (the device-code flow's polling interval). A nil now or wait means
// real time.
func WithClock(now func() time.Time, wait func(ctx context.Context, d time.Duration) error) provider.Option {
	return testhook.ProviderClock(testhook.Clock{Now: now, Wait: wait}).(provider.Option)
}
