package proxy

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"time"
)

// Defaults for the limits a Handler applies when no option overrides them.
const (
	DefaultMaxRequestBody        = 32 << 20 // 32 MiB
	DefaultRetryBuffer           = 1 << 20  // 1 MiB
	DefaultResponseHeaderTimeout = 5 * time.Minute
	DefaultDialTimeout           = 10 * time.Second
	// DefaultBufferBudget bounds the memory all in-flight retry buffers
	// of one Handler hold together.
	DefaultBufferBudget = 8 << 20 // 8 MiB
	// DefaultBodyReadTimeout bounds the reading of a body being buffered.
	DefaultBodyReadTimeout = 30 * time.Second
)

// Handler forwards every request to one upstream URL with a fresh access
// token. Build it with New.
type Handler struct {
	upstream    *url.URL
	maxBody     int64
	retryBuffer int64
	budget      *budget
	bodyTimeout time.Duration
	logger      *slog.Logger
	rp          *httputil.ReverseProxy
}

// Option configures a Handler.
type Option interface{ apply(*options) }

type options struct {
	base                  http.RoundTripper
	tlsConfig             *tls.Config
	maxBody               int64
	retryBuffer           int64
	bufferBudget          int64
	bodyReadTimeout       time.Duration
	responseHeaderTimeout time.Duration
	dialTimeout           time.Duration
	logger                *slog.Logger
	onRetry               func()
	modifyResponse        func(*http.Response) error
}

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

// WithBaseTransport sends upstream requests through rt instead of the
// Handler's own http.Transport (custom TLS roots, tests). The timeout
// options do not apply to rt.
func WithBaseTransport(rt http.RoundTripper) Option {
	return optionFunc(func(o *options) { o.base = rt })
}

// WithTLSConfig sets the TLS configuration towards the upstream (custom
// root CAs); nil means the system defaults.
func WithTLSConfig(c *tls.Config) Option {
	return optionFunc(func(o *options) { o.tlsConfig = c })
}

// WithMaxRequestBody caps request bodies at n bytes (413 beyond);
// n <= 0 removes the cap. Default DefaultMaxRequestBody.
func WithMaxRequestBody(n int64) Option {
	return optionFunc(func(o *options) { o.maxBody = n })
}

// WithRetryBuffer sets how many bytes of a request body are kept in
// memory so the request can be replayed after a 401. Larger bodies are
// streamed and not retried; 0 disables replay of requests with a body.
// Default DefaultRetryBuffer.
func WithRetryBuffer(n int64) Option {
	return optionFunc(func(o *options) { o.retryBuffer = n })
}

// WithBufferBudget bounds the bytes that the retry buffers of all
// in-flight requests hold together (default DefaultBufferBudget). A request
// whose buffer does not fit streams through unbuffered, without a retry
// after 401, so slow clients cannot grow the sidecar's memory.
func WithBufferBudget(n int64) Option {
	return optionFunc(func(o *options) { o.bufferBudget = n })
}

// WithBodyReadTimeout bounds how long the client may take to send a body
// that is being buffered for a retry (default DefaultBodyReadTimeout);
// after it the client gets 408. Bodies that stream are not bounded.
func WithBodyReadTimeout(d time.Duration) Option {
	return optionFunc(func(o *options) { o.bodyReadTimeout = d })
}

// WithResponseHeaderTimeout bounds the wait for the upstream's response
// headers (not the body: streams may run for as long as they need).
// Default DefaultResponseHeaderTimeout.
func WithResponseHeaderTimeout(d time.Duration) Option {
	return optionFunc(func(o *options) { o.responseHeaderTimeout = d })
}

// WithDialTimeout bounds TCP connection set-up to the upstream. Default
// DefaultDialTimeout.
func WithDialTimeout(d time.Duration) Option {
	return optionFunc(func(o *options) { o.dialTimeout = d })
}

// WithLogger logs proxy errors to l (never a header or a token).
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(o *options) { o.logger = l })
}

