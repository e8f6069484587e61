package provider

import (
	"context"
	"fmt"
	"net/url"

	"golang.org/x/oauth2"

	"github.com/fedtoken/fedtoken/core/config"
	"github.com/fedtoken/fedtoken/core/discovery"
	"github.com/fedtoken/fedtoken/core/login"
	"github.com/fedtoken/fedtoken/core/oauth"
)

// newLogin returns a constructor of p's login flow (device code or
// authorization code) for a given UI. The flow shares the provider's HTTP
// client, discovery cache and client authentication, so a confidential
// laptop client (client secret, private_key_jwt) logs in the same way it
// refreshes.
func newLogin(p config.Provider, client *oauth.Client, auth oauth.ClientAuth, disc *discovery.Client,
	params url.Values, o options) func(login.UI) oauth.TokenSource {
	ep := login.Endpoints{Issuer: p.Issuer, AuthorizationURL: p.AuthorizationEndpoint,
		DeviceAuthorizationURL: p.DeviceAuthorizationEndpoint, TokenURL: p.TokenEndpoint, Discovery: disc}
	disablePKCE := p.PKCE != nil && !*p.PKCE
	if len(params) == 0 {
		params = nil
	}
	if p.AuthFlow == config.FlowDeviceCode {
		return func(ui login.UI) oauth.TokenSource {
			return &login.DeviceCode{Endpoints: ep, Client: client, Auth: auth, Scopes: p.Scopes, Params: params,
				DisablePKCE: disablePKCE, UI: ui, Now: o.loginNow, Wait: o.loginWait}
		}
	}
	return func(ui login.UI) oauth.TokenSource {
		return &login.AuthCode{Endpoints: ep, Client: client, Auth: auth, Scopes: p.Scopes, Params: params,
			DisablePKCE: disablePKCE, RedirectPort: p.RedirectPort, CallbackPath: p.RedirectPath, UI: ui, Now: o.loginNow}
	}
}

// Login runs the provider's interactive flow — device code or
// authorization code with PKCE — showing prompts through ui, and stores the
// token (with its refresh token) so later calls renew it silently. A ui
// without Show fails at once with login.ErrNonInteractive: a CronJob or CI
// job never waits for a person. Machine flows need no login.
func (p *Provider) Login(ctx context.Context, ui login.UI) (*oauth2.Token, error) {
	if p.login == nil {
		return nil, fmt.Errorf("provider %q: authFlow %s needs no login: it gets tokens without a person", p.cfg.ID, p.cfg.AuthFlow)
	}
	tok, err := p.login(ui).TokenContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("provider %q: %w", p.cfg.ID, err)
	}
	if p.store != nil {
		if err := p.Store(ctx, tok); err != nil {
			return nil, err
		}
	}
	return tok, nil
}
