package server

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/fedtoken/fedtoken/sidecar/internal/metrics"
	"github.com/fedtoken/fedtoken/sidecar/internal/proxy"
	"github.com/fedtoken/fedtoken/sidecar/internal/tokenendpoint"
)

// adminHandler serves the admin listener.
func (s *Server) adminHandler() http.Handler {
	mux := s.healthMux()
	if s.o.tokenEndpoint {
		sources := make(map[string]tokenendpoint.Source, len(s.providers))
		for _, p := range s.providers {
			sources[p.ID] = p.Source
		}
		mux.Handle(tokenendpoint.Pattern, tokenendpoint.New(sources, tokenendpoint.WithLogger(s.logger)))
	}
	mux.HandleFunc("POST /quitquitquit", s.quitHandler)
	mux.HandleFunc("POST /refresh", s.refreshHandler)
	return mux
}

// healthMux serves /healthz, /readyz and /metrics: nothing secret.
func (s *Server) healthMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", s.metrics.Handler())
	return mux
}

// readyz answers 200 when every required provider holds a valid token,
// else 503; the body says, per provider, why.
func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	var b strings.Builder
	ready := true
	if s.draining.Load() {
		ready = false
		b.WriteString("shutting down\n")
	}
	now := s.o.now()
	for _, p := range s.providers {
		tok, ok := s.ready(p)
		note := ""
		if !p.Required {
			note = " (not required)"
		}
		switch {
		case ok && tok.Expiry.IsZero():
			fmt.Fprintf(&b, "%s: ok%s\n", p.ID, note)
		case ok:
			fmt.Fprintf(&b, "%s: ok, expires in %ds%s\n", p.ID, int64(tok.Expiry.Sub(now)/time.Second), note)
		default:
			fmt.Fprintf(&b, "%s: no valid token%s\n", p.ID, note)
			if p.Required {
				ready = false
			}
		}
	}
	for _, t := range s.o.tasks {
		if t.Ready == nil {
			continue
		}
		ok, note := t.Ready()
		fmt.Fprintf(&b, "%s: %s\n", t.Name, note)
		ready = ready && ok
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if !ready {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	fmt.Fprint(w, b.String())
}

// quitHandler starts a graceful shutdown (POST /quitquitquit), for Jobs on
// clusters without native sidecars. Like the token endpoint it requires the
// Fedtoken-Request header.
func (s *Server) quitHandler(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get(tokenendpoint.Header) != tokenendpoint.HeaderValue {
		http.Error(w, "missing request header "+tokenendpoint.Header+": "+tokenendpoint.HeaderValue, http.StatusForbidden)
		return
	}
	s.logger.Info("quit requested", slog.String("via", "POST /quitquitquit"))
	s.Quit()
	fmt.Fprintln(w, "shutting down")
}

// proxyHandler builds provider p's proxy, instrumented.
func (s *Server) proxyHandler(p Provider) (http.Handler, error) {
	opts := append([]proxy.Option{
		proxy.WithLogger(s.logger.With(slog.String("provider", p.ID))),
		proxy.WithRetryHook(func() { s.metrics.ObserveRetry(p.ID) }),
	}, p.Proxy.Options...)
	h, err := proxy.New(p.Proxy.Upstream, p.Source, opts...)
	if err != nil {
		return nil, fmt.Errorf("provider %q: %w", p.ID, err)
	}
	return instrument(p.ID, s.metrics, s.logger, h), nil
}

// statusClientClosed is recorded when the client went away before any
// response was written (nginx's 499).
const statusClientClosed = 499

// instrument records status and latency of every proxied request.
func instrument(id string, m *metrics.Metrics, logger *slog.Logger, next http.Handler) http.Handler {
	obs := m.ForProxy(id)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		status := sw.code
		switch {
		case status == 0 && r.Context().Err() != nil:
			status = statusClientClosed
		case status == 0:
			status = http.StatusOK
		}
		d := time.Since(start)
		obs.Observe(status, d)
		if logger.Enabled(r.Context(), slog.LevelDebug) {
			logger.LogAttrs(r.Context(), slog.LevelDebug, "proxied",
				slog.String("provider", id), slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.Int("status", status), slog.Duration("duration", d))
		}
	})
}

// statusWriter remembers the final status. Unwrap lets
// http.ResponseController (which the reverse proxy uses to flush each
// streamed chunk) reach the underlying writer.
type statusWriter struct {
	http.ResponseWriter
	code int
}

// WriteHeader records the first final status (1xx are informational).
func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 && code >= 200 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write records an implicit 200.
func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush sends buffered data to the client.
func (w *statusWriter) Flush() { _ = http.NewResponseController(w.ResponseWriter).Flush() }

// Unwrap returns the underlying writer, for http.ResponseController.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
