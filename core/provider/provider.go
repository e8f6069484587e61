package provider

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"golang.org/x/oauth2"

	"github.com/fedtoken/fedtoken/core/cache"
	"github.com/fedtoken/fedtoken/core/config"
	"github.com/fedtoken/fedtoken/core/login"
	"github.com/fedtoken/fedtoken/core/oauth"
	"github.com/fedtoken/fedtoken/core/subject"
)

// Provider is a cached, self-refreshing token source for one configured
// provider. It is safe for concurrent use.
type Provider struct {
	cfg     config.Provider
	subject subject.Source // nil for flows that present no platform JWT
	grant   oauth.TokenSource
	cache   *cache.Source
	store   cache.Store
	key     string
	login   func(login.UI) oauth.TokenSource // nil for machine flows
}

var _ oauth.TokenSource = (*Provider)(nil)

// Event describes one acquisition (see WithObserver).
type Event struct {
	// Provider is the provider id, Grant its authFlow.
	Provider, Grant string
	// Background is true for a refresh started by Run ahead of expiry.
	Background bool
	// FromStore is true when another process had just obtained the token
	// and no IdP request was made.
	FromStore bool
	// Renewed is true when a refresh token was used.
	Renewed bool
	// Duration of the acquisition, lock wait included.
	Duration time.Duration
	// Token is the new token (nil on failure); do not modify it.
	Token *oauth2.Token
	// Err is why the acquisition failed.
	Err error
	// StoreErr reports a token cache (Store) failure the acquisition
	// survived: the token was obtained but not cached, so every run goes
	// to the IdP until the cache directory is fixed.
	StoreErr error
}

// New wires p (as returned by the config package, defaults applied) into a
// Provider. It does no network I/O: discovery and the first token request
// happen on the first TokenContext.
func New(p config.Provider, opts ...Option) (*Provider, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	where := fmt.Sprintf("provider %q", p.ID)
	hc := o.httpClient
	if hc == nil {
		var err error
		hc, err = oauth.NewHTTPClient(oauth.HTTPConfig{CAFile: p.CAFile, Timeout: p.HTTPTimeout})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
	}
	for _, u := range []struct{ field, url string }{
		{"issuer", p.Issuer}, {"tokenEndpoint", p.TokenEndpoint},
		{"authorizationEndpoint", p.AuthorizationEndpoint}, {"deviceAuthorizationEndpoint", p.DeviceAuthorizationEndpoint},
	} {
		if u.url == "" {
			continue
		}
		if err := oauth.CheckEndpointURL(u.url, p.AllowInsecureHTTP); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", where, u.field, err)
		}
	}

	w, err := wire(p, hc, o)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	pr := &Provider{cfg: p, subject: w.subject, grant: w.grant, store: o.store, key: CacheKey(p), login: w.login}

	copts := []cache.Option{cache.WithSkew(p.TokenExpirySkew)}
	if o.store != nil {
		copts = append(copts, cache.WithStore(o.store, pr.key))
		if id := identity(w.subject, w.actor); id != nil {
			copts = append(copts, cache.WithIdentity(id))
		}
	}
	if o.observe != nil {
		observe, id, flow := o.observe, p.ID, string(p.AuthFlow)
		copts = append(copts, cache.WithObserver(func(e cache.Event) {
			observe(Event{Provider: id, Grant: flow, Background: e.Background, FromStore: e.FromStore,
				Renewed: e.Renewed, Duration: e.Duration, Token: e.Token, Err: e.Err, StoreErr: e.StoreErr})
		}))
	}
	pr.cache = cache.New(w.grant, append(copts, o.cacheOpts...)...)
	return pr, nil
}

// ID is the provider id.
func (p *Provider) ID() string { return p.cfg.ID }

// Config returns the provider's configuration.
func (p *Provider) Config() config.Provider { return p.cfg }

// Subject is where the platform JWT is read from, or nil when the flow
// presents none (interactive flows, client secret).
func (p *Provider) Subject() subject.Source { return p.subject }

// CacheKey is the key under which the provider's tokens are stored.
func (p *Provider) CacheKey() string { return p.key }

// Token returns a valid access token; see TokenContext.
func (p *Provider) Token() (*oauth2.Token, error) { return p.cache.Token() }

// TokenContext returns a valid access token: the cached one while it is
// fresh (no I/O, no lock), else one obtained from the IdP — the subject
// token re-read, discovery done once per issuer. Concurrent callers share
// one acquisition. The returned token is shared: never modify it.
func (p *Provider) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	return p.cache.TokenContext(ctx)
}

// Peek returns the cached token without any I/O, and whether it is still
// fresh.
func (p *Provider) Peek() (*oauth2.Token, bool) { return p.cache.Peek() }

// Refresh obtains a new token from the IdP now, whatever is cached.
func (p *Provider) Refresh(ctx context.Context) (*oauth2.Token, error) {
	return p.cache.Refresh(ctx)
}

// Invalidate drops tok if it is still the cached token, e.g. after the API
// answered 401 with it. The next TokenContext acquires a new one.
func (p *Provider) Invalidate(tok *oauth2.Token) { p.cache.Invalidate(tok) }

// Run refreshes the token ahead of its expiry until ctx is done, keeping
// the current token in service while a refresh fails. It returns ctx.Err().
func (p *Provider) Run(ctx context.Context) error { return p.cache.Run(ctx) }

// Store saves tok (for example the result of an interactive login) where
// the provider will find it; it needs WithStore.
func (p *Provider) Store(ctx context.Context, tok *oauth2.Token) error {
	if p.store == nil {
		return fmt.Errorf("provider %q: no token store configured", p.cfg.ID)
	}
	if err := p.store.Save(ctx, p.key, tok); err != nil {
		return fmt.Errorf("provider %q: save token: %w", p.cfg.ID, err)
	}
	p.cache.Reset() // a login has just succeeded: no cool-down
	if cur, ok := p.cache.Peek(); ok || cur != nil {
		p.cache.Invalidate(cur)
	}
	return nil
}

// Forget deletes the provider's stored token (logout) and drops the cached one.
func (p *Provider) Forget(ctx context.Context) error {
	p.cache.Reset()
	if cur, _ := p.cache.Peek(); cur != nil {
		p.cache.Invalidate(cur)
	}
	if p.store == nil {
		return nil
	}
	if err := p.store.Delete(ctx, p.key); err != nil {
		return fmt.Errorf("provider %q: delete token: %w", p.cfg.ID, err)
	}
	return nil
}

// Transport returns a RoundTripper that sets "Authorization: Bearer <token>"
// on every request, replacing any the caller set. base nil means
// http.DefaultTransport.
func (p *Provider) Transport(base http.RoundTripper) http.RoundTripper {
	return &oauth.Transport{Source: p, Base: base}
}
