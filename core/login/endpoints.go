package login

import (
	"context"
	"fmt"

	"github.com/fedtoken/fedtoken/core/discovery"
	"github.com/fedtoken/fedtoken/core/oauth"
)

// Endpoints locate the IdP. A URL that is set wins; the others are read
// from the issuer's discovery document when a flow needs them.
type Endpoints struct {
	// Issuer is the IdP's issuer URL, used for discovery.
	Issuer string
	// AuthorizationURL is the authorization_endpoint (authorization code flow).
	AuthorizationURL string
	// DeviceAuthorizationURL is the device_authorization_endpoint (device flow).
	DeviceAuthorizationURL string
	// TokenURL is the token_endpoint.
	TokenURL string
	// Discovery fetches and caches discovery documents; nil means a new
	// discovery.Client per call.
	Discovery *discovery.Client
}

// resolved is an Endpoints with every URL a flow needs filled in.
type resolved struct {
	authorization, device, token string
}

// resolve fills in the missing URLs among those the flow needs,
// discovering them from the issuer only when one is missing.
func (e Endpoints) resolve(ctx context.Context, needAuthorize, needDevice bool) (resolved, error) {
	r := resolved{authorization: e.AuthorizationURL, device: e.DeviceAuthorizationURL, token: e.TokenURL}
	missing := r.token == "" || (needAuthorize && r.authorization == "") || (needDevice && r.device == "")
	if !missing {
		return r, nil
	}
	if e.Issuer == "" {
		return r, fmt.Errorf("login: no issuer to discover the %s from: set the issuer or the endpoint", missingName(r, needAuthorize, needDevice))
	}
	d := e.Discovery
	if d == nil {
		d = &discovery.Client{}
	}
	md, err := d.Discover(ctx, e.Issuer)
	if err != nil {
		return r, fmt.Errorf("login: %w", err)
	}
	if r.token == "" {
		r.token = md.TokenEndpoint
	}
	if needAuthorize && r.authorization == "" {
		r.authorization = md.AuthorizationEndpoint
	}
	if needDevice && r.device == "" {
		r.device = md.DeviceAuthorizationEndpoint
	}
	if name := missingName(r, needAuthorize, needDevice); name != "" {
		return r, fmt.Errorf("login: the discovery document of %s has no %s: set it in the provider's configuration", oauth.RedactURL(e.Issuer), name)
	}
	return r, nil
}

func missingName(r resolved, needAuthorize, needDevice bool) string {
	switch {
	case r.token == "":
		return "token_endpoint"
	case needAuthorize && r.authorization == "":
		return "authorization_endpoint"
	case needDevice && r.device == "":
		return "device_authorization_endpoint"
	}
	return ""
}
