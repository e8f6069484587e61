package app

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"slices"
	"time"

	"github.com/fedtoken/fedtoken/core/cache"
	"github.com/fedtoken/fedtoken/core/config"
	"github.com/fedtoken/fedtoken/core/grant"
	"github.com/fedtoken/fedtoken/core/models"
	"github.com/fedtoken/fedtoken/core/oauth"
	"github.com/fedtoken/fedtoken/core/provider"
	"github.com/fedtoken/fedtoken/core/subject"
	"github.com/fedtoken/fedtoken/sidecar/internal/metrics"
	"github.com/fedtoken/fedtoken/sidecar/internal/opencodeconfig"
	"github.com/fedtoken/fedtoken/sidecar/internal/proxy"
	"github.com/fedtoken/fedtoken/sidecar/internal/responsesrepair"
	"github.com/fedtoken/fedtoken/sidecar/internal/server"
	"github.com/fedtoken/fedtoken/sidecar/internal/settings"
	"github.com/fedtoken/fedtoken/sidecar/internal/sink"
)

// wire turns the config file's providers and the settings into the
// server's providers, each backed by a core provider.
func wire(file *config.File, s *settings.Settings, m *metrics.Metrics, logger *slog.Logger) ([]server.Provider, error) {
	served, err := servedProviders(file, s.Providers, logger)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(served))
	for i, p := range served {
		ids[i] = p.ID
	}
	proxies, err := byProvider("proxy", s.Proxy, ids)
	if err != nil {
		return nil, err
	}
	sinks, err := byProvider("fileSink", s.FileSink, ids)
	if err != nil {
		return nil, err
	}
	required := s.Required
	if len(required) == 0 {
		required = ids
	}
	for _, id := range required {
		if !slices.Contains(ids, id) {
			return nil, fmt.Errorf("sidecar.required: provider %q is not served; serving: %s", id, quoteIDs(ids))
		}
	}

	observe := observer(m, logger)
	var out []server.Provider
	for _, p := range served {
		prov, err := provider.New(p, provider.WithObserver(observe),
			provider.WithCacheOptions(cache.WithStartDelay(s.StartDelay.D())))
		if err != nil {
			return nil, err
		}
		sp := server.Provider{
			ID:            p.ID,
			Grant:         string(p.AuthFlow),
			Source:        prov,
			Refresh:       prov.Run,
			SubjectExpiry: subjectExpiry(p, prov.Subject()),
			Required:      slices.Contains(required, p.ID),
		}
		if ps, ok := proxies[p.ID]; ok {
			if sp.Proxy, err = proxyFor(p, ps, s); err != nil {
				return nil, err
			}
		}
		if fs, ok := sinks[p.ID]; ok {
			mode, _ := fs.FileMode() // checked by Validate
			f := &sink.File{Path: fs.Path, Mode: os.FileMode(mode), UID: -1, GID: -1}
			if fs.UID != nil {
				f.UID = *fs.UID
			}
			if fs.GID != nil {
				f.GID = *fs.GID
			}
			sp.FileSink = f
		}
		out = append(out, sp)
	}
	return out, nil
}

// opencodeTask builds the task that keeps opencode's configuration with
// the gateway models of every served provider that has a baseURL (or a
// proxy upstream).
func opencodeTask(file *config.File, s *settings.Settings, logger *slog.Logger, served []server.Provider) (server.Task, error) {
	o := s.OpencodeConfig
	mode, _ := o.FileMode() // checked by Validate
	var targets []models.Target
	for _, sp := range served {
		p, err := file.Provider(sp.ID)
		if err != nil {
			return server.Task{}, err
		}
		base := p.BaseURL
		caFile := p.CAFile
		ps, ok := s.Proxy[sp.ID]
		if !ok && len(served) == 1 {
			ps, ok = s.Proxy[""] // --proxy ADDR without ID=
		}
		if ok {
			if ps.Upstream != "" {
				base = ps.Upstream
			}
			if ps.CAFile != "" {
				caFile = ps.CAFile
			}
		}
		if base == "" {
			logger.Warn("model sync skipped: provider has no baseURL", slog.String("provider", p.ID))
			continue
		}
		if err := oauth.CheckEndpointURL(base, p.AllowInsecureHTTP); err != nil {
			return server.Task{}, fmt.Errorf("provider %q: model sync: %w", p.ID, err)
		}
		client, err := oauth.NewHTTPClient(oauth.HTTPConfig{CAFile: caFile})
		if err != nil {
			return server.Task{}, fmt.Errorf("provider %q: model sync: %w", p.ID, err)
		}
		targets = append(targets, models.Target{
			ID: p.ID, BaseURL: base, Overrides: p.NameOverrides, Interval: p.ModelSyncInterval(),
			Lister: &models.Lister{Source: oauth.TokenSourceFunc(sp.Source.TokenContext), Client: client, Timeout: p.HTTPTimeout},
		})
	}
	w := opencodeconfig.New(o.Base, sink.File{Path: o.Path, Mode: os.FileMode(mode), UID: -1, GID: -1}, targets, logger)
	return server.Task{Name: "opencode config", Run: w.Run, Ready: w.Ready}, nil
}

