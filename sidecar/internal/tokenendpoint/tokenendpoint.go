// Package tokenendpoint serves the current access token of each provider
// as JSON at GET /v1/token/{provider}, for apps that fetch a bearer token
// themselves. Like a cloud metadata server it answers only requests that
// carry a fixed header, so a server-side request forgery bug in the app
// (which can choose a URL but not headers) cannot read the token.
package tokenendpoint

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/fedtoken/fedtoken/core/oauth"
)

// Header must be present with value HeaderValue on every request.
const (
	Header      = "Fedtoken-Request"
	HeaderValue = "true"
)

// Pattern is the http.ServeMux pattern the handler is meant to be
// registered under; the handler reads the {provider} path value.
const Pattern = "GET /v1/token/{provider}"

// Source is what the endpoint needs from a token provider.
type Source interface {
	TokenContext(ctx context.Context) (*oauth2.Token, error)
}

// Response is the JSON body of a successful answer.
type Response struct {
	AccessToken string `json:"access_token"`
	// TokenType is the Authorization scheme to send the token with
	// (core's oauth.AuthScheme: Bearer for the IdP's "bearer" and for an
	// RFC 8693 "N_A").
	TokenType string `json:"token_type"`
	// ExpiresIn is the number of whole seconds the token stays valid;
	// omitted when the IdP gave no expiry.
	ExpiresIn int64 `json:"expires_in,omitempty"`
}

// Handler serves tokens; build it with New.
type Handler struct {
	sources map[string]Source
	now     func() time.Time
	timeout time.Duration
	logger  *slog.Logger
}

// Option configures a Handler.
type Option interface{ apply(*Handler) }

type optionFunc func(*Handler)

func (f optionFunc) apply(h *Handler) { f(h) }

// WithClock sets the clock used for expires_in.
func WithClock(now func() time.Time) Option { return optionFunc(func(h *Handler) { h.now = now }) }

// WithTimeout bounds a token acquisition made for one request (default 30s).
func WithTimeout(d time.Duration) Option { return optionFunc(func(h *Handler) { h.timeout = d }) }

// WithLogger logs refused requests and failures (never a token).
func WithLogger(l *slog.Logger) Option { return optionFunc(func(h *Handler) { h.logger = l }) }

// New serves the given providers, keyed by provider id.
func New(sources map[string]Source, opts ...Option) *Handler {
	h := &Handler{sources: sources, now: time.Now, timeout: 30 * time.Second, logger: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o.apply(h)
	}
	return h
}

// ServeHTTP answers GET /v1/token/{provider}.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	if r.Header.Get(Header) != HeaderValue {
		h.fail(w, r, http.StatusForbidden, "missing request header "+Header+": "+HeaderValue)
		return
	}
	if len(r.Header.Values("X-Forwarded-For")) > 0 || len(r.Header.Values("Forwarded")) > 0 {
		// A request relayed by a proxy did not come from the app itself.
		h.fail(w, r, http.StatusForbidden, "forwarded requests are refused")
		return
	}
	id := r.PathValue("provider")
	src, ok := h.sources[id]
	if !ok {
		h.fail(w, r, http.StatusNotFound, "no provider "+quote(id)+"; serving: "+h.ids())
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.timeout)
	defer cancel()
	tok, err := src.TokenContext(ctx)
	if err != nil {
		h.logger.LogAttrs(r.Context(), slog.LevelWarn, "token endpoint: no token", slog.String("provider", id), slog.Any("err", err))
		h.fail(w, r, http.StatusServiceUnavailable, "provider "+quote(id)+": "+err.Error())
		return
	}
	resp := Response{AccessToken: tok.AccessToken, TokenType: oauth.AuthScheme(tok)}
	if !tok.Expiry.IsZero() {
		resp.ExpiresIn = max(int64(tok.Expiry.Sub(h.now())/time.Second), 0)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	if status != http.StatusServiceUnavailable {
		h.logger.LogAttrs(r.Context(), slog.LevelWarn, "token endpoint: request refused",
			slog.String("path", r.URL.Path), slog.Int("status", status), slog.String("reason", msg))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

func (h *Handler) ids() string {
	ids := make([]string, 0, len(h.sources))
	for id := range h.sources {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return strings.Join(ids, ", ")
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
