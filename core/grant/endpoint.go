package grant

import (
	"context"
	"errors"
	"fmt"

	"github.com/fedtoken/fedtoken/core/discovery"
	"github.com/fedtoken/fedtoken/core/oauth"
)

// Endpoint locates a token endpoint: TokenURL when set, else the
// token_endpoint discovered from Issuer.
type Endpoint struct {
	// Issuer is the IdP's issuer URL, used for discovery.
	Issuer string
	// TokenURL is the configured token endpoint; it wins over discovery.
	TokenURL string
	// Discovery discovers and caches metadata; nil means an uncached
	// discovery with a default HTTP client on every acquisition, so set it
	// (sharing one per process) outside of tests and one-shot tools.
	Discovery *discovery.Client
	// AllowInsecureHTTP permits plain-http endpoints on hosts other than
	// loopback (see oauth.CheckEndpointURL).
	AllowInsecureHTTP bool
}

// TokenEndpoint returns the token endpoint URL, checked with
// oauth.CheckEndpointURL. The error says which setting to fix.
func (e Endpoint) TokenEndpoint(ctx context.Context) (string, error) {
	if e.TokenURL != "" {
		if err := oauth.CheckEndpointURL(e.TokenURL, e.AllowInsecureHTTP); err != nil {
			return "", fmt.Errorf("tokenEndpoint: %w", err)
		}
		return e.TokenURL, nil
	}
	if e.Issuer == "" {
		return "", errors.New("no token endpoint: set tokenEndpoint or issuer")
	}
	if err := oauth.CheckEndpointURL(e.Issuer, e.AllowInsecureHTTP); err != nil {
		return "", fmt.Errorf("issuer: %w", err)
	}
	d := e.Discovery
	if d == nil {
		d = &discovery.Client{TTL: -1}
	}
	md, err := d.Discover(ctx, e.Issuer)
	if err != nil {
		return "", fmt.Errorf("find token endpoint: %w; set tokenEndpoint or fix the issuer", err)
	}
	if md.TokenEndpoint == "" {
		return "", fmt.Errorf("find token endpoint: %s has no token_endpoint; set tokenEndpoint", oauth.RedactURL(md.URL))
	}
	if err := oauth.CheckEndpointURL(md.TokenEndpoint, e.AllowInsecureHTTP); err != nil {
		return "", fmt.Errorf("discovered token_endpoint: %w", err)
	}
	return md.TokenEndpoint, nil
}
