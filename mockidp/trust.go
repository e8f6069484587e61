package mockidp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// trustPolicy is a compiled TrustConfig.
type trustPolicy struct {
	cfg       TrustConfig // as configured, for the admin API
	name      string
	issuer    string
	keys      keySource
	audiences []string
	subjects  []string
	maxAge    time.Duration
	skew      time.Duration
}

// buildTrust compiles a trust policy for the issuer at issuerURL.
func (s *Server) buildTrust(cfg TrustConfig, issuerURL string) (*trustPolicy, error) {
	p := &trustPolicy{
		cfg:       cfg,
		name:      cfg.name(),
		issuer:    cfg.Issuer,
		audiences: slices.Clone(cfg.Audiences),
		subjects:  slices.Clone(cfg.Subjects),
		maxAge:    cfg.MaxTokenAge.D(),
		skew:      cfg.ClockSkew.D(),
	}
	if len(p.audiences) == 0 {
		p.audiences = []string{issuerURL, issuerURL + pathToken}
	}
	switch {
	case cfg.LocalIssuer != "":
		name := cfg.LocalIssuer
		u, ok := s.localIssuerURL(name)
		if !ok {
			return nil, fmt.Errorf("trust %q: unknown local issuer %q", p.name, name)
		}
		p.issuer = u
		p.keys = &localKeys{name: name, get: func() []jose.JSONWebKey { return s.localIssuerKeys(name) }}
		return p, nil
	case cfg.JWKSFile != "":
		data, err := os.ReadFile(cfg.JWKSFile)
		if err != nil {
			return nil, fmt.Errorf("trust %q: jwksFile: %w", p.name, err)
		}
		keys, err := parsePublicKeys(data)
		if err != nil {
			return nil, fmt.Errorf("trust %q: jwksFile %s: %w", p.name, cfg.JWKSFile, err)
		}
		p.keys = &staticKeys{set: keys, desc: "JWKS file " + cfg.JWKSFile}
		return p, nil
	}
	client := s.httpClient
	if cfg.CAFile != "" {
		var err error
		if client, err = clientWithCA(s.httpClient, cfg.CAFile); err != nil {
			return nil, fmt.Errorf("trust %q: caFile: %w", p.name, err)
		}
	}
	rk := &remoteKeys{client: client, issuer: p.issuer, jwksURL: cfg.JWKSURL, discoveryURL: cfg.DiscoveryURL}
	if cfg.JWKSURL == "" && cfg.DiscoveryURL == "" {
		rk.discoveryURL = strings.TrimSuffix(p.issuer, "/") + "/.well-known/openid-configuration"
	}
	p.keys = rk
	return p, nil
}

// clientWithCA returns a copy of base whose TLS trusts only the PEM bundle.
func clientWithCA(base *http.Client, caFile string) (*http.Client, error) {
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: no PEM certificates", caFile)
	}
	var tr *http.Transport
	if t, ok := base.Transport.(*http.Transport); ok && t != nil {
		tr = t.Clone()
	} else {
		tr = http.DefaultTransport.(*http.Transport).Clone()
	}
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	c := *base
	c.Transport = tr
	return &c, nil
}

// verify checks the signature and claims of t, whose iss is p.issuer.
func (p *trustPolicy) verify(ctx context.Context, t *parsedJWT, now time.Time) error {
	if err := verifySignature(ctx, t, p.keys); err != nil {
		return err
	}
	if err := checkTimes(t, now, p.skew, p.maxAge); err != nil {
		return err
	}
	if err := matchAudience(t.aud, p.audiences); err != nil {
		return err
	}
	if t.sub == "" {
		return &checkError{Check: checkSubject, Detail: "sub claim missing"}
	}
	if len(p.subjects) > 0 && !slices.ContainsFunc(p.subjects, func(pat string) bool { return globMatch(pat, t.sub) }) {
		return &checkError{Check: checkSubject, Detail: fmt.Sprintf("subject %q not allowed by trust policy %q (allowed: %v)", t.sub, p.name, p.subjects)}
	}
	return nil
}

