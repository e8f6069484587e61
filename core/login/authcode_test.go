package login

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/fedtoken/fedtoken/core/oauth"
)

// authIdP is an httptest IdP for the authorization code flow. Its
// authorize endpoint approves at once, like mockidp's auto-approve, by
// redirecting to redirect_uri; redirect can tamper with that redirect.
type authIdP struct {
	mu        sync.Mutex
	authorize url.Values // query of the last authorization request
	tokenForm url.Values
	redirect  func(q url.Values) url.Values // the callback query to send
	tokenResp func(w http.ResponseWriter)
}

func newAuthIdP(t *testing.T) (*authIdP, Endpoints) {
	a := &authIdP{
		redirect: func(q url.Values) url.Values {
			return url.Values{"code": {"code-secret"}, "state": {q.Get("state")}}
		},
		tokenResp: func(w http.ResponseWriter) { writeJSON(w, 200, tokenBody("rt-1")) },
	}
	srv := serve(t, map[string]http.HandlerFunc{
		"/authorize": func(w http.ResponseWriter, r *http.Request) {
			q := r.URL.Query()
			a.mu.Lock()
			a.authorize = q
			a.mu.Unlock()
			http.Redirect(w, r, q.Get("redirect_uri")+"?"+a.redirect(q).Encode(), http.StatusFound)
		},
		"/token": func(w http.ResponseWriter, r *http.Request) {
			f := form(t, r)
			a.mu.Lock()
			a.tokenForm = f
			a.mu.Unlock()
			a.tokenResp(w)
		},
	})
	return a, Endpoints{AuthorizationURL: srv.URL + "/authorize?prompt=login", TokenURL: srv.URL + "/token"}
}

// browser "opens" a URL by following it with an HTTP client, as a
// browser following the IdP's redirect to the loopback callback would.
type browser struct {
	mu     sync.Mutex
	status int
	body   string
}

func (b *browser) open(ctx context.Context, u string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	b.mu.Lock()
	b.status, b.body = resp.StatusCode, string(body)
	b.mu.Unlock()
	return nil
}

func (a *authIdP) requests() (authorize, tokenForm url.Values) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.authorize, a.tokenForm
}

func newAuthCode(ep Endpoints, ui UI) *AuthCode {
	return &AuthCode{
		Endpoints: ep,
		Client:    noRetry(),
		Auth:      oauth.ClientAuth{Method: oauth.AuthNone, ClientID: "cli"},
		Scopes:    []string{"openid", "offline_access"},
		UI:        ui,
	}
}

func TestAuthCodeSuccess(t *testing.T) {
	idp, ep := newAuthIdP(t)
	ui, prompts := recordPrompts()
	b := &browser{}
	ui.OpenBrowser = b.open
	tok, err := newAuthCode(ep, ui).TokenContext(t.Context())
	if err != nil {
		t.Fatalf("TokenContext: %v", err)
	}
	if tok.AccessToken != "at-1" || tok.RefreshToken != "rt-1" {
		t.Errorf("token = %+v", tok)
	}
	q, f := idp.requests()
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || redirect.Scheme != "http" || redirect.Hostname() != "127.0.0.1" || redirect.Path != "/oauth2/callback" || redirect.Port() == "0" {
		t.Errorf("redirect_uri = %q", q.Get("redirect_uri"))
	}
	for k, want := range map[string]string{
		"response_type": "code", "client_id": "cli", "scope": "openid offline_access",
		"code_challenge_method": "S256", "prompt": "login",
	} {
		if q.Get(k) != want {
			t.Errorf("authorize %s = %q, want %q", k, q.Get(k), want)
		}
	}
	if len(q.Get("state")) < 32 {
		t.Errorf("state %q is too short", q.Get("state"))
	}
	if f.Get("grant_type") != "authorization_code" || f.Get("code") != "code-secret" ||
		f.Get("redirect_uri") != q.Get("redirect_uri") || f.Get("client_id") != "cli" {
		t.Errorf("token form = %v", f)
	}
	if oauth2.S256ChallengeFromVerifier(f.Get("code_verifier")) != q.Get("code_challenge") {
		t.Error("code_verifier does not match code_challenge")
	}
	if b.status != 200 || !strings.Contains(b.body, "Logged in") {
		t.Errorf("browser saw %d %q", b.status, b.body)
	}
	p := prompts()
	if len(p) != 1 || !p[0].BrowserOpened || !strings.HasPrefix(p[0].AuthorizeURL, strings.TrimSuffix(ep.AuthorizationURL, "?prompt=login")+"?") {
		t.Errorf("prompts = %+v", p)
	}
}

func TestAuthCodeURLOpenedByHand(t *testing.T) {
	_, ep := newAuthIdP(t)
	b := &browser{}
	var opened sync.WaitGroup
	ui := UI{Show: func(p Prompt) {
		if p.BrowserOpened {
			t.Error("BrowserOpened is true although the opener failed")
		}
		opened.Go(func() { _ = b.open(context.Background(), p.AuthorizeURL) })
	}}
	ui.OpenBrowser = func(context.Context, string) error { return errors.New("no display") }
	if _, err := newAuthCode(ep, ui).TokenContext(t.Context()); err != nil {
		t.Fatalf("TokenContext: %v", err)
	}
	opened.Wait()
}

