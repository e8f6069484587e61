package discovery

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/fedtoken/fedtoken/core/oauth"
)

// DefaultTTL is how long discovered metadata is reused when Client.TTL is zero.
const DefaultTTL = time.Hour

// fetchTimeout bounds one shared discovery, which outlives a caller that
// gives up so the others still get an answer.
const fetchTimeout = time.Minute

// Client discovers and caches issuer metadata. It is safe for concurrent
// use: concurrent callers for one issuer share a single fetch, and a
// successful result is reused for TTL. Failures are not cached. A Client
// must not be copied after first use.
type Client struct {
	// HTTPClient fetches the documents; nil means a client with
	// oauth.DefaultHTTPTimeout (use oauth.NewHTTPClient for a CA file).
	HTTPClient *http.Client
	// TTL is how long metadata is cached: 0 means DefaultTTL, a negative
	// value disables caching (concurrent callers still share a fetch).
	TTL time.Duration
	// Now is the clock for cache expiry; nil means time.Now.
	Now func() time.Time

	mu      sync.Mutex
	cache   map[string]cacheEntry
	group   singleflight.Group
	waiting atomic.Int64 // callers blocked on a shared fetch (observed by tests)
}

type cacheEntry struct {
	md      *Metadata
	expires time.Time
}

// Discover returns the metadata of issuer: from the cache, or fetched from
// the OpenID Connect well-known URL, then the RFC 8414 ones (see
// candidateURLs). The document's "issuer" must equal issuer exactly.
// The result is a copy the caller may modify.
func (c *Client) Discover(ctx context.Context, issuer string) (*Metadata, error) {
	if md, ok := c.lookup(issuer); ok {
		return md, nil
	}
	c.waiting.Add(1)
	ch := c.group.DoChan(issuer, func() (any, error) {
		if md, ok := c.lookup(issuer); ok { // filled by a flight that just ended
			return md, nil
		}
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fetchTimeout)
		defer cancel()
		md, err := c.fetch(fctx, issuer)
		if err != nil {
			return nil, err
		}
		c.store(issuer, md)
		return md, nil
	})
	defer c.waiting.Add(-1)
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return clone(r.Val.(*Metadata)), nil
	case <-ctx.Done():
		return nil, fmt.Errorf("discovery: issuer %s: %w", oauth.RedactURL(issuer), ctx.Err())
	}
}

func (c *Client) lookup(issuer string) (*Metadata, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.cache[issuer]
	if !ok || !c.now().Before(e.expires) {
		return nil, false
	}
	return clone(e.md), true
}

func (c *Client) store(issuer string, md *Metadata) {
	ttl := c.TTL
	if ttl == 0 {
		ttl = DefaultTTL
	}
	if ttl < 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cache == nil {
		c.cache = make(map[string]cacheEntry)
	}
	c.cache[issuer] = cacheEntry{md: clone(md), expires: c.now().Add(ttl)}
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Client) httpClient() *http.Client {
	if c.HTTPClient != nil {
		return c.HTTPClient
	}
	return &http.Client{Timeout: oauth.DefaultHTTPTimeout}
}

func clone(md *Metadata) *Metadata {
	c := *md
	c.GrantTypesSupported = slices.Clone(md.GrantTypesSupported)
	c.TokenEndpointAuthMethodsSupported = slices.Clone(md.TokenEndpointAuthMethodsSupported)
	c.CodeChallengeMethodsSupported = slices.Clone(md.CodeChallengeMethodsSupported)
	return &c
}
