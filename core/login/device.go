package login

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/fedtoken/fedtoken/core/grant"
	"github.com/fedtoken/fedtoken/core/oauth"
)

// Device authorization defaults and limits (RFC 8628 §3.2, §3.5).
const (
	defaultInterval       = 5 * time.Second
	slowDownIncrement     = 5 * time.Second
	defaultDeviceLifetime = 10 * time.Minute
	maxTransientFailures  = 5
	maxTransientBackoff   = time.Minute
)

// DeviceCode is the device authorization grant (RFC 8628), with PKCE
// (RFC 7636, S256) unless DisablePKCE is set. It is an oauth.TokenSource:
// every TokenContext call is a new login.
//
// A login asks the device_authorization_endpoint for a user code, shows
// it through UI.Show, then polls the token endpoint every interval:
// authorization_pending keeps polling, slow_down adds 5 s to the
// interval, expired_token and access_denied end the login, and transient
// failures (network, HTTP 5xx/429) are retried with a growing backoff
// until the device code expires. The response must carry a refresh token.
type DeviceCode struct {
	Endpoints
	// Client sends the requests; nil means a zero oauth.Client.
	Client *oauth.Client
	// Auth authenticates the client (usually AuthNone: a public client).
	Auth oauth.ClientAuth
	// Scopes are requested in the device authorization request.
	Scopes []string
	// Params are added to the device authorization request.
	Params url.Values
	// DisablePKCE omits code_challenge and code_verifier.
	DisablePKCE bool
	// UI shows the user code. Without UI.Show the login fails with
	// ErrNonInteractive before any request.
	UI UI
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Wait blocks for d or until ctx is done (then returning ctx.Err());
	// nil means a timer. Tests inject one that returns at once.
	Wait func(ctx context.Context, d time.Duration) error
}

// Token runs a login with context.Background().
func (d *DeviceCode) Token() (*oauth2.Token, error) { return d.TokenContext(context.Background()) }

// TokenContext runs a device login and returns its token.
func (d *DeviceCode) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	if !d.UI.interactive() {
		return nil, fmt.Errorf("%w (device code login needs a person to enter a code)", ErrNonInteractive)
	}
	ep, err := d.Endpoints.resolve(ctx, false, true)
	if err != nil {
		return nil, err
	}
	var p pkce
	if !d.DisablePKCE {
		p = newPKCE()
	}
	form := url.Values{}
	if len(d.Scopes) > 0 {
		form.Set("scope", strings.Join(d.Scopes, " "))
	}
	p.challenge(form)
	for k, vs := range d.Params {
		form[k] = append([]string(nil), vs...)
	}
	auth, err := d.authorize(ctx, ep.device, form)
	if err != nil {
		return nil, err
	}
	d.UI.Show(Prompt{
		UserCode:                auth.userCode,
		VerificationURI:         auth.verificationURI,
		VerificationURIComplete: auth.verificationURIComplete,
		ExpiresAt:               auth.expiresAt,
	})
	return d.poll(ctx, ep.token, auth, p)
}

// deviceAuthorization is a parsed device authorization response.
type deviceAuthorization struct {
	deviceCode              oauth.Secret
	userCode                string
	verificationURI         string
	verificationURIComplete string
	expiresAt               time.Time
	interval                time.Duration
}

// authorize sends the device authorization request (RFC 8628 §3.1).
func (d *DeviceCode) authorize(ctx context.Context, endpoint string, form url.Values) (*deviceAuthorization, error) {
	body, err := d.client().PostForm(ctx, endpoint, form, d.Auth)
	if err != nil {
		return nil, fmt.Errorf("login: device authorization: %w", err)
	}
	return parseDeviceAuthorization(body, endpoint, d.now())
}

