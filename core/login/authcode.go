package login

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/fedtoken/fedtoken/core/grant"
	"github.com/fedtoken/fedtoken/core/oauth"
)

// Authorization code flow defaults.
const (
	// DefaultCallbackPath is the path of the loopback redirect URI.
	DefaultCallbackPath = "/oauth2/callback"
	// DefaultAuthCodeTimeout bounds the wait for the browser's callback.
	DefaultAuthCodeTimeout = 5 * time.Minute
	loopbackHost           = "127.0.0.1"
)

// AuthCode is the authorization code grant with PKCE (RFC 7636, S256
// unless DisablePKCE) and a loopback redirect URI
// http://127.0.0.1:PORT/oauth2/callback (RFC 8252 §7.3). It is an
// oauth.TokenSource: every TokenContext call is a new login.
//
// A login listens on the loopback interface, opens the authorization URL
// in a browser through UI.OpenBrowser (and always shows it through
// UI.Show, so it can be opened by hand), waits for the redirect, checks
// its state, and redeems the code. The response must carry a refresh
// token.
type AuthCode struct {
	Endpoints
	// Client sends the token request; nil means a zero oauth.Client.
	Client *oauth.Client
	// Auth authenticates the client; its ClientID is also sent to the
	// authorization endpoint.
	Auth oauth.ClientAuth
	// Scopes are requested at the authorization endpoint.
	Scopes []string
	// Params are added to the authorization URL (e.g. prompt, acr_values).
	Params url.Values
	// DisablePKCE omits code_challenge and code_verifier.
	DisablePKCE bool
	// RedirectPort is the loopback port; 0 picks a free one. An IdP that
	// does not allow any port for loopback redirects needs a fixed one.
	RedirectPort int
	// CallbackPath is the redirect URI's path; empty means DefaultCallbackPath.
	CallbackPath string
	// Timeout bounds the wait for the callback; 0 means DefaultAuthCodeTimeout.
	Timeout time.Duration
	// UI shows the URL and opens the browser. Without UI.Show the login
	// fails with ErrNonInteractive before anything is started.
	UI UI
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Token runs a login with context.Background().
func (a *AuthCode) Token() (*oauth2.Token, error) { return a.TokenContext(context.Background()) }

// TokenContext runs a browser login and returns its token.
func (a *AuthCode) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	if !a.UI.interactive() {
		return nil, fmt.Errorf("%w (authorization code login needs a person with a browser)", ErrNonInteractive)
	}
	ep, err := a.Endpoints.resolve(ctx, true, false)
	if err != nil {
		return nil, err
	}
	timeout := a.Timeout
	if timeout <= 0 {
		timeout = DefaultAuthCodeTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	addr := net.JoinHostPort(loopbackHost, strconv.Itoa(a.RedirectPort))
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("login: listen on %s for the OAuth callback: %w (set redirectPort to a free port, or 0 for any)", addr, err)
	}
	path := a.CallbackPath
	if path == "" {
		path = DefaultCallbackPath
	}
	redirectURI := "http://" + ln.Addr().String() + path

	var p pkce
	if !a.DisablePKCE {
		p = newPKCE()
	}
	state := randomState()
	authURL, err := a.authorizeURL(ep.authorization, redirectURI, state, p)
	if err != nil {
		_ = ln.Close()
		return nil, err
	}

	results := make(chan callbackResult, 1)
	srv := &http.Server{
		Handler:           &callbackHandler{path: path, state: state, results: results},
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() { _ = srv.Serve(ln) }()
	defer func() { _ = srv.Close() }()

	opened := false
	if a.UI.OpenBrowser != nil {
		opened = a.UI.OpenBrowser(ctx, authURL) == nil
	}
	a.UI.Show(Prompt{AuthorizeURL: authURL, BrowserOpened: opened, ExpiresAt: a.now().Add(timeout)})

	var res callbackResult
	select {
	case res = <-results:
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, fmt.Errorf("login: no callback from the browser within %s; open the URL shown and log in, or run the login again", timeout)
		}
		return nil, fmt.Errorf("login: waiting for the browser: %w", ctx.Err())
	}
	if res.err != nil {
		return nil, res.err
	}

	form := url.Values{
		"grant_type":   {grant.GrantTypeAuthorizationCode},
		"code":         {res.code.Reveal()},
		"redirect_uri": {redirectURI},
	}
	p.verify(form)
	tok, err := a.client().Token(ctx, ep.token, form, a.Auth)
	if err != nil {
		return nil, fmt.Errorf("login: redeem the authorization code: %w", err)
	}
	return requireRefreshToken(tok)
}

// authorizeURL builds the authorization request (RFC 6749 §4.1.1),
// keeping any query the configured endpoint already has.
func (a *AuthCode) authorizeURL(endpoint, redirectURI, state string, p pkce) (string, error) {
	u, err := url.Parse(endpoint)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", fmt.Errorf("login: authorization endpoint %q is not an absolute URL", oauth.RedactURL(endpoint))
	}
	q := u.Query()
	q.Set("response_type", "code")
	q.Set("client_id", a.Auth.ClientID)
	q.Set("redirect_uri", redirectURI)
	q.Set("state", state)
	if len(a.Scopes) > 0 {
		q.Set("scope", strings.Join(a.Scopes, " "))
	}
	p.challenge(q)
	for k, vs := range a.Params {
		q[k] = append([]string(nil), vs...)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

func (a *AuthCode) client() *oauth.Client {
	if a.Client != nil {
		return a.Client
	}
	return &oauth.Client{}
}

func (a *AuthCode) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// callbackResult is the outcome of the first redirect that reached the callback.
type callbackResult struct {
	code oauth.Secret
	err  error
}

// callbackHandler serves the loopback redirect URI. The first request to
// its path ends the login, successfully or not; later ones get a page
// saying the login is over.
type callbackHandler struct {
	path    string
	state   string
	results chan callbackResult // buffered, capacity 1
}

func (h *callbackHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != h.path {
		http.NotFound(w, r)
		return
	}
	res := h.result(r.URL.Query())
	select {
	case h.results <- res:
	default:
		writePage(w, http.StatusConflict, "This login is already over. Close this window and check the terminal.")
		return
	}
	if res.err != nil {
		writePage(w, http.StatusBadRequest, "Login failed: "+res.err.Error()+" — close this window and check the terminal.")
		return
	}
	writePage(w, http.StatusOK, "Logged in. You can close this window and return to the terminal.")
}

// result checks one redirect (RFC 6749 §4.1.2): state first, then an
// error response, then the code.
func (h *callbackHandler) result(q url.Values) callbackResult {
	if got := q.Get("state"); subtle.ConstantTimeCompare([]byte(got), []byte(h.state)) != 1 {
		return callbackResult{err: errors.New("login: the callback's state does not match this login (a stale browser tab, or a forged request); run the login again")}
	}
	if code := q.Get("error"); code != "" {
		oe := &oauth.Error{Code: code, Description: q.Get("error_description"), URI: q.Get("error_uri")}
		return callbackResult{err: fmt.Errorf("login: the IdP refused the authorization: %w", oe)}
	}
	code := q.Get("code")
	if code == "" {
		return callbackResult{err: errors.New("login: the callback has neither code nor error")}
	}
	return callbackResult{code: oauth.Secret(code)}
}

func writePage(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!doctype html><meta charset=utf-8><title>fedtoken</title><p>%s</p>\n", html.EscapeString(msg))
}