// WithRetryHook calls f before each retry after an upstream 401.
func WithRetryHook(f func()) Option {
	return optionFunc(func(o *options) { o.onRetry = f })
}

// WithModifyResponse runs f on every upstream response before it is
// copied to the client (httputil.ReverseProxy.ModifyResponse), e.g.
// responsesrepair.ModifyResponse for a gateway with responseApi.
func WithModifyResponse(f func(*http.Response) error) Option {
	return optionFunc(func(o *options) { o.modifyResponse = f })
}

// New returns a Handler that forwards to upstream (scheme, host and base
// path; the request path is appended to it) with tokens from src.
func New(upstream *url.URL, src TokenSource, opts ...Option) (*Handler, error) {
	if err := ValidateUpstream(upstream); err != nil {
		return nil, err
	}
	if src == nil {
		return nil, errors.New("proxy: nil token source")
	}
	o := options{
		maxBody:               DefaultMaxRequestBody,
		retryBuffer:           DefaultRetryBuffer,
		bufferBudget:          DefaultBufferBudget,
		bodyReadTimeout:       DefaultBodyReadTimeout,
		responseHeaderTimeout: DefaultResponseHeaderTimeout,
		dialTimeout:           DefaultDialTimeout,
		logger:                slog.New(slog.DiscardHandler),
	}
	for _, opt := range opts {
		opt.apply(&o)
	}
	base := o.base
	if base == nil {
		base = NewBaseTransport(o.dialTimeout, o.responseHeaderTimeout, o.tlsConfig)
	}
	h := &Handler{
		upstream:    upstream,
		maxBody:     o.maxBody,
		retryBuffer: o.retryBuffer,
		budget:      &budget{limit: o.bufferBudget},
		bodyTimeout: o.bodyReadTimeout,
		logger:      o.logger,
	}
	target := *upstream
	h.rp = &httputil.ReverseProxy{
		// Rewrite (unlike Director) starts from a request already stripped
		// of hop-by-hop and X-Forwarded-* headers, and SetURL also sets
		// the outbound Host to the upstream's, whatever the client sent.
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(&target)
			pr.Out.Header.Del("Authorization")
		},
		Transport: &Transport{Source: src, Base: base, OnRetry: o.onRetry, ownsRequests: true},
		// 0, not -1: ReverseProxy flushes event streams (text/event-stream)
		// and bodies of unknown length after every write whatever this
		// says, so SSE and chunked streams pass through at once; a body of
		// known length is written without a flush per write (-1 flushed
		// headers and body separately: a third more writes per request).
		FlushInterval: 0,
		BufferPool:    copyBuffers,
		ErrorHandler:  h.proxyError,
	}
	h.rp.ModifyResponse = o.modifyResponse
	return h, nil
}

// copyBuffers is shared by every Handler of the process: a sidecar with
// several providers keeps one set of idle buffers, not one per provider.
var copyBuffers = &BufferPool{}

