package mockidp_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/fedtoken/fedtoken/mockidp"
	"github.com/fedtoken/fedtoken/mockidp/mockidptest"
)

func dur(d time.Duration) *mockidp.Duration {
	v := mockidp.Duration(d)
	return &v
}

// interactiveConfig has users and clients for the device, code and refresh
// grants. autoApprove signs alice in without a page.
func interactiveConfig(autoApprove bool) mockidp.Config {
	return mockidp.Config{Issuers: []mockidp.IssuerConfig{{
		Name: "prod",
		Users: []mockidp.UserConfig{
			{Username: "alice", Password: "wonderland", Subject: "user-alice", Claims: map[string]any{"email": "alice@example.com"}},
			{Username: "bob", Password: "builder"},
		},
		Login:  mockidp.LoginConfig{AutoApprove: autoApprove, User: "alice"},
		Device: mockidp.DeviceConfig{Interval: dur(0)},
		Clients: []mockidp.ClientConfig{
			{ID: "cli", Public: true, RedirectURIs: []string{"http://127.0.0.1/callback"}},
			{ID: "web", Secret: "websecret", RedirectURIs: []string{"http://127.0.0.1:9999/cb"}},
			{ID: "device-only", Public: true, Grants: []string{"device_code"}},
		},
	}}}
}

// noRedirect is a client that returns redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func location(t *testing.T, r response) *url.URL {
	t.Helper()
	if r.Status/100 != 3 {
		t.Fatalf("want a redirect, got %d %s", r.Status, r.Raw)
	}
	u, err := url.Parse(r.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func getNoRedirect(t *testing.T, u string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, noRedirect, req)
}

func postNoRedirect(t *testing.T, u string, form url.Values) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(t, noRedirect, req)
}

func TestAuthorizationCodeWithZitadelRP(t *testing.T) {
	idp := start(t, interactiveConfig(true))
	prod := idp.IssuerURL("prod")
	ctx := context.Background()
	redirect := "http://127.0.0.1:53682/callback" // any loopback port for a native client
	party, err := rp.NewRelyingPartyOIDC(ctx, prod, "cli", "", redirect, []string{"openid", "email", "offline_access"})
	if err != nil {
		t.Fatalf("NewRelyingPartyOIDC: %v", err)
	}
	verifier := "a-code-verifier-that-is-long-enough-0123456789"
	authURL := rp.AuthURL("st4te", party, rp.WithCodeChallenge(oidc.NewSHACodeChallenge(verifier)))
	loc := location(t, getNoRedirect(t, authURL))
	if loc.Query().Get("state") != "st4te" || loc.Query().Get("iss") != prod || !strings.HasPrefix(loc.String(), redirect) {
		t.Fatalf("redirect = %s", loc)
	}
	tokens, err := rp.CodeExchange[*oidc.IDTokenClaims](ctx, loc.Query().Get("code"), party, rp.WithCodeVerifier(verifier))
	if err != nil {
		t.Fatalf("CodeExchange: %v", err)
	}
	if tokens.IDTokenClaims.Subject != "user-alice" || tokens.IDTokenClaims.Claims["email"] != "alice@example.com" {
		t.Fatalf("id token claims = %+v", tokens.IDTokenClaims)
	}
	if c := verifyIssued(t, prod, tokens.AccessToken); c["sub"] != "user-alice" || c["client_id"] != "cli" {
		t.Fatalf("access token claims = %v", c)
	}
	if tokens.RefreshToken == "" {
		t.Fatal("no refresh token")
	}
	refreshed, err := rp.RefreshTokens[*oidc.IDTokenClaims](ctx, party, tokens.RefreshToken, "", "")
	if err != nil {
		t.Fatalf("RefreshTokens: %v", err)
	}
	if refreshed.RefreshToken == "" || refreshed.RefreshToken == tokens.RefreshToken {
		t.Fatal("refresh did not rotate the refresh token")
	}
	if _, err := rp.RefreshTokens[*oidc.IDTokenClaims](ctx, party, tokens.RefreshToken, "", ""); err == nil || !strings.Contains(err.Error(), "already used") {
		t.Fatalf("reusing the rotated refresh token: err = %v", err)
	}
	info, err := rp.Userinfo[*oidc.UserInfo](ctx, refreshed.AccessToken, "Bearer", "user-alice", party)
	if err != nil {
		t.Fatalf("Userinfo: %v", err)
	}
	if info.Email != "alice@example.com" {
		t.Fatalf("userinfo = %+v", info)
	}
}