func TestAuthCodeCallbackFailures(t *testing.T) {
	tests := []struct {
		name     string
		redirect func(q url.Values) url.Values
		wantIs   error
		wantMsg  string
	}{
		{name: "state mismatch", redirect: func(q url.Values) url.Values {
			return url.Values{"code": {"code-secret"}, "state": {"forged"}}
		}, wantMsg: "state does not match"},
		{name: "no state", redirect: func(q url.Values) url.Values {
			return url.Values{"code": {"code-secret"}}
		}, wantMsg: "state does not match"},
		{name: "access denied", redirect: func(q url.Values) url.Values {
			return url.Values{"error": {"access_denied"}, "error_description": {"the user said no"}, "state": {q.Get("state")}}
		}, wantIs: oauth.ErrAccessDenied, wantMsg: "the user said no"},
		{name: "no code", redirect: func(q url.Values) url.Values {
			return url.Values{"state": {q.Get("state")}}
		}, wantMsg: "neither code nor error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			idp, ep := newAuthIdP(t)
			idp.redirect = tt.redirect
			ui, _ := recordPrompts()
			b := &browser{}
			ui.OpenBrowser = b.open
			_, err := newAuthCode(ep, ui).TokenContext(t.Context())
			if err == nil || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.wantMsg)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error = %v, want errors.Is %v", err, tt.wantIs)
			}
			if _, tf := idp.requests(); tf != nil {
				t.Error("the token endpoint was called after a failed callback")
			}
			if b.status != http.StatusBadRequest {
				t.Errorf("browser got HTTP %d, want 400", b.status)
			}
		})
	}
}

func TestAuthCodeTokenEndpointFailures(t *testing.T) {
	tests := []struct {
		name   string
		resp   func(w http.ResponseWriter)
		wantIs error
	}{
		{name: "invalid_grant", resp: func(w http.ResponseWriter) { oauthError(w, 400, "invalid_grant") }, wantIs: oauth.ErrInvalidGrant},
		{name: "no refresh token", resp: func(w http.ResponseWriter) { writeJSON(w, 200, tokenBody("")) }, wantIs: ErrNoRefreshToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			idp, ep := newAuthIdP(t)
			idp.tokenResp = tt.resp
			ui, _ := recordPrompts()
			ui.OpenBrowser = (&browser{}).open
			_, err := newAuthCode(ep, ui).TokenContext(t.Context())
			if !errors.Is(err, tt.wantIs) {
				t.Fatalf("error = %v, want errors.Is %v", err, tt.wantIs)
			}
			if strings.Contains(err.Error(), "code-secret") {
				t.Errorf("error leaks the authorization code: %q", err)
			}
		})
	}
}

func TestAuthCodeTimeout(t *testing.T) {
	_, ep := newAuthIdP(t)
	ui, prompts := recordPrompts() // nobody opens the URL
	a := newAuthCode(ep, ui)
	a.Timeout = 20 * time.Millisecond
	_, err := a.TokenContext(t.Context())
	if err == nil || !strings.Contains(err.Error(), "no callback from the browser within 20ms") {
		t.Fatalf("error = %v, want a timeout", err)
	}
	if len(prompts()) != 1 {
		t.Errorf("prompts = %v, want the URL shown once", prompts())
	}
}

func TestAuthCodeFixedPort(t *testing.T) {
	// A port we know is taken: the listen error names the setting.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	_, ep := newAuthIdP(t)
	ui, _ := recordPrompts()
	a := newAuthCode(ep, ui)
	a.RedirectPort = port
	_, err = a.TokenContext(t.Context())
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:"+strconv.Itoa(port)) || !strings.Contains(err.Error(), "redirectPort") {
		t.Fatalf("error = %v, want a listen error naming the port and redirectPort", err)
	}
}

func TestAuthCodeUsesFixedPortAndPath(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close() // free again; the flow binds it
	idp, ep := newAuthIdP(t)
	ui, _ := recordPrompts()
	ui.OpenBrowser = (&browser{}).open
	a := newAuthCode(ep, ui)
	a.RedirectPort = port
	a.CallbackPath = "/oauth/cb"
	if _, err := a.TokenContext(t.Context()); err != nil {
		t.Fatalf("TokenContext: %v", err)
	}
	q, _ := idp.requests()
	if want := "http://127.0.0.1:" + strconv.Itoa(port) + "/oauth/cb"; q.Get("redirect_uri") != want {
		t.Errorf("redirect_uri = %q, want %q", q.Get("redirect_uri"), want)
	}
}

func TestAuthCodeNonInteractive(t *testing.T) {
	idp, ep := newAuthIdP(t)
	opened := false
	ui := UI{OpenBrowser: func(context.Context, string) error { opened = true; return nil }}
	_, err := newAuthCode(ep, ui).TokenContext(t.Context())
	if !errors.Is(err, ErrNonInteractive) {
		t.Fatalf("error = %v, want ErrNonInteractive", err)
	}
	if q, _ := idp.requests(); opened || q != nil {
		t.Error("a non-interactive login opened a browser or reached the IdP")
	}
}

func TestAuthCodeBadEndpoint(t *testing.T) {
	ui, _ := recordPrompts()
	a := newAuthCode(Endpoints{AuthorizationURL: "not a url", TokenURL: "https://idp/token"}, ui)
	if _, err := a.TokenContext(t.Context()); err == nil || !strings.Contains(err.Error(), "not an absolute URL") {
		t.Fatalf("error = %v", err)
	}
}