// servedProviders picks the providers to serve: those listed, or every
// non-interactive one (a sidecar has nobody to log in).
func servedProviders(file *config.File, ids []string, logger *slog.Logger) ([]config.Provider, error) {
	var out []config.Provider
	if len(ids) > 0 {
		for _, id := range ids {
			p, err := file.Provider(id)
			if err != nil {
				return nil, err
			}
			if p.AuthFlow.Interactive() {
				return nil, fmt.Errorf("provider %q: authFlow %s needs a person at a browser; the sidecar serves %s providers", id, p.AuthFlow, grant.MachineFlows("and"))
			}
			out = append(out, *p)
		}
		return out, nil
	}
	for _, p := range file.Providers {
		if p.AuthFlow.Interactive() {
			logger.Warn("provider skipped: interactive flow", slog.String("provider", p.ID), slog.String("authFlow", string(p.AuthFlow)))
			continue
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("config %s: no provider the sidecar can serve: every provider uses an interactive authFlow; use %s", file.Path, grant.MachineFlows("or"))
	}
	return out, nil
}

// byProvider resolves the keys of a per-provider map: "" (from a flag
// without ID=) means the only served provider; other keys must be served.
func byProvider[T any](field string, m map[string]T, ids []string) (map[string]T, error) {
	out := make(map[string]T, len(m))
	for id, v := range m {
		if id == "" {
			if len(ids) != 1 {
				return nil, fmt.Errorf("sidecar.%s: %d providers are served (%s): name one as ID=VALUE", field, len(ids), quoteIDs(ids))
			}
			id = ids[0]
		}
		if !slices.Contains(ids, id) {
			return nil, fmt.Errorf("sidecar.%s: provider %q is not served; serving: %s", field, id, quoteIDs(ids))
		}
		out[id] = v
	}
	return out, nil
}

// proxyFor builds a provider's proxy settings.
func proxyFor(p config.Provider, ps settings.Proxy, s *settings.Settings) (*server.Proxy, error) {
	where := fmt.Sprintf("provider %q: proxy", p.ID)
	raw := ps.Upstream
	if raw == "" {
		raw = p.BaseURL
	}
	if raw == "" {
		return nil, fmt.Errorf("%s: no upstream: set the provider's baseURL, sidecar.proxy.%s.upstream or --upstream %s=URL", where, p.ID, p.ID)
	}
	// Same rule as for the IdP: the token travels in clear only to loopback
	// or when the provider allows insecure http.
	if err := oauth.CheckEndpointURL(raw, p.AllowInsecureHTTP); err != nil {
		return nil, fmt.Errorf("%s: upstream: %w", where, err)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: upstream %q: %w", where, oauth.RedactURL(raw), err)
	}
	if err := proxy.ValidateUpstream(u); err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	opts := []proxy.Option{
		proxy.WithMaxRequestBody(int64(s.MaxRequestBody)),
		proxy.WithRetryBuffer(int64(s.RetryBuffer)),
		proxy.WithResponseHeaderTimeout(s.ResponseHeaderTimeout.D()),
		proxy.WithDialTimeout(s.DialTimeout.D()),
	}
	if p.ResponseAPI {
		// responseApi: repair Responses event streams without indices.
		opts = append(opts, proxy.WithModifyResponse(responsesrepair.ModifyResponse))
	}
	caFile := ps.CAFile
	if caFile == "" {
		caFile = p.CAFile
	}
	if caFile != "" {
		pool, err := oauth.CertPool(caFile)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		opts = append(opts, proxy.WithTLSConfig(&tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}))
	}
	return &server.Proxy{Listen: ps.Listen, Upstream: u, Options: opts}, nil
}

// subjectExpiry reads the platform JWT's exp for the metrics, for sources
// that are cheap to read (a file or a variable, never a network call).
func subjectExpiry(p config.Provider, src subject.Source) func(context.Context) (time.Time, error) {
	if src == nil || p.SubjectTokenSource == nil {
		return nil
	}
	switch p.SubjectTokenSource.Type {
	case subject.TypeKubernetesSA, subject.TypeFile, subject.TypeEnv:
	default:
		return nil
	}
	return func(ctx context.Context) (time.Time, error) {
		// Inspect reads through the source's own checks and describes an
		// expired JWT too (its exp is what the metric shows).
		info, err := subject.Inspect(ctx, src)
		switch {
		case info.JWT:
			return info.Claims.ExpiresAt, nil
		case err != nil:
			return time.Time{}, err
		}
		return time.Time{}, info.DecodeError
	}
}

// observer records every acquisition in the metrics and the log.
func observer(m *metrics.Metrics, logger *slog.Logger) func(provider.Event) {
	return func(e provider.Event) {
		m.ObserveAcquisition(e.Provider, e.Grant, e.Duration, e.Err)
		attrs := []slog.Attr{
			slog.String("provider", e.Provider), slog.String("grant", e.Grant),
			slog.Bool("background", e.Background), slog.Duration("duration", e.Duration),
		}
		if e.Err != nil {
			logger.LogAttrs(context.Background(), slog.LevelWarn, "token acquisition failed", append(attrs, slog.Any("err", e.Err))...)
			return
		}
		if e.Token != nil && !e.Token.Expiry.IsZero() {
			attrs = append(attrs, slog.Int64("expires_in_s", int64(time.Until(e.Token.Expiry)/time.Second)))
		}
		logger.LogAttrs(context.Background(), slog.LevelInfo, "token acquired", attrs...)
	}
}
