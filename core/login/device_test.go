package login

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/fedtoken/fedtoken/core/grant"
	"github.com/fedtoken/fedtoken/core/internal/fakeclock"
	"github.com/fedtoken/fedtoken/core/oauth"
)

// deviceIdP is an httptest IdP for the device flow that answers polls
// from a script of token-endpoint answers.
type deviceIdP struct {
	t          *testing.T
	deviceResp map[string]any
	script     []func(w http.ResponseWriter) // one per poll; the last repeats
	polls      atomic.Int32
	challenge  atomic.Value // string: code_challenge of the device request
	verifiers  chan string
}

func newDeviceIdP(t *testing.T, script ...func(w http.ResponseWriter)) (*deviceIdP, Endpoints) {
	d := &deviceIdP{
		t: t,
		deviceResp: map[string]any{
			"device_code":               "dc-secret",
			"user_code":                 "WDJB-MJHT",
			"verification_uri":          "https://idp.example/device",
			"verification_uri_complete": "https://idp.example/device?user_code=WDJB-MJHT",
			"expires_in":                600,
			"interval":                  5,
		},
		script:    script,
		verifiers: make(chan string, 1000),
	}
	srv := serve(t, map[string]http.HandlerFunc{
		"/device": func(w http.ResponseWriter, r *http.Request) {
			f := form(t, r)
			if f.Get("client_id") != "cli" || f.Get("scope") != "openid offline_access" || f.Get("code_challenge_method") != "S256" {
				t.Errorf("device authorization form = %v", f)
			}
			d.challenge.Store(f.Get("code_challenge"))
			writeJSON(w, http.StatusOK, d.deviceResp)
		},
		"/token": func(w http.ResponseWriter, r *http.Request) {
			f := form(t, r)
			if f.Get("grant_type") != grant.GrantTypeDeviceCode || f.Get("device_code") != "dc-secret" {
				t.Errorf("token form = %v", f)
			}
			d.verifiers <- f.Get("code_verifier")
			n := int(d.polls.Add(1)) - 1
			d.script[min(n, len(d.script)-1)](w)
		},
	})
	return d, Endpoints{DeviceAuthorizationURL: srv.URL + "/device", TokenURL: srv.URL + "/token"}
}

func pending(w http.ResponseWriter)  { oauthError(w, http.StatusBadRequest, "authorization_pending") }
func slowDown(w http.ResponseWriter) { oauthError(w, http.StatusBadRequest, "slow_down") }
func granted(w http.ResponseWriter)  { writeJSON(w, http.StatusOK, tokenBody("rt-1")) }

func newDevice(ep Endpoints, ui UI, clock *fakeclock.Clock) *DeviceCode {
	return &DeviceCode{
		Endpoints: ep,
		Client:    noRetry(),
		Auth:      oauth.ClientAuth{Method: oauth.AuthNone, ClientID: "cli"},
		Scopes:    []string{"openid", "offline_access"},
		UI:        ui,
		Now:       clock.Now,
		Wait:      clock.Wait,
	}
}

func TestDeviceCodeSuccess(t *testing.T) {
	idp, ep := newDeviceIdP(t, pending, pending, slowDown, pending, granted)
	ui, prompts := recordPrompts()
	clock := fakeclock.New()
	tok, err := newDevice(ep, ui, clock).TokenContext(t.Context())
	if err != nil {
		t.Fatalf("TokenContext: %v", err)
	}
	if tok.AccessToken != "at-1" || tok.RefreshToken != "rt-1" {
		t.Errorf("token = %+v", tok)
	}
	// 5 s interval; slow_down adds 5 s for every later poll.
	want := []time.Duration{5 * time.Second, 5 * time.Second, 5 * time.Second, 10 * time.Second, 10 * time.Second}
	if got := clock.Waits(); !slices.Equal(got, want) {
		t.Errorf("waits = %v, want %v", got, want)
	}
	p := prompts()
	if len(p) != 1 || p[0].UserCode != "WDJB-MJHT" || p[0].VerificationURI != "https://idp.example/device" ||
		p[0].VerificationURIComplete != "https://idp.example/device?user_code=WDJB-MJHT" ||
		!p[0].ExpiresAt.Equal(fakeclock.New().Now().Add(10*time.Minute)) {
		t.Errorf("prompts = %+v", p)
	}
	// Every poll carries the verifier of the challenge sent first.
	challenge := idp.challenge.Load().(string)
	close(idp.verifiers)
	for v := range idp.verifiers {
		if oauth2.S256ChallengeFromVerifier(v) != challenge {
			t.Fatalf("code_verifier does not match code_challenge")
		}
	}
}

