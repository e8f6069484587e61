package mockidp

import (
	"context"
	"crypto/subtle"
	"net/http"
	"net/url"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// authCode is an issued authorization code.
type authCode struct {
	client      string
	redirectURI string
	challenge   string
	scopes      []string
	nonce       string
	user        *UserConfig
	expires     time.Time
	used        bool
}

// pendingLogin is an authorization request waiting on the login page.
type pendingLogin struct {
	req     *oidc.AuthRequest
	client  *client
	expires time.Time
}

// loginLifetime bounds how long the login page of a request stays valid.
const loginLifetime = 10 * time.Minute

// VerifyAuthRequest implements op.Server: it finds the client of an
// authorization request.
func (is *issuer) VerifyAuthRequest(ctx context.Context, r *op.Request[oidc.AuthRequest]) (*op.ClientRequest[oidc.AuthRequest], error) {
	recordFrom(ctx).setClient(r.Data.ClientID, "")
	cl := is.lookupClient(r.Data.ClientID)
	if cl == nil {
		return nil, oidc.ErrInvalidRequestRedirectURI().WithDescription("unknown client %q", r.Data.ClientID)
	}
	return &op.ClientRequest[oidc.AuthRequest]{Request: r, Client: &authedClient{client: cl, method: AuthNone}}, nil
}

// Authorize implements op.Server. zitadel has already checked the
// redirect_uri, scopes, response_type and code_challenge_method. With
// login.autoApprove the code is issued at once; otherwise the user is sent
// to the login page.
func (is *issuer) Authorize(ctx context.Context, r *op.ClientRequest[oidc.AuthRequest]) (*op.Redirect, error) {
	cl := r.Client.(*authedClient)
	req := r.Data
	if !cl.allows(GrantAuthorizationCode) {
		return nil, unauthorizedClient("client %q may not use grant authorization_code", cl.cfg.ID)
	}
	if req.CodeChallenge == "" && cl.cfg.Public {
		return nil, invalidRequest("code_challenge missing: public clients must use PKCE with S256")
	}
	if req.CodeChallenge != "" && req.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, invalidRequest("code_challenge_method %q is not supported: use S256", req.CodeChallengeMethod)
	}
	if _, err := cl.grantScopes(req.Scopes); err != nil {
		return nil, err
	}
	if is.cfg.Login.AutoApprove {
		u := is.autoUser()
		recordFrom(ctx).setSubject(map[string]any{"sub": u.subject(), "username": u.Username})
		return op.NewRedirect(is.codeRedirect(req, cl.client, u)), nil
	}
	id := randomToken(16)
	is.mu.Lock()
	is.logins[id] = &pendingLogin{req: req, client: cl.client, expires: is.now().Add(loginLifetime)}
	is.mu.Unlock()
	return op.NewRedirect(is.url + pathLogin + "?authRequest=" + url.QueryEscape(id)), nil
}

// codeRedirect issues a code for u and returns the client redirect.
func (is *issuer) codeRedirect(req *oidc.AuthRequest, cl *client, u *UserConfig) string {
	code := randomToken(32)
	is.mu.Lock()
	is.codes[hashSecret(code)] = &authCode{
		client: cl.cfg.ID, redirectURI: req.RedirectURI, challenge: req.CodeChallenge,
		scopes: req.Scopes, nonce: req.Nonce, user: u, expires: is.now().Add(authCodeLifetime),
	}
	is.mu.Unlock()
	return redirectWith(req.RedirectURI, url.Values{"code": {code}, "state": {req.State}, "iss": {is.url}})
}

