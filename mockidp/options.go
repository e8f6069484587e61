package mockidp

import (
	"crypto/rsa"
	"errors"
	"net/http"
	"time"
)

// Option configures [New]. Options are applied in order; the set is sealed
// (only this package defines options).
type Option interface {
	apply(*settings) error
}

type optionFunc func(*settings) error

func (f optionFunc) apply(s *settings) error { return f(s) }

type settings struct {
	cfg        Config
	now        func() time.Time
	httpClient *http.Client
	genKey     func() (*rsa.PrivateKey, error)
	issued     *issuedLog
}

// WithConfig adds the issuers, cluster, faults and admin switch of cfg.
// It may be combined with the other options; names must stay unique.
func WithConfig(cfg Config) Option {
	return optionFunc(func(s *settings) error {
		s.cfg.Issuers = append(s.cfg.Issuers, cfg.Issuers...)
		s.cfg.Faults = append(s.cfg.Faults, cfg.Faults...)
		if cfg.Cluster != nil {
			if s.cfg.Cluster != nil {
				return errors.New("mockidp: a cluster is configured twice")
			}
			c := *cfg.Cluster
			s.cfg.Cluster = &c
		}
		s.cfg.Admin = s.cfg.Admin || cfg.Admin
		return nil
	})
}

// WithIssuer adds one issuer.
func WithIssuer(cfg IssuerConfig) Option {
	return optionFunc(func(s *settings) error {
		s.cfg.Issuers = append(s.cfg.Issuers, cfg)
		return nil
	})
}

// WithCluster adds the Kubernetes-like cluster issuer.
func WithCluster(cfg ClusterConfig) Option {
	return WithConfig(Config{Cluster: &cfg})
}

// WithFaults injects faults from the start.
func WithFaults(rules ...FaultRule) Option {
	return optionFunc(func(s *settings) error {
		s.cfg.Faults = append(s.cfg.Faults, rules...)
		return nil
	})
}

// WithAdminAPI serves the admin API under /admin/. The admin API can change
// trust, approve devices and mint service-account tokens: serve it on
// loopback only.
func WithAdminAPI() Option {
	return optionFunc(func(s *settings) error {
		s.cfg.Admin = true
		return nil
	})
}

// WithClock sets the clock used for issuing and verifying tokens, device
// polling and the cluster's token times (default time.Now). The cluster's
// rotation timer still runs on real time.
func WithClock(now func() time.Time) Option {
	return optionFunc(func(s *settings) error {
		if now == nil {
			return errors.New("mockidp: WithClock(nil)")
		}
		s.now = now
		return nil
	})
}

// WithHTTPClient sets the client that fetches external discovery documents
// and JWKS (default: a client with a 10s timeout).
func WithHTTPClient(c *http.Client) Option {
	return optionFunc(func(s *settings) error {
		if c == nil {
			return errors.New("mockidp: WithHTTPClient(nil)")
		}
		s.httpClient = c
		return nil
	})
}

// WithKeyGenerator replaces the generator of signing keys for issuers
// without a signingKeyFile. Tests use it to reuse keys across servers.
func WithKeyGenerator(gen func() (*rsa.PrivateKey, error)) Option {
	return optionFunc(func(s *settings) error {
		if gen == nil {
			return errors.New("mockidp: WithKeyGenerator(nil)")
		}
		s.genKey = gen
		return nil
	})
}