func TestAuthorizationCodeErrors(t *testing.T) {
	clock := newFakeClock()
	idp := start(t, interactiveConfig(true), mockidp.WithClock(clock.Now))
	prod := idp.IssuerURL("prod")
	verifier := "verifier-0123456789-0123456789-0123456789"
	authorize := func(params url.Values) response {
		return getNoRedirect(t, prod+"/authorize?"+params.Encode())
	}
	base := func(extra ...string) url.Values {
		v := url.Values{"client_id": {"cli"}, "response_type": {"code"}, "scope": {"openid"}, "state": {"s"},
			"redirect_uri": {"http://127.0.0.1:7777/callback"}, "code_challenge": {oidc.NewSHACodeChallenge(verifier)}, "code_challenge_method": {"S256"}}
		for i := 0; i+1 < len(extra); i += 2 {
			if extra[i+1] == "" {
				v.Del(extra[i])
			} else {
				v.Set(extra[i], extra[i+1])
			}
		}
		return v
	}
	t.Run("public client without PKCE", func(t *testing.T) {
		loc := location(t, authorize(base("code_challenge", "", "code_challenge_method", "")))
		if loc.Query().Get("error") != "invalid_request" || !strings.Contains(loc.Query().Get("error_description"), "public clients must use PKCE") {
			t.Fatalf("redirect = %s", loc)
		}
		if rec := lastRecord(t, idp, "authorize"); rec.Outcome != "invalid_request" || rec.ClientID != "cli" {
			t.Fatalf("log = %+v", rec)
		}
	})
	t.Run("plain PKCE", func(t *testing.T) {
		loc := location(t, authorize(base("code_challenge_method", "plain")))
		if !strings.Contains(loc.Query().Get("error_description"), `code_challenge_method "plain" is not supported`) {
			t.Fatalf("redirect = %s", loc)
		}
	})
	t.Run("unknown client is not redirected", func(t *testing.T) {
		if r := authorize(base("client_id", "nobody")); r.Status != 400 || !strings.Contains(r.Raw, `unknown client`) {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
	})
	t.Run("unregistered redirect_uri is not redirected", func(t *testing.T) {
		if r := authorize(base("redirect_uri", "https://evil.example/cb")); r.Status != 400 {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
	})

	code := func() string {
		return location(t, authorize(base())).Query().Get("code")
	}
	exchange := func(code string, extra ...string) response {
		v := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "client_id": {"cli"},
			"redirect_uri": {"http://127.0.0.1:7777/callback"}, "code_verifier": {verifier}}
		for i := 0; i+1 < len(extra); i += 2 {
			v.Set(extra[i], extra[i+1])
		}
		return postForm(t, prod+"/token", v, "")
	}
	t.Run("code exchange errors", func(t *testing.T) {
		wantOAuthError(t, exchange(code(), "code_verifier", "wrong-verifier-0123456789-0123456789-01"), 400, "invalid_grant", "code_verifier does not match the code_challenge")
		wantOAuthError(t, exchange(code(), "code_verifier", ""), 400, "invalid_grant", "code_verifier missing")
		wantOAuthError(t, exchange(code(), "redirect_uri", "http://127.0.0.1:7777/other"), 400, "invalid_grant", "redirect_uri does not match")
		wantOAuthError(t, exchange("nonsense"), 400, "invalid_grant", "unknown authorization code")
		c := code()
		if r := exchange(c); r.Status != 200 {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
		wantOAuthError(t, exchange(c), 400, "invalid_grant", "authorization code was already used")
		c = code()
		wantOAuthError(t, exchange(c, "client_id", "web", "client_secret", "websecret"), 400, "invalid_grant", "issued to another client")
		c = code()
		clock.Advance(2 * time.Minute)
		wantOAuthError(t, exchange(c), 400, "invalid_grant", "authorization code expired at")
	})
}

func TestLoginPage(t *testing.T) {
	idp := start(t, interactiveConfig(false))
	prod := idp.IssuerURL("prod")
	params := url.Values{"client_id": {"web"}, "response_type": {"code"}, "scope": {"openid profile"}, "state": {"xyz"},
		"redirect_uri": {"http://127.0.0.1:9999/cb"}}
	begin := func() string {
		loc := location(t, getNoRedirect(t, prod+"/authorize?"+params.Encode()))
		if loc.Path != "/prod/login" {
			t.Fatalf("not sent to the login page: %s", loc)
		}
		return loc.Query().Get("authRequest")
	}
	id := begin()
	page := get(t, prod+"/login?authRequest="+url.QueryEscape(id))
	if page.Status != 200 || !strings.Contains(page.Raw, "<b>web</b>") || !strings.Contains(page.Raw, "<code>alice</code>") || strings.Contains(page.Raw, "wonderland") {
		t.Fatalf("login page: %d %s", page.Status, page.Raw)
	}
	bad := postNoRedirect(t, prod+"/login", url.Values{"authRequest": {id}, "username": {"alice"}, "password": {"nope"}, "action": {"approve"}})
	if bad.Status != 401 || !strings.Contains(bad.Raw, "wrong password") {
		t.Fatalf("wrong password: %d %s", bad.Status, bad.Raw)
	}
	okr := postNoRedirect(t, prod+"/login", url.Values{"authRequest": {id}, "username": {"bob"}, "password": {"builder"}, "action": {"approve"}})
	loc := location(t, okr)
	if loc.Query().Get("state") != "xyz" || loc.Query().Get("code") == "" {
		t.Fatalf("redirect = %s", loc)
	}
	r := postForm(t, prod+"/token", url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")},
		"redirect_uri": {"http://127.0.0.1:9999/cb"}}, "web:websecret")
	if r.Status != 200 || claimsOf(t, r.str("id_token"))["sub"] != "bob" {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	if again := get(t, prod+"/login?authRequest="+url.QueryEscape(id)); again.Status != 400 {
		t.Fatalf("a used sign-in request must expire: %d", again.Status)
	}

	id = begin()
	deny := location(t, postNoRedirect(t, prod+"/login", url.Values{"authRequest": {id}, "action": {"deny"}}))
	if deny.Query().Get("error") != "access_denied" || deny.Query().Get("state") != "xyz" {
		t.Fatalf("deny redirect = %s", deny)
	}
	if rec := lastRecord(t, idp, "login"); rec.Outcome != "access_denied" {
		t.Fatalf("log = %+v", rec)
	}
}

func TestDeviceFlowWithZitadelRP(t *testing.T) {
	idp := start(t, interactiveConfig(true))
	prod := idp.IssuerURL("prod")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	party, err := rp.NewRelyingPartyOIDC(ctx, prod, "cli", "", "", []string{"openid", "offline_access"})
	if err != nil {
		t.Fatal(err)
	}
	da, err := rp.DeviceAuthorization(ctx, []string{"openid", "offline_access"}, party, nil)
	if err != nil {
		t.Fatalf("DeviceAuthorization: %v", err)
	}
	if da.VerificationURI != prod+"/device" || !strings.Contains(da.VerificationURIComplete, url.QueryEscape(da.UserCode)) || da.ExpiresIn != 600 {
		t.Fatalf("device authorization = %+v", da)
	}
	// rp polls after the interval and bounds each poll by it.
	tok, err := rp.DeviceAccessToken(ctx, da.DeviceCode, time.Second, party)
	if err != nil {
		t.Fatalf("DeviceAccessToken: %v", err)
	}
	if c := verifyIssued(t, prod, tok.AccessToken); c["sub"] != "user-alice" {
		t.Fatalf("claims = %v", c)
	}
	if tok.RefreshToken == "" || tok.IDToken == "" {
		t.Fatalf("response = %+v", tok)
	}
}

// deviceStart starts a device authorization with raw HTTP.
func deviceStart(t *testing.T, idp *mockidptest.Server, form url.Values) response {
	t.Helper()
	r := postForm(t, idp.IssuerURL("prod")+"/device_authorization", form, "")
	if r.Status != 200 {
		t.Fatalf("device authorization: %d %s", r.Status, r.Raw)
	}
	return r
}

func devicePoll(t *testing.T, idp *mockidptest.Server, code string, extra ...string) response {
	t.Helper()
	v := url.Values{"grant_type": {mockidp.GrantDeviceCode}, "device_code": {code}, "client_id": {"cli"}}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	return postForm(t, idp.IssuerURL("prod")+"/token", v, "")
}

func TestDevicePollingErrors(t *testing.T) {
	clock := newFakeClock()
	cfg := interactiveConfig(true)
	cfg.Issuers[0].Device = mockidp.DeviceConfig{Interval: dur(5 * time.Second), PendingPolls: 2, Lifetime: mockidp.Duration(time.Minute)}
	idp := start(t, cfg, mockidp.WithClock(clock.Now))

	da := deviceStart(t, idp, url.Values{"client_id": {"cli"}, "scope": {"openid"}})
	if da.Body["interval"] != float64(5) || da.Body["expires_in"] != float64(60) {
		t.Fatalf("device authorization = %s", da.Raw)
	}
	code := da.str("device_code")
	wantOAuthError(t, devicePoll(t, idp, code), 400, "authorization_pending", "not approved")
	wantOAuthError(t, devicePoll(t, idp, code), 400, "slow_down", "wait 10s between polls")
	clock.Advance(5 * time.Second)
	wantOAuthError(t, devicePoll(t, idp, code), 400, "slow_down", "wait 15s between polls")
	clock.Advance(15 * time.Second)
	wantOAuthError(t, devicePoll(t, idp, code), 400, "authorization_pending", "")
	clock.Advance(15 * time.Second)
	ok := devicePoll(t, idp, code)
	if ok.Status != 200 || claimsOf(t, ok.str("access_token"))["sub"] != "user-alice" {
		t.Fatalf("third counted poll should be approved: %d %s", ok.Status, ok.Raw)
	}
	clock.Advance(15 * time.Second)
	wantOAuthError(t, devicePoll(t, idp, code), 400, "invalid_grant", "device_code was already used")
	wantOAuthError(t, devicePoll(t, idp, "nope"), 400, "invalid_grant", "unknown device_code")

	other := deviceStart(t, idp, url.Values{"client_id": {"device-only"}}).str("device_code")
	wantOAuthError(t, devicePoll(t, idp, other), 400, "invalid_grant", "issued to another client")

	expiring := deviceStart(t, idp, url.Values{"client_id": {"cli"}}).str("device_code")
	clock.Advance(61 * time.Second)
	wantOAuthError(t, devicePoll(t, idp, expiring), 400, "expired_token", "device_code expired at")

	r := postForm(t, idp.IssuerURL("prod")+"/device_authorization", url.Values{"client_id": {"web"}}, "")
	wantOAuthError(t, r, 401, "invalid_client", `client "web" is confidential`)
}

func TestDeviceApprovalAndDenial(t *testing.T) {
	idp := start(t, interactiveConfig(false), mockidp.WithAdminAPI())
	prod := idp.IssuerURL("prod")

	da := deviceStart(t, idp, url.Values{"client_id": {"cli"}, "scope": {"openid"}})
	page := get(t, da.str("verification_uri_complete"))
	if page.Status != 200 || !strings.Contains(page.Raw, `value="`+da.str("user_code")+`"`) {
		t.Fatalf("device page: %d %s", page.Status, page.Raw)
	}
	wantOAuthError(t, devicePoll(t, idp, da.str("device_code")), 400, "authorization_pending", "")
	bad := postForm(t, prod+"/device", url.Values{"user_code": {da.str("user_code")}, "username": {"bob"}, "password": {"x"}, "action": {"approve"}}, "")
	if bad.Status != 401 {
		t.Fatalf("wrong password: %d", bad.Status)
	}
	good := postForm(t, prod+"/device", url.Values{"user_code": {strings.ToLower(da.str("user_code"))}, "username": {"bob"}, "password": {"builder"}, "action": {"approve"}}, "")
	if good.Status != 200 || !strings.Contains(good.Raw, "connected") {
		t.Fatalf("approve: %d %s", good.Status, good.Raw)
	}
	if r := devicePoll(t, idp, da.str("device_code")); r.Status != 200 || claimsOf(t, r.str("id_token"))["sub"] != "bob" {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}

	denied := deviceStart(t, idp, url.Values{"client_id": {"cli"}})
	r := postForm(t, idp.BaseURL()+"/admin/issuers/prod/device/deny", nil, "")
	if r.Status != 400 {
		t.Fatalf("deny without a body: %d %s", r.Status, r.Raw)
	}
	req, _ := http.NewRequest(http.MethodPost, idp.BaseURL()+"/admin/issuers/prod/device/deny", strings.NewReader(`{"userCode":"`+denied.str("user_code")+`"}`))
	if r := do(t, http.DefaultClient, req); r.Status != 204 {
		t.Fatalf("admin deny: %d %s", r.Status, r.Raw)
	}
	wantOAuthError(t, devicePoll(t, idp, denied.str("device_code")), 400, "access_denied", "denied")
	if err := idp.ApproveDevice("prod", denied.str("user_code"), "alice"); err == nil || !strings.Contains(err.Error(), "already decided") {
		t.Fatalf("approve after deny: %v", err)
	}
	if err := idp.ApproveDevice("prod", "ZZZZ-ZZZZ", ""); err == nil || !strings.Contains(err.Error(), "unknown user code") {
		t.Fatalf("unknown code: %v", err)
	}

	approved := deviceStart(t, idp, url.Values{"client_id": {"cli"}})
	if err := idp.ApproveDevice("prod", approved.str("user_code"), "alice"); err != nil {
		t.Fatal(err)
	}
	if r := devicePoll(t, idp, approved.str("device_code")); r.Status != 200 || claimsOf(t, r.str("access_token"))["sub"] != "user-alice" {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
}

func TestDevicePKCE(t *testing.T) {
	idp := start(t, interactiveConfig(true))
	verifier := "device-verifier-0123456789-0123456789-0123"
	da := deviceStart(t, idp, url.Values{"client_id": {"cli"}, "code_challenge": {oidc.NewSHACodeChallenge(verifier)}, "code_challenge_method": {"S256"}})
	code := da.str("device_code")
	wantOAuthError(t, devicePoll(t, idp, code), 400, "invalid_grant", "code_verifier missing")
	wantOAuthError(t, devicePoll(t, idp, code, "code_verifier", "wrong-verifier-0123456789-0123456789-0123"), 400, "invalid_grant", "code_verifier does not match")
	if r := devicePoll(t, idp, code, "code_verifier", verifier); r.Status != 200 {
		t.Fatalf("a wrong verifier must not consume the code: %d %s", r.Status, r.Raw)
	}
	r := postForm(t, idp.IssuerURL("prod")+"/device_authorization", url.Values{"client_id": {"cli"}, "code_challenge": {"x"}, "code_challenge_method": {"plain"}}, "")
	wantOAuthError(t, r, 400, "invalid_request", "use S256")
}

// deviceToken runs a device flow to the end and returns the token response.
func deviceToken(t *testing.T, idp *mockidptest.Server, scope string) response {
	t.Helper()
	da := deviceStart(t, idp, url.Values{"client_id": {"cli"}, "scope": {scope}})
	r := devicePoll(t, idp, da.str("device_code"))
	if r.Status != 200 {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	return r
}

func refresh(t *testing.T, idp *mockidptest.Server, rt string, extra ...string) response {
	t.Helper()
	v := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {"cli"}}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	return postForm(t, idp.IssuerURL("prod")+"/token", v, "")
}

func TestRefreshRotation(t *testing.T) {
	clock := newFakeClock()
	idp := start(t, interactiveConfig(true), mockidp.WithClock(clock.Now))
	first := deviceToken(t, idp, "openid email")
	rt1 := first.str("refresh_token")
	r := refresh(t, idp, rt1)
	rt2 := r.str("refresh_token")
	if r.Status != 200 || rt2 == "" || rt2 == rt1 || r.str("id_token") == "" || r.str("scope") != "openid email" {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	wantOAuthError(t, refresh(t, idp, rt1), 400, "invalid_grant", "refresh token was already used (it was rotated)")
	narrowed := refresh(t, idp, rt2, "scope", "email")
	if narrowed.Status != 200 || narrowed.str("scope") != "email" || narrowed.str("id_token") != "" {
		t.Fatalf("%d %s", narrowed.Status, narrowed.Raw)
	}
	wantOAuthError(t, refresh(t, idp, narrowed.str("refresh_token"), "scope", "admin"), 400, "invalid_scope", "scope admin was not granted")
	rt4 := refresh(t, idp, narrowed.str("refresh_token")).str("refresh_token")
	wantOAuthError(t, refresh(t, idp, rt4, "client_id", "web", "client_secret", "websecret"), 400, "invalid_grant", "issued to another client")
	clock.Advance(25 * time.Hour)
	wantOAuthError(t, refresh(t, idp, rt4), 400, "invalid_grant", "refresh token expired at")
	wantOAuthError(t, refresh(t, idp, "garbage"), 400, "invalid_grant", "unknown refresh token")
}

func TestRefreshWithoutRotation(t *testing.T) {
	cfg := interactiveConfig(true)
	cfg.Issuers[0].KeepRefreshToken = true
	idp := start(t, cfg)
	rt := deviceToken(t, idp, "openid").str("refresh_token")
	for range 2 {
		r := refresh(t, idp, rt)
		if r.Status != 200 || r.str("refresh_token") != "" {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
	}
}

func TestIntrospectionUserinfoRevocation(t *testing.T) {
	clock := newFakeClock()
	idp := start(t, interactiveConfig(true), mockidp.WithClock(clock.Now))
	prod := idp.IssuerURL("prod")
	tok := deviceToken(t, idp, "openid email")
	at, rt := tok.str("access_token"), tok.str("refresh_token")
	introspect := func(token string) response {
		return postForm(t, prod+"/introspect", url.Values{"token": {token}}, "web:websecret")
	}
	userinfo := func(token string) response {
		req, _ := http.NewRequest(http.MethodGet, prod+"/userinfo", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		return do(t, http.DefaultClient, req)
	}

	if r := introspect(at); r.Body["active"] != true || r.str("sub") != "user-alice" || r.str("client_id") != "cli" || r.str("scope") != "openid email" {
		t.Fatalf("introspect access token: %s", r.Raw)
	}
	if r := introspect(rt); r.Body["active"] != true || r.str("token_type") != "refresh_token" {
		t.Fatalf("introspect refresh token: %s", r.Raw)
	}
	if r := introspect("garbage"); r.Status != 200 || r.Body["active"] != false || len(r.Body) != 1 {
		t.Fatalf("introspect garbage: %s", r.Raw)
	}
	wantOAuthError(t, postForm(t, prod+"/introspect", url.Values{"token": {at}, "client_id": {"cli"}}, ""), 400, "invalid_client", "client must be authenticated")
	wantOAuthError(t, postForm(t, prod+"/introspect", url.Values{"token": {at}}, "web:wrong"), 401, "invalid_client", "does not match")

	if r := userinfo(at); r.Status != 200 || r.str("sub") != "user-alice" || r.str("email") != "alice@example.com" {
		t.Fatalf("userinfo: %d %s", r.Status, r.Raw)
	}
	wantOAuthError(t, userinfo("garbage"), 401, "invalid_token", "not a JWT")

	revoke := func(token, clientID string) response {
		return postForm(t, prod+"/revoke", url.Values{"token": {token}, "client_id": {clientID}}, "")
	}
	wantOAuthError(t, revoke(at, "device-only"), 400, "unauthorized_client", "another client")
	if r := revoke(at, "cli"); r.Status != 200 {
		t.Fatalf("revoke: %d %s", r.Status, r.Raw)
	}
	if r := introspect(at); r.Body["active"] != false {
		t.Fatalf("revoked token still active: %s", r.Raw)
	}
	wantOAuthError(t, userinfo(at), 401, "invalid_token", "token was revoked")
	if r := revoke(rt, "cli"); r.Status != 200 {
		t.Fatalf("revoke refresh: %d", r.Status)
	}
	wantOAuthError(t, refresh(t, idp, rt), 400, "invalid_grant", "refresh token was revoked")
	if r := revoke("unknown-token", "cli"); r.Status != 200 {
		t.Fatalf("unknown tokens are ignored (RFC 7009): %d", r.Status)
	}

	fresh := deviceToken(t, idp, "openid").str("access_token")
	clock.Advance(6 * time.Minute)
	wantOAuthError(t, userinfo(fresh), 401, "invalid_token", "token expired at")
}