func TestDeviceCodeFailures(t *testing.T) {
	tests := []struct {
		name      string
		script    []func(http.ResponseWriter)
		wantIs    error
		wantMsg   string
		wantPolls int32
	}{
		{name: "expired_token", script: sl(pending, func(w http.ResponseWriter) { oauthError(w, 400, "expired_token") }),
			wantIs: oauth.ErrExpiredToken, wantMsg: "device code WDJB-MJHT expired", wantPolls: 2},
		{name: "access_denied", script: sl(func(w http.ResponseWriter) { oauthError(w, 400, "access_denied") }),
			wantIs: oauth.ErrAccessDenied, wantMsg: "denied at the IdP", wantPolls: 1},
		{name: "invalid_client is final", script: sl(func(w http.ResponseWriter) { oauthError(w, 401, "invalid_client") }),
			wantIs: oauth.ErrInvalidClient, wantPolls: 1},
		{name: "no refresh token", script: sl(func(w http.ResponseWriter) { writeJSON(w, 200, tokenBody("")) }),
			wantIs: ErrNoRefreshToken, wantPolls: 1},
		{name: "transient errors give up after a bound", script: sl(func(w http.ResponseWriter) { oauthError(w, 503, "temporarily_unavailable") }),
			wantIs: oauth.ErrTemporarilyUnavail, wantMsg: "failed 6 times in a row", wantPolls: 6},
		{name: "pending until the code expires", script: sl(pending),
			wantIs: oauth.ErrExpiredToken, wantMsg: "expired before the login was approved", wantPolls: 120},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			idp, ep := newDeviceIdP(t, tt.script...)
			ui, _ := recordPrompts()
			_, err := newDevice(ep, ui, fakeclock.New()).TokenContext(t.Context())
			if !errors.Is(err, tt.wantIs) {
				t.Fatalf("error = %v, want errors.Is %v", err, tt.wantIs)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error = %q, want it to contain %q", err, tt.wantMsg)
			}
			if strings.Contains(err.Error(), "dc-secret") {
				t.Errorf("error leaks the device code: %q", err)
			}
			if got := idp.polls.Load(); got != tt.wantPolls {
				t.Errorf("polls = %d, want %d", got, tt.wantPolls)
			}
		})
	}
}

func sl(fs ...func(http.ResponseWriter)) []func(http.ResponseWriter) { return fs }

func TestDeviceCodeTransientBackoff(t *testing.T) {
	unavailable := func(w http.ResponseWriter) { oauthError(w, 503, "temporarily_unavailable") }
	_, ep := newDeviceIdP(t, unavailable, unavailable, unavailable, pending, granted)
	ui, _ := recordPrompts()
	clock := fakeclock.New()
	if _, err := newDevice(ep, ui, clock).TokenContext(t.Context()); err != nil {
		t.Fatalf("TokenContext: %v", err)
	}
	// After each failure the wait grows (interval + backoff); a normal
	// answer resets it.
	want := []time.Duration{5 * time.Second, 10 * time.Second, 15 * time.Second, 25 * time.Second, 5 * time.Second}
	if got := clock.Waits(); !slices.Equal(got, want) {
		t.Errorf("waits = %v, want %v", got, want)
	}
}

func TestDeviceCodeNonInteractive(t *testing.T) {
	idp, ep := newDeviceIdP(t, granted)
	_, err := newDevice(ep, UI{}, fakeclock.New()).TokenContext(t.Context())
	if !errors.Is(err, ErrNonInteractive) {
		t.Fatalf("error = %v, want ErrNonInteractive", err)
	}
	if idp.polls.Load() != 0 || idp.challenge.Load() != nil {
		t.Error("a non-interactive login sent requests to the IdP")
	}
}

