package mockidp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"

	jose "github.com/go-jose/go-jose/v4"
)

// keySource provides the verification keys of one trusted issuer.
type keySource interface {
	// keys returns the current keys; refresh asks a remote source to fetch
	// again (an unknown kid was seen).
	keys(ctx context.Context, refresh bool) ([]jose.JSONWebKey, error)
	// String describes the source for error descriptions.
	String() string
}

// staticKeys are keys read once (a JWKS file).
type staticKeys struct {
	set  []jose.JSONWebKey
	desc string
}

func (s *staticKeys) keys(context.Context, bool) ([]jose.JSONWebKey, error) { return s.set, nil }
func (s *staticKeys) String() string                                        { return s.desc }

// localKeys are the keys of an issuer in this process.
type localKeys struct {
	name string
	get  func() []jose.JSONWebKey
}

func (l *localKeys) keys(context.Context, bool) ([]jose.JSONWebKey, error) { return l.get(), nil }
func (l *localKeys) String() string                                        { return "keys of local issuer " + l.name }

// maxJWKSSize bounds discovery and JWKS responses.
const maxJWKSSize = 1 << 20

// remoteKeys fetches a JWKS over HTTP, directly or through discovery, and
// caches it until a token names a kid it does not hold.
type remoteKeys struct {
	client       *http.Client
	issuer       string // expected issuer of the discovery document
	discoveryURL string // set when jwks_uri is discovered
	jwksURL      string // fixed, or learnt from discovery

	mu      sync.Mutex
	fetched bool
	cached  []jose.JSONWebKey
	fetches int // for tests and the admin API
}

func (r *remoteKeys) String() string {
	if r.jwksURL != "" {
		return "JWKS " + redactURL(r.jwksURL)
	}
	return "JWKS discovered at " + redactURL(r.discoveryURL)
}

func (r *remoteKeys) keys(ctx context.Context, refresh bool) ([]jose.JSONWebKey, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fetched && !refresh {
		return r.cached, nil
	}
	if r.discoveryURL != "" && (r.jwksURL == "" || refresh) {
		u, err := r.discover(ctx)
		if err != nil {
			return nil, err
		}
		r.jwksURL = u
	}
	var set jose.JSONWebKeySet
	if err := fetchJSON(ctx, r.client, r.jwksURL, &set); err != nil {
		return nil, fmt.Errorf("fetch JWKS %s: %w", redactURL(r.jwksURL), err)
	}
	r.fetches++
	r.cached, r.fetched = set.Keys, true
	return r.cached, nil
}

func (r *remoteKeys) discover(ctx context.Context) (string, error) {
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := fetchJSON(ctx, r.client, r.discoveryURL, &doc); err != nil {
		return "", fmt.Errorf("discovery %s: %w", redactURL(r.discoveryURL), err)
	}
	if doc.Issuer != r.issuer {
		return "", fmt.Errorf("discovery %s: document names issuer %q, want %q", redactURL(r.discoveryURL), doc.Issuer, r.issuer)
	}
	if doc.JWKSURI == "" {
		return "", fmt.Errorf("discovery %s: no jwks_uri", redactURL(r.discoveryURL))
	}
	return doc.JWKSURI, nil
}

// fetchJSON GETs u and decodes a JSON body of at most maxJWKSSize bytes.
func fetchJSON(ctx context.Context, client *http.Client, u string, dst any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("bad URL: %w", err)
	}
	// kube-apiserver serves its JWKS only as application/jwk-set+json
	// (RFC 7517 §8.5) and answers 406 to a plain application/json.
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			return ue.Err
		}
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSSize+1))
	if err != nil {
		return fmt.Errorf("read body: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	if len(body) > maxJWKSSize {
		return fmt.Errorf("body larger than %d bytes", maxJWKSSize)
	}
	if err := json.Unmarshal(body, dst); err != nil {
		return fmt.Errorf("body is not the expected JSON: %w", err)
	}
	return nil
}

// redactURL drops userinfo, query and fragment so a URL can go in an error.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<unparsable URL>"
	}
	u.User, u.RawQuery, u.Fragment, u.ForceQuery = nil, "", "", false
	return u.String()
}
