package provider

import (
	"github.com/fedtoken/fedtoken/core/cache"
	"github.com/fedtoken/fedtoken/core/internal/testhook"
)

// The clock of the cache and of the login flows is a test hook, not an
// option of the public API: tests set it through core/providertest.
func init() {
	testhook.ProviderClock = func(c testhook.Clock) any {
		return Option(func(o *options) {
			o.loginNow, o.loginWait = c.Now, c.Wait
			if c.Now != nil {
				o.cacheOpts = append(o.cacheOpts, testhook.CacheClock(c.Now).(cache.Option))
			}
		})
	}
}
