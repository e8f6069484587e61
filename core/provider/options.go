package provider

import (
	"context"
	"net/http"
	"time"

	"github.com/fedtoken/fedtoken/core/cache"
	"github.com/fedtoken/fedtoken/core/discovery"
	"github.com/fedtoken/fedtoken/core/oauth"
)

// Option configures New.
type Option func(*options)

type options struct {
	store      cache.Store
	httpClient *http.Client
	discovery  *discovery.Client
	observe    func(Event)
	retry      *oauth.RetryPolicy
	cacheOpts  []cache.Option
	loginNow   func() time.Time
	loginWait  func(ctx context.Context, d time.Duration) error
}

// WithStore persists tokens in store (for example a cache.FileStore), keyed
// by everything that changes the token. Processes sharing a FileStore make
// one IdP request between them. Without it tokens live in memory only.
func WithStore(store cache.Store) Option {
	return func(o *options) { o.store = store }
}

// WithHTTPClient replaces the HTTP client built from the provider's caFile
// and httpTimeout. The client is used for discovery, token requests and the
// github_actions subject source.
func WithHTTPClient(c *http.Client) Option {
	return func(o *options) { o.httpClient = c }
}

// WithDiscovery shares one discovery cache between several providers.
func WithDiscovery(d *discovery.Client) Option {
	return func(o *options) { o.discovery = d }
}

// WithObserver is called after every acquisition (not after cached reads),
// for metrics and logs. It must not block.
func WithObserver(fn func(Event)) Option {
	return func(o *options) { o.observe = fn }
}

// WithRetry replaces the token client's retry policy.
func WithRetry(p oauth.RetryPolicy) Option {
	return func(o *options) { o.retry = &p }
}

// WithCacheOptions passes options to the underlying cache.Source (start
// delay, refresh-ahead fraction, backoff…).
func WithCacheOptions(opts ...cache.Option) Option {
	return func(o *options) { o.cacheOpts = append(o.cacheOpts, opts...) }
}
