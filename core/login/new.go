package login

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/fedtoken/fedtoken/core/config"
	"github.com/fedtoken/fedtoken/core/discovery"
	"github.com/fedtoken/fedtoken/core/oauth"
)

// Options are what New needs besides the provider's configuration.
type Options struct {
	// HTTPClient reaches the IdP; nil means one built from the provider's
	// caFile and httpTimeout.
	HTTPClient *http.Client
	// Discovery is shared with the provider's other requests; nil means
	// a new discovery.Client over HTTPClient.
	Discovery *discovery.Client
	// Retry is the token client's retry policy (zero: the default).
	Retry oauth.RetryPolicy
	// UI reaches the person logging in.
	UI UI
	// Now and Wait drive the device flow's clock (nil: real time).
	Now  func() time.Time
	Wait func(ctx context.Context, d time.Duration) error
}

// New returns the login flow of an interactive provider: a *DeviceCode
// for authFlow device_code, an *AuthCode for authorization_code. It only
// translates the configuration (endpoints, client, scopes, pkce,
// redirectPort, extraParams — sent with the authorization request); it
// does no I/O besides reading a clientSecretFile.
//
// The client authenticates with none, client_secret_basic or
// client_secret_post (auto picks by whether a secret is configured);
// private_key_jwt and federated are refused, since a login flow has no
// platform token and CLI clients are public.
func New(p config.Provider, o Options) (oauth.TokenSource, error) {
	where := fmt.Sprintf("login: provider %q", p.ID)
	if !p.AuthFlow.Interactive() {
		return nil, fmt.Errorf("%s: authFlow %s needs no login: it gets tokens without a person", where, p.AuthFlow)
	}
	for _, u := range []struct{ field, url string }{
		{"issuer", p.Issuer}, {"tokenEndpoint", p.TokenEndpoint},
		{"authorizationEndpoint", p.AuthorizationEndpoint}, {"deviceAuthorizationEndpoint", p.DeviceAuthorizationEndpoint},
	} {
		if u.url == "" {
			continue
		}
		if err := oauth.CheckEndpointURL(u.url, p.AllowInsecureHTTP); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", where, u.field, err)
		}
	}
	auth, err := clientAuth(p)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	hc := o.HTTPClient
	if hc == nil {
		if hc, err = oauth.NewHTTPClient(oauth.HTTPConfig{CAFile: p.CAFile, Timeout: p.HTTPTimeout}); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
	}
	disc := o.Discovery
	if disc == nil {
		disc = &discovery.Client{HTTPClient: hc}
	}
	client := &oauth.Client{HTTPClient: hc, Retry: o.Retry, Now: o.Now}
	ep := Endpoints{
		Issuer:                 p.Issuer,
		AuthorizationURL:       p.AuthorizationEndpoint,
		DeviceAuthorizationURL: p.DeviceAuthorizationEndpoint,
		TokenURL:               p.TokenEndpoint,
		Discovery:              disc,
	}
	var params url.Values
	if len(p.ExtraParams) > 0 {
		params = url.Values{}
		for k, v := range p.ExtraParams {
			params.Set(k, v)
		}
	}
	disablePKCE := p.PKCE != nil && !*p.PKCE
	if p.AuthFlow == config.FlowDeviceCode {
		return &DeviceCode{Endpoints: ep, Client: client, Auth: auth, Scopes: p.Scopes, Params: params,
			DisablePKCE: disablePKCE, UI: o.UI, Now: o.Now, Wait: o.Wait}, nil
	}
	return &AuthCode{Endpoints: ep, Client: client, Auth: auth, Scopes: p.Scopes, Params: params,
		DisablePKCE: disablePKCE, RedirectPort: p.RedirectPort, UI: o.UI, Now: o.Now}, nil
}

// clientAuth builds the client authentication of a login flow.
func clientAuth(p config.Provider) (oauth.ClientAuth, error) {
	a := oauth.ClientAuth{Method: oauth.AuthMethod(p.ClientAuth.Method), ClientID: p.ClientID}
	switch a.Method {
	case oauth.AuthAuto, oauth.AuthNone, oauth.AuthClientSecretBasic, oauth.AuthClientSecretPost:
	default:
		return a, fmt.Errorf("clientAuth.method %s is not supported by %s logins: use none (a public client) or a client secret", a.Method, p.AuthFlow)
	}
	if a.Method != oauth.AuthNone && p.HasClientSecret() {
		s, err := p.LoadClientSecret()
		if err != nil {
			return a, err
		}
		a.ClientSecret = s
	}
	if err := a.Validate(); err != nil {
		return a, fmt.Errorf("clientAuth: %w", err)
	}
	return a, nil
}