func parseDeviceAuthorization(body []byte, endpoint string, now time.Time) (*deviceAuthorization, error) {
	var r struct {
		DeviceCode              string      `json:"device_code"`
		UserCode                string      `json:"user_code"`
		VerificationURI         string      `json:"verification_uri"`
		VerificationURL         string      `json:"verification_url"` // Google's name for it
		VerificationURIComplete string      `json:"verification_uri_complete"`
		ExpiresIn               json.Number `json:"expires_in"`
		Interval                json.Number `json:"interval"`
	}
	where := oauth.RedactURL(endpoint)
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("login: device authorization response from %s is not a JSON object", where)
	}
	if r.VerificationURI == "" {
		r.VerificationURI = r.VerificationURL
	}
	for _, f := range []struct{ name, val string }{
		{"device_code", r.DeviceCode}, {"user_code", r.UserCode}, {"verification_uri", r.VerificationURI},
	} {
		if f.val == "" {
			return nil, fmt.Errorf("login: device authorization response from %s has no %s", where, f.name)
		}
	}
	expiresIn, err := seconds(r.ExpiresIn, defaultDeviceLifetime)
	if err != nil {
		return nil, fmt.Errorf("login: device authorization response from %s: expires_in %w", where, err)
	}
	interval, err := seconds(r.Interval, defaultInterval)
	if err != nil {
		return nil, fmt.Errorf("login: device authorization response from %s: interval %w", where, err)
	}
	return &deviceAuthorization{
		deviceCode:              oauth.Secret(r.DeviceCode),
		userCode:                r.UserCode,
		verificationURI:         r.VerificationURI,
		verificationURIComplete: r.VerificationURIComplete,
		expiresAt:               now.Add(expiresIn),
		interval:                interval,
	}, nil
}

// seconds parses a number of seconds; empty or 0 means def.
func seconds(n json.Number, def time.Duration) (time.Duration, error) {
	if n == "" {
		return def, nil
	}
	v, err := strconv.ParseFloat(string(n), 64)
	if err != nil || v < 0 || v > 86400*365 {
		return 0, errors.New("is not a number of seconds between 0 and one year")
	}
	if v == 0 {
		return def, nil
	}
	return time.Duration(v * float64(time.Second)), nil
}

// poll asks the token endpoint until the login ends (RFC 8628 §3.4, §3.5).
func (d *DeviceCode) poll(ctx context.Context, tokenURL string, a *deviceAuthorization, p pkce) (*oauth2.Token, error) {
	interval := a.interval
	var backoff time.Duration
	failures := 0
	for {
		wait := interval + backoff
		if d.now().Add(wait).After(a.expiresAt) {
			return nil, d.expired(a)
		}
		if err := d.wait(ctx, wait); err != nil {
			return nil, fmt.Errorf("login: waiting for the device login to be approved: %w", err)
		}
		form := url.Values{
			"grant_type":  {grant.GrantTypeDeviceCode},
			"device_code": {a.deviceCode.Reveal()},
		}
		p.verify(form)
		tok, err := d.client().Token(ctx, tokenURL, form, d.Auth)
		switch {
		case err == nil:
			return requireRefreshToken(tok)
		case errors.Is(err, oauth.ErrAuthorizationPending):
			backoff, failures = 0, 0
		case errors.Is(err, oauth.ErrSlowDown):
			interval += slowDownIncrement
			backoff, failures = 0, 0
		case errors.Is(err, oauth.ErrExpiredToken):
			return nil, d.expired(a)
		case errors.Is(err, oauth.ErrAccessDenied):
			return nil, fmt.Errorf("login: the device login was denied at the IdP: %w", err)
		case transient(ctx, err):
			failures++
			if failures > maxTransientFailures {
				return nil, fmt.Errorf("login: polling the token endpoint failed %d times in a row: %w", failures, err)
			}
			backoff = min(interval<<(failures-1), maxTransientBackoff)
		default:
			return nil, fmt.Errorf("login: device login: %w", err)
		}
	}
}

func (d *DeviceCode) expired(a *deviceAuthorization) error {
	return fmt.Errorf("login: the device code %s expired before the login was approved; start the login again: %w", a.userCode, oauth.ErrExpiredToken)
}

// transient reports whether a failed poll is worth another one: an IdP
// answer that says so (5xx, 429, server_error, temporarily_unavailable)
// or a failure to reach it. A done context is not transient.
func transient(ctx context.Context, err error) bool {
	if ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var oe *oauth.Error
	if errors.As(err, &oe) {
		return oe.Retryable()
	}
	return true
}

func (d *DeviceCode) client() *oauth.Client {
	if d.Client != nil {
		return d.Client
	}
	return &oauth.Client{}
}

func (d *DeviceCode) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *DeviceCode) wait(ctx context.Context, dur time.Duration) error {
	if d.Wait != nil {
		return d.Wait(ctx, dur)
	}
	return sleep(ctx, dur)
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// requireRefreshToken returns tok, or ErrNoRefreshToken when it has no
// refresh token.
func requireRefreshToken(tok *oauth2.Token) (*oauth2.Token, error) {
	if tok == nil || tok.RefreshToken == "" {
		return nil, ErrNoRefreshToken
	}
	return tok, nil
}
