// Package metrics defines the sidecar's Prometheus metrics on a registry
// the caller provides (never the global one).
package metrics

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/fedtoken/fedtoken/core/oauth"
)

// Metrics records what the sidecar does. Its methods are safe for
// concurrent use.
type Metrics struct {
	gatherer prometheus.Gatherer

	acquisitions    *prometheus.CounterVec
	acquireSeconds  *prometheus.HistogramVec
	refreshFailures *prometheus.CounterVec
	proxyRequests   *prometheus.CounterVec
	proxySeconds    *prometheus.HistogramVec
	proxyRetries    *prometheus.CounterVec
	sinkWrites      *prometheus.CounterVec
	expiry          *expiryCollector
}

// New registers the sidecar's metrics on reg, which also serves them.
func New(reg *prometheus.Registry) (*Metrics, error) {
	m := &Metrics{
		gatherer: reg,
		acquisitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fedtoken_token_acquisitions_total",
			Help: "Access-token acquisitions from the IdP, by provider, grant and result (success or error).",
		}, []string{"provider", "grant", "result"}),
		acquireSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "fedtoken_token_acquisition_duration_seconds",
			Help:    "Time taken by access-token acquisitions, by provider.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"provider"}),
		refreshFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fedtoken_token_refresh_failures_total",
			Help: "Failed access-token acquisitions, by provider and reason (the OAuth error code, or \"error\").",
		}, []string{"provider", "reason"}),
		proxyRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fedtoken_proxy_requests_total",
			Help: "Requests answered by the auth-injecting proxy, by provider and HTTP status code.",
		}, []string{"provider", "code"}),
		proxySeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "fedtoken_proxy_request_duration_seconds",
			Help:    "Time from request to the end of the response (streams included), by provider.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300},
		}, []string{"provider"}),
		proxyRetries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fedtoken_proxy_retries_total",
			Help: "Requests retried with a new token after the upstream answered 401, by provider.",
		}, []string{"provider"}),
		sinkWrites: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fedtoken_sink_writes_total",
			Help: "Token file writes, by provider and result (success or error).",
		}, []string{"provider", "result"}),
		expiry: &expiryCollector{now: time.Now},
	}
	for _, c := range []prometheus.Collector{m.acquisitions, m.acquireSeconds, m.refreshFailures, m.proxyRequests, m.proxySeconds, m.proxyRetries, m.sinkWrites, m.expiry} {
		if err := reg.Register(c); err != nil {
			return nil, errors.Join(errors.New("metrics: register"), err)
		}
	}
	return m, nil
}

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.gatherer, promhttp.HandlerOpts{})
}

// ObserveAcquisition records one acquisition from the IdP.
func (m *Metrics) ObserveAcquisition(provider, grant string, d time.Duration, err error) {
	m.acquireSeconds.WithLabelValues(provider).Observe(d.Seconds())
	if err == nil {
		m.acquisitions.WithLabelValues(provider, grant, "success").Inc()
		return
	}
	m.acquisitions.WithLabelValues(provider, grant, "error").Inc()
	reason := "error"
	var oe *oauth.Error
	if errors.As(err, &oe) && oe.Code != "" && len(oe.Code) <= 64 {
		reason = oe.Code
	}
	m.refreshFailures.WithLabelValues(provider, reason).Inc()
}

// ObserveProxy records one proxied request.
func (m *Metrics) ObserveProxy(provider string, status int, d time.Duration) {
	m.ForProxy(provider).Observe(status, d)
}

// ProxyObserver records the proxied requests of one provider: what
// ObserveProxy does, without the label lookups on every request (the
// duration histogram is resolved once, the counter once per status code).
type ProxyObserver struct {
	seconds prometheus.Observer
	m       *Metrics
	id      string
	codes   sync.Map // int → prometheus.Counter
}

// ForProxy returns the ProxyObserver of provider.
func (m *Metrics) ForProxy(provider string) *ProxyObserver {
	return &ProxyObserver{seconds: m.proxySeconds.WithLabelValues(provider), m: m, id: provider}
}

