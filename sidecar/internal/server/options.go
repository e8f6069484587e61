package server

import (
	"context"
	"log/slog"
	"time"

	"github.com/fedtoken/fedtoken/sidecar/internal/metrics"
)

// Defaults of the options.
const (
	DefaultAdminAddr        = "127.0.0.1:9901"
	DefaultShutdownTimeout  = 25 * time.Second
	DefaultQuitFileInterval = time.Second
)

// Option configures a Server.
type Option interface{ apply(*options) }

type options struct {
	adminAddr        string
	healthAddr       string
	tokenEndpoint    bool
	logger           *slog.Logger
	metrics          *metrics.Metrics
	quitFile         string
	quitFileInterval time.Duration
	shutdownTimeout  time.Duration
	shutdownDelay    time.Duration
	sinkInterval     time.Duration
	backoffMin       time.Duration
	backoffMax       time.Duration
	now              func() time.Time
	allowedHosts     []string
	maxConns         int
	tasks            []Task
}

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

// WithAdminAddr sets the admin listener's address (token endpoint,
// /healthz, /readyz, /metrics, /quitquitquit); "" disables it. Default
// DefaultAdminAddr: loopback, so only containers of the pod reach it.
func WithAdminAddr(addr string) Option { return optionFunc(func(o *options) { o.adminAddr = addr }) }

// WithHealthAddr enables a second listener serving only /healthz, /readyz
// and /metrics, e.g. ":9902" so the kubelet's probes (which come from the
// node, not from loopback) and Prometheus reach them. Default off.
func WithHealthAddr(addr string) Option { return optionFunc(func(o *options) { o.healthAddr = addr }) }

// WithTokenEndpoint turns the admin listener's GET /v1/token/{provider}
// on or off (default on).
func WithTokenEndpoint(on bool) Option { return optionFunc(func(o *options) { o.tokenEndpoint = on }) }

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return optionFunc(func(o *options) { o.logger = l }) }

// WithMetrics records into m (default: metrics on a private registry).
func WithMetrics(m *metrics.Metrics) Option { return optionFunc(func(o *options) { o.metrics = m }) }

// WithQuitFile makes Run shut down once path exists — the fallback for
// clusters without native sidecars: the main container creates the file
// on a shared emptyDir when it is done.
func WithQuitFile(path string) Option { return optionFunc(func(o *options) { o.quitFile = path }) }

// WithQuitFileInterval sets how often the quit file is looked for
// (default DefaultQuitFileInterval).
func WithQuitFileInterval(d time.Duration) Option {
	return optionFunc(func(o *options) { o.quitFileInterval = d })
}

// WithShutdownTimeout bounds the drain of in-flight requests at shutdown;
// connections still open after it are closed. Keep it below the pod's
// terminationGracePeriodSeconds. Default DefaultShutdownTimeout.
func WithShutdownTimeout(d time.Duration) Option {
	return optionFunc(func(o *options) { o.shutdownTimeout = d })
}

// WithShutdownDelay keeps accepting requests for d after the shutdown
// signal (while /readyz already fails), for a plain (non-native) sidecar
// whose app is still finishing its own requests. Default 0.
func WithShutdownDelay(d time.Duration) Option {
	return optionFunc(func(o *options) { o.shutdownDelay = d })
}

// WithSinkInterval sets how often file sinks look for a new token
// (default sink.DefaultInterval).
func WithSinkInterval(d time.Duration) Option {
	return optionFunc(func(o *options) { o.sinkInterval = d })
}

// WithRetryBackoff sets the capped exponential backoff between attempts
// to obtain the first token of a provider that has no refresher of its
// own (default 1s to 30s).
func WithRetryBackoff(first, limit time.Duration) Option {
	return optionFunc(func(o *options) { o.backoffMin, o.backoffMax = first, limit })
}

// WithClock sets the clock used for readiness.
func WithClock(now func() time.Time) Option { return optionFunc(func(o *options) { o.now = now }) }

// WithAllowedHosts adds names that requests may carry in their Host
// header, e.g. a Service name when other pods reach the proxy. Loopback
// names (localhost, *.localhost) and IP literals are always accepted; any
// other name is refused with 421 so that a DNS-rebinding page cannot use
// the sidecar.
func WithAllowedHosts(names []string) Option {
	return optionFunc(func(o *options) { o.allowedHosts = append(o.allowedHosts, names...) })
}

// WithMaxConnections caps the open connections of each listener (default
// DefaultMaxConnections); beyond it new connections wait in the kernel's
// backlog until one closes. n <= 0 removes the cap.
func WithMaxConnections(n int) Option {
	return optionFunc(func(o *options) { o.maxConns = n })
}

// Task is background work the server runs next to its providers (e.g. the
// opencode model sync).
type Task struct {
	// Name labels the task in /readyz and the logs.
	Name string
	// Run works until ctx is done.
	Run func(ctx context.Context) error
	// Ready, optional, reports whether /readyz may succeed, and a note.
	Ready func() (bool, string)
}

// WithTask adds a background task.
func WithTask(t Task) Option {
	return optionFunc(func(o *options) { o.tasks = append(o.tasks, t) })
}
