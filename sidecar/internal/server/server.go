package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/oauth2"

	"github.com/fedtoken/fedtoken/sidecar/internal/metrics"
	"github.com/fedtoken/fedtoken/sidecar/internal/proxy"
	"github.com/fedtoken/fedtoken/sidecar/internal/sink"
)

// TokenSource is what the server needs from a provider's token cache
// (core/provider.Provider satisfies it).
type TokenSource interface {
	// TokenContext returns a valid token, cached or newly acquired.
	TokenContext(ctx context.Context) (*oauth2.Token, error)
	// Peek returns the cached token without I/O, and whether it is fresh.
	Peek() (*oauth2.Token, bool)
	// Invalidate drops tok if it is still current (after an upstream 401).
	Invalidate(tok *oauth2.Token)
}

// Provider is one provider the sidecar serves.
type Provider struct {
	// ID is the provider id (URL path of the token endpoint, metric label).
	ID string
	// Grant is its authFlow, for metric labels.
	Grant string
	// Source provides its tokens. Required.
	Source TokenSource
	// Refresh, optional, keeps Source fresh until its context is done
	// (core's provider.Run). Without it the server acquires the first
	// token itself and later tokens are acquired on demand.
	Refresh func(ctx context.Context) error
	// SubjectExpiry, optional, reads the platform JWT's expiry for the
	// fedtoken_subject_token_expiry_seconds gauge.
	SubjectExpiry func(ctx context.Context) (time.Time, error)
	// Required providers must hold a valid token for /readyz to succeed.
	Required bool
	// Proxy, when set, serves the auth-injecting proxy for this provider.
	Proxy *Proxy
	// FileSink, when set, keeps the access token in this file.
	FileSink *sink.File
}

// Proxy configures one provider's auth-injecting proxy.
type Proxy struct {
	// Listen is the listener address, e.g. "127.0.0.1:8080".
	Listen string
	// Upstream is where requests go (the provider's baseURL).
	Upstream *url.URL
	// Options tune the proxy (body limits, timeouts, transport).
	Options []proxy.Option
}

// Server runs everything the sidecar does. Build it with New, run it once
// with Run.
type Server struct {
	providers []Provider
	o         options
	logger    *slog.Logger
	metrics   *metrics.Metrics

	started  chan struct{}
	addrs    map[string]net.Addr // written before started is closed
	running  atomic.Bool
	draining atomic.Bool
	quit     chan struct{}
	quitOnce sync.Once
}

// New checks the providers and options and returns a Server; it opens no
// listener and makes no request.
func New(providers []Provider, opts ...Option) (*Server, error) {
	o := defaultOptions()
	for _, opt := range opts {
		opt.apply(&o)
	}
	if err := checkProviders(providers, o); err != nil {
		return nil, err
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	m, err := watchExpiry(o.metrics, providers)
	if err != nil {
		return nil, err
	}
	return &Server{
		providers: providers,
		o:         o,
		logger:    o.logger,
		metrics:   m,
		started:   make(chan struct{}),
		addrs:     map[string]net.Addr{},
		quit:      make(chan struct{}),
	}, nil
}

// defaultOptions are New's options before opts apply.
func defaultOptions() options {
	return options{
		adminAddr:        DefaultAdminAddr,
		tokenEndpoint:    true,
		quitFileInterval: DefaultQuitFileInterval,
		shutdownTimeout:  DefaultShutdownTimeout,
		backoffMin:       time.Second,
		backoffMax:       30 * time.Second,
		now:              time.Now,
		maxConns:         DefaultMaxConnections,
	}
}

// checkProviders checks that there is a provider, that each has an id,
// once, and a token source, and that its proxy and file sink are complete
// and no two listeners ask for the same address.
func checkProviders(providers []Provider, o options) error {
	if len(providers) == 0 {
		return errors.New("server: no provider to serve")
	}
	seen := map[string]bool{}
	listens := map[string]string{}
	for name, addr := range map[string]string{"the admin listener": o.adminAddr, "the health listener": o.healthAddr} {
		if addr != "" && !anyPort(addr) {
			listens[addr] = name
		}
	}
	for i, p := range providers {
		switch {
		case p.ID == "":
			return fmt.Errorf("server: provider #%d has no id", i)
		case seen[p.ID]:
			return fmt.Errorf("server: provider %q listed twice", p.ID)
		case p.Source == nil:
			return fmt.Errorf("server: provider %q has no token source", p.ID)
		}
		seen[p.ID] = true
		if p.Proxy != nil {
			if err := checkProxy(p, listens); err != nil {
				return err
			}
		}
		if p.FileSink != nil && p.FileSink.Path == "" {
			return fmt.Errorf("server: provider %q: file sink has no path", p.ID)
		}
	}
	return nil
}

// checkProxy checks p's proxy and records its listen address in listens
// (address → what listens there).
func checkProxy(p Provider, listens map[string]string) error {
	if p.Proxy.Listen == "" {
		return fmt.Errorf("server: provider %q: proxy has no listen address", p.ID)
	}
	if other, dup := listens[p.Proxy.Listen]; dup {
		return fmt.Errorf("server: provider %q: proxy listen address %s is already used by %s", p.ID, p.Proxy.Listen, other)
	}
	if !anyPort(p.Proxy.Listen) {
		listens[p.Proxy.Listen] = fmt.Sprintf("the proxy of provider %q", p.ID)
	}
	if err := proxy.ValidateUpstream(p.Proxy.Upstream); err != nil {
		return fmt.Errorf("server: provider %q: %w", p.ID, err)
	}
	return nil
}

// watchExpiry returns m (a new registry's metrics when nil) watching the
// expiry of every provider's access and subject tokens.
func watchExpiry(m *metrics.Metrics, providers []Provider) (*metrics.Metrics, error) {
	if m == nil {
		var err error
		if m, err = metrics.New(prometheus.NewRegistry()); err != nil {
			return nil, err
		}
	}
	for _, p := range providers {
		src := p.Source
		m.WatchExpiry(metrics.Expiry{
			Provider: p.ID,
			AccessToken: func() (time.Time, bool) {
				tok, _ := src.Peek()
				if tok == nil || tok.Expiry.IsZero() {
					return time.Time{}, false
				}
				return tok.Expiry, true
			},
			SubjectToken: p.SubjectExpiry,
		})
	}
	return m, nil
}

// Started is closed once Run has opened every listener.
func (s *Server) Started() <-chan struct{} { return s.started }

// Addr returns the bound address of a listener once Started is closed:
// "admin", "health", or "proxy/<provider id>"; nil if there is none.
func (s *Server) Addr(name string) net.Addr {
	select {
	case <-s.started:
		return s.addrs[name]
	default:
		return nil
	}
}

// Quit starts a graceful shutdown, as the end of Run's context does.
func (s *Server) Quit() { s.quitOnce.Do(func() { close(s.quit) }) }

// anyPort reports whether addr asks for a free port (":0"), which never
// collides.
func anyPort(addr string) bool {
	_, port, err := net.SplitHostPort(addr)
	return err == nil && port == "0"
}

// ready reports whether p holds a token that has not expired.
func (s *Server) ready(p Provider) (tok *oauth2.Token, ok bool) {
	tok, fresh := p.Source.Peek()
	if tok == nil || tok.AccessToken == "" {
		return nil, false
	}
	return tok, fresh || tok.Expiry.IsZero() || s.o.now().Before(tok.Expiry)
}