// Observe records one request answered with status after d.
func (o *ProxyObserver) Observe(status int, d time.Duration) {
	c, ok := o.codes.Load(status)
	if !ok {
		c, _ = o.codes.LoadOrStore(status, o.m.proxyRequests.WithLabelValues(o.id, strconv.Itoa(status)))
	}
	c.(prometheus.Counter).Inc()
	o.seconds.Observe(d.Seconds())
}

// ObserveRetry records a retry after an upstream 401.
func (m *Metrics) ObserveRetry(provider string) {
	m.proxyRetries.WithLabelValues(provider).Inc()
}

// ObserveSinkWrite records a token file write.
func (m *Metrics) ObserveSinkWrite(provider string, err error) {
	result := "success"
	if err != nil {
		result = "error"
	}
	m.sinkWrites.WithLabelValues(provider, result).Inc()
}

// Expiry says, at scrape time, when a provider's tokens expire.
type Expiry struct {
	// Provider is the provider id (the "provider" label).
	Provider string
	// AccessToken returns the cached access token's expiry; ok false when
	// there is no token or it has no expiry. It must not do I/O.
	AccessToken func() (exp time.Time, ok bool)
	// SubjectToken, optional, returns the platform JWT's "exp" (for a
	// projected ServiceAccount token: a small file read).
	SubjectToken func(ctx context.Context) (time.Time, error)
}

// WatchExpiry adds a provider to the two expiry gauges,
// fedtoken_access_token_expiry_seconds and
// fedtoken_subject_token_expiry_seconds, computed at each scrape.
func (m *Metrics) WatchExpiry(e Expiry) {
	m.expiry.mu.Lock()
	defer m.expiry.mu.Unlock()
	m.expiry.providers = append(m.expiry.providers, e)
}

// SetClock replaces the clock of the expiry gauges (tests).
func (m *Metrics) SetClock(now func() time.Time) {
	m.expiry.mu.Lock()
	defer m.expiry.mu.Unlock()
	m.expiry.now = now
}

var (
	accessExpiryDesc = prometheus.NewDesc("fedtoken_access_token_expiry_seconds",
		"Seconds until the cached access token expires (negative once expired), by provider.", []string{"provider"}, nil)
	subjectExpiryDesc = prometheus.NewDesc("fedtoken_subject_token_expiry_seconds",
		"Seconds until the platform JWT (e.g. the projected ServiceAccount token) expires, by provider.", []string{"provider"}, nil)
)

// subjectReadTimeout bounds one subject-token read during a scrape.
const subjectReadTimeout = 2 * time.Second

// expiryCollector computes the expiry gauges at scrape time.
type expiryCollector struct {
	mu        sync.Mutex
	now       func() time.Time
	providers []Expiry
}

// Describe implements prometheus.Collector.
func (c *expiryCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- accessExpiryDesc
	ch <- subjectExpiryDesc
}

// Collect implements prometheus.Collector: one sample per provider and
// gauge, computed now.
func (c *expiryCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	providers, now := append([]Expiry(nil), c.providers...), c.now()
	c.mu.Unlock()
	for _, p := range providers {
		if p.AccessToken != nil {
			if exp, ok := p.AccessToken(); ok {
				ch <- prometheus.MustNewConstMetric(accessExpiryDesc, prometheus.GaugeValue, exp.Sub(now).Seconds(), p.Provider)
			}
		}
		if p.SubjectToken != nil {
			ctx, cancel := context.WithTimeout(context.Background(), subjectReadTimeout)
			exp, err := p.SubjectToken(ctx)
			cancel()
			if err == nil && !exp.IsZero() {
				ch <- prometheus.MustNewConstMetric(subjectExpiryDesc, prometheus.GaugeValue, exp.Sub(now).Seconds(), p.Provider)
			}
		}
	}
}
