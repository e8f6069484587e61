package mockidp

import (
	"errors"
	"fmt"
	"slices"
)

// names returns the set of issuer names (and the cluster's) of the server.
func (s *Server) names() map[string]bool {
	m := map[string]bool{}
	for n := range s.issuers {
		m[n] = true
	}
	if s.cluster != nil {
		m[s.cluster.name] = true
	}
	return m
}

// Trust returns the trust policies of an issuer as configured (the
// cluster's automatic policy included).
func (s *Server) Trust(issuerName string) ([]TrustConfig, error) {
	is, err := s.issuer(issuerName)
	if err != nil {
		return nil, err
	}
	out := []TrustConfig{}
	for _, p := range is.policies() {
		tc := p.cfg
		tc.Name = p.name
		out = append(out, tc)
	}
	return out, nil
}

// SetTrust adds a trust policy to an issuer, or replaces the one with the
// same name (TrustConfig.Name, else its issuer). Cached keys of a replaced
// policy are dropped.
func (s *Server) SetTrust(issuerName string, tc TrustConfig) error {
	is, err := s.issuer(issuerName)
	if err != nil {
		return err
	}
	var errs []error
	tc.validate("trust", s.names(), func(path, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...)))
	})
	if err := errors.Join(errs...); err != nil {
		return err
	}
	p, err := s.buildTrust(tc, is.url)
	if err != nil {
		return err
	}
	is.mu.Lock()
	defer is.mu.Unlock()
	if i := slices.IndexFunc(is.trust, func(q *trustPolicy) bool { return q.name == p.name }); i >= 0 {
		is.trust[i] = p
	} else {
		is.trust = append(is.trust, p)
	}
	return nil
}

// RemoveTrust removes an issuer's trust policy by name.
func (s *Server) RemoveTrust(issuerName, name string) error {
	is, err := s.issuer(issuerName)
	if err != nil {
		return err
	}
	is.mu.Lock()
	defer is.mu.Unlock()
	n := len(is.trust)
	is.trust = slices.DeleteFunc(is.trust, func(p *trustPolicy) bool { return p.name == name })
	if len(is.trust) == n {
		return fmt.Errorf("issuer %q has no trust policy %q", issuerName, name)
	}
	return nil
}

// Clients returns the clients of an issuer; secrets marshal redacted.
func (s *Server) Clients(issuerName string) ([]ClientConfig, error) {
	is, err := s.issuer(issuerName)
	if err != nil {
		return nil, err
	}
	is.mu.Lock()
	defer is.mu.Unlock()
	out := make([]ClientConfig, 0, len(is.clients))
	for _, c := range is.clients {
		out = append(out, c.cfg)
	}
	slices.SortFunc(out, func(a, b ClientConfig) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	return out, nil
}

// SetClient registers a client with an issuer, replacing one with the same
// ID.
func (s *Server) SetClient(issuerName string, cc ClientConfig) error {
	is, err := s.issuer(issuerName)
	if err != nil {
		return err
	}
	trust := map[string]bool{}
	for _, p := range is.policies() {
		trust[p.name] = true
	}
	var errs []error
	cc.validate("client", trust, func(path, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...)))
	})
	if err := errors.Join(errs...); err != nil {
		return err
	}
	cl, err := newClient(cc)
	if err != nil {
		return err
	}
	is.mu.Lock()
	defer is.mu.Unlock()
	is.clients[cc.ID] = cl
	return nil
}

// RemoveClient removes a client from an issuer.
func (s *Server) RemoveClient(issuerName, id string) error {
	is, err := s.issuer(issuerName)
	if err != nil {
		return err
	}
	is.mu.Lock()
	defer is.mu.Unlock()
	if _, ok := is.clients[id]; !ok {
		return fmt.Errorf("issuer %q has no client %q", issuerName, id)
	}
	delete(is.clients, id)
	return nil
}

// ApproveDevice approves the device request with userCode for the named
// user ("" is the auto-approval user), as the verification page does.
func (s *Server) ApproveDevice(issuerName, userCode, username string) error {
	is, err := s.issuer(issuerName)
	if err != nil {
		return err
	}
	u := is.autoUser()
	if username != "" {
		is.mu.Lock()
		cu, ok := is.users[username]
		is.mu.Unlock()
		switch {
		case ok:
			u = cu
		case len(is.cfg.Users) == 0:
			u = &UserConfig{Username: username}
		default:
			return fmt.Errorf("issuer %q has no user %q", issuerName, username)
		}
	}
	return is.decideDevice(userCode, u)
}

// DenyDevice denies the device request with userCode: the next poll gets
// access_denied.
func (s *Server) DenyDevice(issuerName, userCode string) error {
	is, err := s.issuer(issuerName)
	if err != nil {
		return err
	}
	return is.decideDevice(userCode, nil)
}