// ValidateUpstream checks that u can be an upstream: absolute http(s),
// with a host, and no userinfo, query or fragment.
func ValidateUpstream(u *url.URL) error {
	switch {
	case u == nil:
		return errors.New("proxy: no upstream URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("proxy: upstream %q: scheme must be http or https", redactURL(u))
	case u.Host == "":
		return fmt.Errorf("proxy: upstream %q: no host", redactURL(u))
	case u.User != nil:
		return fmt.Errorf("proxy: upstream %q: remove the userinfo; the sidecar adds the credentials", redactURL(u))
	case u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("proxy: upstream %q: remove the query and fragment", redactURL(u))
	}
	return nil
}

// NewBaseTransport returns the http.Transport a Handler sends upstream
// requests through (unless WithBaseTransport replaces it): dial is the TCP
// and TLS set-up timeout, header the response header timeout.
func NewBaseTransport(dial, header time.Duration, tlsConfig *tls.Config) *http.Transport {
	return &http.Transport{
		TLSClientConfig:       tlsConfig,
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: dial, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   dial,
		ExpectContinueTimeout: time.Second,
		ResponseHeaderTimeout: header,
		// Pass the upstream's bytes through untouched: transparent
		// decompression would buffer SSE streams.
		DisableCompression: true,
	}
}

// ServeHTTP refuses proxy-style requests, bounds and (when small enough)
// buffers the body for a retry, then forwards the request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodConnect:
		h.refuse(w, r, http.StatusMethodNotAllowed, "CONNECT is not supported: this is not a forward proxy")
		return
	case http.MethodTrace, "TRACK":
		// The upstream would echo the request, injected bearer included.
		h.refuse(w, r, http.StatusMethodNotAllowed, r.Method+" is not forwarded: the answer would echo the access token")
		return
	}
	if !strings.HasPrefix(r.RequestURI, "/") {
		// Absolute-form ("GET http://elsewhere/ HTTP/1.1") and asterisk-form
		// targets name a destination; this proxy has exactly one.
		h.refuse(w, r, http.StatusBadRequest, "send a path (origin-form request target); this proxy forwards only to its configured upstream")
		return
	}
	if msg := dotSegments(r.URL); msg != "" {
		h.refuse(w, r, http.StatusBadRequest, msg)
		return
	}
	if h.maxBody > 0 && r.ContentLength > h.maxBody {
		h.refuse(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than %d bytes", h.maxBody))
		return
	}
	if r.Body != nil && r.Body != http.NoBody {
		if h.maxBody > 0 && r.ContentLength < 0 {
			// A declared length was checked above, and the server never
			// reads past it; only a body of unknown length needs the cap.
			r.Body = http.MaxBytesReader(w, r.Body, h.maxBody)
		}
		reserved, err := h.buffer(w, r)
		defer h.budget.give(reserved)
		if err != nil {
			h.proxyError(w, r, err)
			return
		}
		if r.GetBody == nil && r.Body != http.NoBody {
			// Streamed, not buffered: remember its read errors, so that a
			// forward that fails because of the client is answered as such.
			r.Body = &clientBody{ReadCloser: r.Body}
		}
	}
	h.rp.ServeHTTP(w, r)
}

func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, status int, msg string) {
	h.logger.LogAttrs(r.Context(), slog.LevelWarn, "proxy request refused",
		slog.String("method", r.Method), slog.Int("status", status), slog.String("reason", msg))
	http.Error(w, "fedtoken-sidecar: "+msg, status)
}

// proxyError maps a failed forward to a status; the message names the
// cause but never a header or token.
func (h *Handler) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusBadGateway
	var tokErr *TokenError
	var maxErr *http.MaxBytesError
	var netErr net.Error
	var bodyErr *BodyError
	if cb, ok := r.Body.(*clientBody); ok && cb.err != nil && !errors.As(err, &maxErr) && !errors.As(err, &bodyErr) {
		// The transport failed because the client's body did.
		err = &BodyError{Err: cb.err}
	}
	switch {
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		// The client went away; nobody reads the answer.
		h.logger.LogAttrs(r.Context(), slog.LevelDebug, "proxy request canceled by client", slog.String("path", r.URL.Path))
		return
	case errors.As(err, &tokErr):
		status = http.StatusServiceUnavailable
	case errors.As(err, &maxErr):
		status = http.StatusRequestEntityTooLarge
	case errors.As(err, &bodyErr) && errors.As(err, &netErr) && netErr.Timeout():
		status = http.StatusRequestTimeout
		// The rest of the body is not read (the server would wait for it
		// before answering): close the connection after the answer.
		w.Header().Set("Connection", "close")
	case errors.As(err, &bodyErr):
		status = http.StatusBadRequest
		w.Header().Set("Connection", "close")
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		status = http.StatusGatewayTimeout
	}
	h.logger.LogAttrs(r.Context(), slog.LevelWarn, "proxy error",
		slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", status), slog.Any("err", err))
	http.Error(w, "fedtoken-sidecar: "+err.Error(), status)
}