// verifySignature verifies t against the keys of src, fetching them again
// once when t names a kid they do not hold.
func verifySignature(ctx context.Context, t *parsedJWT, src keySource) error {
	if !slices.Contains(allowedAlgs, t.alg) {
		return &checkError{Check: checkAlg, Detail: fmt.Sprintf("alg %q is not allowed (want one of %v)", t.alg, allowedAlgs)}
	}
	jws, err := jose.ParseSignedCompact(t.raw, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(t.alg)})
	if err != nil {
		return &checkError{Check: checkFormat, Detail: "not a valid JWS: " + err.Error()}
	}
	keys, err := src.keys(ctx, false)
	if err != nil {
		return &checkError{Check: checkKeys, Detail: err.Error(), Unavailable: true}
	}
	cands := matchKeys(keys, t.kid)
	if len(cands) == 0 && t.kid != "" {
		if keys, err = src.keys(ctx, true); err != nil {
			return &checkError{Check: checkKeys, Detail: err.Error(), Unavailable: true}
		}
		cands = matchKeys(keys, t.kid)
	}
	if len(cands) == 0 {
		return &checkError{Check: checkKeys, Detail: fmt.Sprintf("no key with kid %q in %s", t.kid, src)}
	}
	for _, k := range cands {
		if _, err := jws.Verify(k.Public()); err == nil {
			return nil
		}
	}
	return &checkError{Check: checkSignature, Detail: fmt.Sprintf("signature does not verify with key %q from %s", t.kid, src)}
}

func matchKeys(keys []jose.JSONWebKey, kid string) []jose.JSONWebKey {
	var out []jose.JSONWebKey
	for _, k := range keys {
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		if kid == "" || k.KeyID == kid {
			out = append(out, k)
		}
	}
	return out
}

// checkTimes checks exp (required), nbf, iat and the maximum age.
func checkTimes(t *parsedJWT, now time.Time, skew, maxAge time.Duration) error {
	switch {
	case t.exp.IsZero():
		return &checkError{Check: checkExpiry, Detail: "exp claim missing"}
	case now.After(t.exp.Add(skew)):
		return &checkError{Check: checkExpiry, Detail: fmt.Sprintf("token expired at %s (now %s, clock skew %s)", fmtTime(t.exp), fmtTime(now), skew)}
	case !t.nbf.IsZero() && now.Add(skew).Before(t.nbf):
		return &checkError{Check: checkNotBefore, Detail: fmt.Sprintf("token not valid before %s (now %s, clock skew %s)", fmtTime(t.nbf), fmtTime(now), skew)}
	case !t.iat.IsZero() && now.Add(skew).Before(t.iat):
		return &checkError{Check: checkIssuedAt, Detail: fmt.Sprintf("iat %s is in the future (now %s, clock skew %s)", fmtTime(t.iat), fmtTime(now), skew)}
	}
	if maxAge > 0 {
		if t.iat.IsZero() {
			return &checkError{Check: checkMaxAge, Detail: fmt.Sprintf("iat claim missing: needed for max token age %s", maxAge)}
		}
		if now.Sub(t.iat) > maxAge+skew {
			return &checkError{Check: checkMaxAge, Detail: fmt.Sprintf("token issued at %s is older than max token age %s (now %s)", fmtTime(t.iat), maxAge, fmtTime(now))}
		}
	}
	return nil
}

// matchAudience requires at least one of aud in allowed.
func matchAudience(aud, allowed []string) error {
	if len(aud) == 0 {
		return &checkError{Check: checkAudience, Detail: fmt.Sprintf("aud claim missing (allowed %v)", allowed)}
	}
	for _, a := range aud {
		if slices.Contains(allowed, a) {
			return nil
		}
	}
	return &checkError{Check: checkAudience, Detail: fmt.Sprintf("audience %v not in allowed %v", aud, allowed)}
}