func TestDeviceCodeCanceled(t *testing.T) {
	_, ep := newDeviceIdP(t, pending)
	ui, _ := recordPrompts()
	ctx, cancel := context.WithCancel(t.Context())
	clock := fakeclock.New()
	d := newDevice(ep, ui, clock)
	polls := 0
	d.Wait = func(ctx context.Context, dur time.Duration) error {
		polls++
		if polls == 3 {
			cancel()
		}
		return clock.Wait(ctx, dur)
	}
	_, err := d.TokenContext(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
}

func TestDeviceAuthorizationResponse(t *testing.T) {
	now := fakeclock.New().Now()
	tests := []struct {
		name    string
		body    string
		wantErr string
		check   func(*testing.T, *deviceAuthorization)
	}{
		{name: "defaults", body: `{"device_code":"d","user_code":"U","verification_uri":"https://v"}`,
			check: func(t *testing.T, a *deviceAuthorization) {
				if a.interval != 5*time.Second || !a.expiresAt.Equal(now.Add(10*time.Minute)) {
					t.Errorf("interval %v expiresAt %v", a.interval, a.expiresAt)
				}
			}},
		{name: "google's verification_url, string numbers", body: `{"device_code":"d","user_code":"U","verification_url":"https://g","expires_in":"1800","interval":"7"}`,
			check: func(t *testing.T, a *deviceAuthorization) {
				if a.verificationURI != "https://g" || a.interval != 7*time.Second || !a.expiresAt.Equal(now.Add(30*time.Minute)) {
					t.Errorf("got %+v", a)
				}
			}},
		{name: "no user_code", body: `{"device_code":"d","verification_uri":"https://v"}`, wantErr: "has no user_code"},
		{name: "no device_code", body: `{"user_code":"U","verification_uri":"https://v"}`, wantErr: "has no device_code"},
		{name: "no verification_uri", body: `{"device_code":"d","user_code":"U"}`, wantErr: "has no verification_uri"},
		{name: "bad interval", body: `{"device_code":"d","user_code":"U","verification_uri":"https://v","interval":-1}`, wantErr: "interval is not a number of seconds"},
		{name: "not an object", body: `[1]`, wantErr: "is not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := parseDeviceAuthorization([]byte(tt.body), "https://idp.example/device?secret=x", now)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "secret=x") {
					t.Fatalf("error = %v, want it to contain %q (and no query)", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, a)
		})
	}
}

func TestDeviceAuthorizationRejected(t *testing.T) {
	srv := serve(t, map[string]http.HandlerFunc{
		"/device": func(w http.ResponseWriter, r *http.Request) { oauthError(w, 401, "invalid_client") },
	})
	ui, prompts := recordPrompts()
	d := newDevice(Endpoints{DeviceAuthorizationURL: srv.URL + "/device", TokenURL: srv.URL + "/token"}, ui, fakeclock.New())
	_, err := d.TokenContext(t.Context())
	if !errors.Is(err, oauth.ErrInvalidClient) || !strings.Contains(err.Error(), "device authorization") {
		t.Fatalf("error = %v, want invalid_client from the device authorization", err)
	}
	if len(prompts()) != 0 {
		t.Error("a prompt was shown for a rejected device authorization")
	}
}

func TestDeviceCodeWithoutPKCE(t *testing.T) {
	var challenge string
	srv := serve(t, map[string]http.HandlerFunc{
		"/device": func(w http.ResponseWriter, r *http.Request) {
			challenge = form(t, r).Get("code_challenge")
			writeJSON(w, 200, map[string]any{"device_code": "d", "user_code": "U", "verification_uri": "https://v"})
		},
		"/token": func(w http.ResponseWriter, r *http.Request) {
			if v := form(t, r).Get("code_verifier"); v != "" {
				t.Errorf("code_verifier sent with PKCE disabled")
			}
			granted(w)
		},
	})
	ui, _ := recordPrompts()
	d := newDevice(Endpoints{DeviceAuthorizationURL: srv.URL + "/device", TokenURL: srv.URL + "/token"}, ui, fakeclock.New())
	d.DisablePKCE = true
	d.Scopes = nil
	if _, err := d.TokenContext(t.Context()); err != nil {
		t.Fatal(err)
	}
	if challenge != "" {
		t.Errorf("code_challenge sent with PKCE disabled")
	}
}