// redirectWith adds params (empty values skipped) to the redirect URI's query.
func redirectWith(redirectURI string, params url.Values) string {
	u, err := url.Parse(redirectURI)
	if err != nil {
		return redirectURI
	}
	q := u.Query()
	for k, vs := range params {
		if len(vs) > 0 && vs[0] != "" {
			q.Set(k, vs[0])
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// CodeExchange implements op.Server: the authorization code grant with
// PKCE (S256).
func (is *issuer) CodeExchange(ctx context.Context, r *op.ClientRequest[oidc.AccessTokenRequest]) (*op.Response, error) {
	cl := r.Client.(*authedClient)
	is.mu.Lock()
	ac := is.codes[hashSecret(r.Data.Code)]
	var used bool
	if ac != nil {
		used, ac.used = ac.used, true
	}
	is.mu.Unlock()
	switch {
	case ac == nil:
		return nil, invalidGrant("unknown authorization code")
	case used:
		return nil, invalidGrant("authorization code was already used")
	case is.now().After(ac.expires):
		return nil, invalidGrant("authorization code expired at %s", fmtTime(ac.expires))
	case ac.client != cl.cfg.ID:
		return nil, invalidGrant("authorization code was issued to another client")
	case ac.redirectURI != r.Data.RedirectURI:
		return nil, invalidGrant("redirect_uri does not match the authorization request")
	}
	if err := checkPKCE(ac.challenge, r.Data.CodeVerifier); err != nil {
		return nil, err
	}
	return is.issueInteractive(ctx, interactiveGrant{client: cl.client, user: ac.user, scopes: ac.scopes, nonce: ac.nonce})
}

// checkPKCE verifies an S256 code_verifier against the challenge.
func checkPKCE(challenge, verifier string) error {
	switch {
	case challenge == "" && verifier == "":
		return nil
	case challenge == "":
		return invalidGrant("code_verifier sent but the authorization request had no code_challenge")
	case verifier == "":
		return invalidGrant("code_verifier missing: the authorization request had a code_challenge")
	case subtle.ConstantTimeCompare([]byte(oidc.NewSHACodeChallenge(verifier)), []byte(challenge)) != 1:
		return invalidGrant("code_verifier does not match the code_challenge (S256)")
	}
	return nil
}

// checkPassword reports whether username and password sign in. Without
// configured users anyone signs in under the name they type.
func (is *issuer) checkPassword(username, password string) (*UserConfig, bool) {
	is.mu.Lock()
	defer is.mu.Unlock()
	if len(is.users) == 0 {
		if username == "" {
			username = defaultUsername
		}
		return &UserConfig{Username: username}, true
	}
	u, ok := is.users[username]
	if !ok {
		return nil, false
	}
	return u, subtle.ConstantTimeCompare([]byte(password), []byte(u.Password.Reveal())) == 1
}

func (is *issuer) loginPage(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("authRequest")
	pl := is.pendingLogin(id, false)
	if pl == nil {
		renderPage(w, http.StatusBadRequest, pageData{Title: "Sign-in request expired", Error: "This sign-in request is unknown or expired. Start again from the application."})
		return
	}
	is.renderLogin(w, http.StatusOK, id, pl, "")
}

func (is *issuer) renderLogin(w http.ResponseWriter, status int, id string, pl *pendingLogin, msg string) {
	renderPage(w, status, pageData{
		Title:  "Sign in to " + is.name,
		Action: is.url + pathLogin, Hidden: map[string]string{"authRequest": id},
		Client: pl.client.cfg.ID, Scopes: pl.req.Scopes, Users: is.usernames(), Error: msg, Login: true,
	})
}

func (is *issuer) usernames() []string {
	var out []string
	for _, u := range is.cfg.Users {
		out = append(out, u.Username)
	}
	return out
}

func (is *issuer) pendingLogin(id string, remove bool) *pendingLogin {
	is.mu.Lock()
	defer is.mu.Unlock()
	pl := is.logins[id]
	if pl == nil {
		return nil
	}
	if is.now().After(pl.expires) {
		delete(is.logins, id)
		return nil
	}
	if remove {
		delete(is.logins, id)
	}
	return pl
}

func (is *issuer) loginSubmit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		renderPage(w, http.StatusBadRequest, pageData{Title: "Bad request", Error: "The form could not be read."})
		return
	}
	id := r.PostForm.Get("authRequest")
	pl := is.pendingLogin(id, false)
	if pl == nil {
		renderPage(w, http.StatusBadRequest, pageData{Title: "Sign-in request expired", Error: "This sign-in request is unknown or expired. Start again from the application."})
		return
	}
	rec := recordFrom(r.Context())
	rec.setClient(pl.client.cfg.ID, "")
	if r.PostForm.Get("action") == "deny" {
		is.pendingLogin(id, true)
		rec.setOutcome("access_denied")
		http.Redirect(w, r, redirectWith(pl.req.RedirectURI, url.Values{
			"error": {"access_denied"}, "error_description": {"the user denied the request"}, "state": {pl.req.State}, "iss": {is.url},
		}), http.StatusSeeOther)
		return
	}
	u, ok := is.checkPassword(r.PostForm.Get("username"), r.PostForm.Get("password"))
	if !ok {
		rec.setOutcome("login_failed")
		is.renderLogin(w, http.StatusUnauthorized, id, pl, "Unknown user or wrong password.")
		return
	}
	is.pendingLogin(id, true)
	rec.setSubject(map[string]any{"sub": u.subject(), "username": u.Username})
	http.Redirect(w, r, is.codeRedirect(pl.req, pl.client, u), http.StatusSeeOther)
}
