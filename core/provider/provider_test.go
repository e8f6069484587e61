package provider_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/fedtoken/fedtoken/core/cache"
	"github.com/fedtoken/fedtoken/core/config"
	"github.com/fedtoken/fedtoken/core/oauth"
	"github.com/fedtoken/fedtoken/core/provider"
	"github.com/fedtoken/fedtoken/core/subject"
)

// idp is a minimal token endpoint that records the forms it received.
type idp struct {
	*httptest.Server
	mu    sync.Mutex
	forms []map[string][]string
	// respond writes the response to request n (0-based).
	respond func(w http.ResponseWriter, n int, form map[string][]string)
}

func newIDP(t *testing.T, respond func(w http.ResponseWriter, n int, form map[string][]string)) *idp {
	t.Helper()
	i := &idp{respond: respond}
	i.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/token" {
			http.NotFound(w, r)
			return
		}
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		i.mu.Lock()
		n := len(i.forms)
		i.forms = append(i.forms, r.PostForm)
		i.mu.Unlock()
		i.respond(w, n, r.PostForm)
	}))
	t.Cleanup(i.Close)
	return i
}

func (i *idp) requests() []map[string][]string {
	i.mu.Lock()
	defer i.mu.Unlock()
	return append([]map[string][]string(nil), i.forms...)
}

func tokenJSON(w http.ResponseWriter, access string, expiresIn int) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"access_token": access, "token_type": "bearer", "expires_in": expiresIn})
}

// fakeJWT returns an unsigned JWT-shaped token with the given claims; the
// test IdP does not verify signatures (mockidp and the e2e suites do).
func fakeJWT(claims map[string]any) string {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return enc(map[string]string{"alg": "RS256", "typ": "JWT"}) + "." + enc(claims) + ".c2ln"
}

func writeSubject(t *testing.T, path, jti string) string {
	t.Helper()
	tok := fakeJWT(map[string]any{"iss": "https://cluster", "sub": "system:serviceaccount:ai-jobs:runner",
		"aud": []string{"https://idp"}, "exp": time.Now().Add(time.Hour).Unix(), "jti": jti})
	if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return tok
}

func jwtBearerConfig(tokenURL, subjectPath string) config.Provider {
	pkce := true
	return config.Provider{ID: "miaou", Name: "miaou", ClientID: "k8s-runner", TokenEndpoint: tokenURL,
		Scopes: []string{"openid"}, AuthFlow: config.FlowJWTBearer, PKCE: &pkce,
		SubjectTokenSource: &config.SubjectSource{Type: subject.TypeKubernetesSA, TokenPath: subjectPath},
		HTTPTimeout:        5 * time.Second, TokenExpirySkew: 30 * time.Second}
}

func TestJWTBearerCachesAndRereadsRotatedSubject(t *testing.T) {
	dir := t.TempDir()
	subjectPath := filepath.Join(dir, "token")
	first := writeSubject(t, subjectPath, "one")
	i := newIDP(t, func(w http.ResponseWriter, n int, _ map[string][]string) {
		tokenJSON(w, fmt.Sprintf("access-%d", n), 3600)
	})
	p, err := provider.New(jwtBearerConfig(i.URL+"/token", subjectPath))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tok, err := p.TokenContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != "access-0" || tok.Type() != "Bearer" {
		t.Fatalf("got %q type %q, want access-0 Bearer", tok.AccessToken, tok.Type())
	}
	again, err := p.TokenContext(ctx)
	if err != nil || again != tok {
		t.Fatalf("second read: %v, same token %v; want the cached token", err, again == tok)
	}
	if n := len(i.requests()); n != 1 {
		t.Fatalf("IdP saw %d requests, want 1", n)
	}

	// The kubelet rotates the subject token; an invalidated access token is
	// re-acquired with the new one.
	second := writeSubject(t, subjectPath, "two")
	p.Invalidate(tok)
	tok2, err := p.TokenContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if tok2.AccessToken != "access-1" {
		t.Fatalf("after invalidate got %q, want access-1", tok2.AccessToken)
	}
	reqs := i.requests()
	if got := reqs[0]["assertion"]; len(got) != 1 || got[0] != first {
		t.Errorf("first request assertion is not the first subject token")
	}
	if got := reqs[1]["assertion"]; len(got) != 1 || got[0] != second {
		t.Errorf("second request assertion is not the rotated subject token")
	}
	if got := reqs[0]["grant_type"]; len(got) != 1 || got[0] != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		t.Errorf("grant_type = %v", got)
	}
}

func TestFileStoreSharesTokensAcrossProviders(t *testing.T) {
	dir := t.TempDir()
	subjectPath := filepath.Join(dir, "token")
	writeSubject(t, subjectPath, "one")
	i := newIDP(t, func(w http.ResponseWriter, n int, _ map[string][]string) {
		tokenJSON(w, fmt.Sprintf("access-%d", n), 3600)
	})
	store := cache.FileStore{Dir: filepath.Join(dir, "cache")}
	cfg := jwtBearerConfig(i.URL+"/token", subjectPath)
	for range 3 { // three "processes" in turn: only the first asks the IdP
		p, err := provider.New(cfg, provider.WithStore(store))
		if err != nil {
			t.Fatal(err)
		}
		tok, err := p.TokenContext(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if tok.AccessToken != "access-0" {
			t.Fatalf("got %q, want the stored access-0", tok.AccessToken)
		}
	}
	if n := len(i.requests()); n != 1 {
		t.Fatalf("IdP saw %d requests, want 1", n)
	}
	fi, err := os.Stat(filepath.Join(dir, "cache"))
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o700 {
		t.Errorf("cache dir mode %o, want 700", perm)
	}
}

func TestExpiredSubjectIsNotSent(t *testing.T) {
	dir := t.TempDir()
	subjectPath := filepath.Join(dir, "token")
	expired := fakeJWT(map[string]any{"iss": "https://cluster", "sub": "s", "exp": time.Now().Add(-time.Hour).Unix()})
	if err := os.WriteFile(subjectPath, []byte(expired), 0o600); err != nil {
		t.Fatal(err)
	}
	i := newIDP(t, func(w http.ResponseWriter, n int, _ map[string][]string) { tokenJSON(w, "a", 60) })
	p, err := provider.New(jwtBearerConfig(i.URL+"/token", subjectPath))
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.TokenContext(context.Background())
	if err == nil {
		t.Fatal("want an error for an expired subject token")
	}
	if !strings.Contains(err.Error(), subjectPath) {
		t.Errorf("error %q does not name the path %s", err, subjectPath)
	}
	if strings.Contains(err.Error(), expired) {
		t.Errorf("error leaks the subject token")
	}
	if n := len(i.requests()); n != 0 {
		t.Errorf("IdP saw %d requests, want 0", n)
	}
}

func TestOAuthErrorIsTyped(t *testing.T) {
	dir := t.TempDir()
	subjectPath := filepath.Join(dir, "token")
	subjectTok := writeSubject(t, subjectPath, "one")
	i := newIDP(t, func(w http.ResponseWriter, n int, _ map[string][]string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":"invalid_grant","error_description":"Invalid token audience"}`)
	})
	p, err := provider.New(jwtBearerConfig(i.URL+"/token", subjectPath))
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.TokenContext(context.Background())
	if !errors.Is(err, oauth.ErrInvalidGrant) {
		t.Fatalf("err = %v, want invalid_grant", err)
	}
	var oe *oauth.Error
	if !errors.As(err, &oe) || oe.Description != "Invalid token audience" || oe.StatusCode != 400 {
		t.Fatalf("errors.As: %+v", oe)
	}
	if strings.Contains(err.Error(), subjectTok) {
		t.Error("error leaks the subject token")
	}
	if n := len(i.requests()); n != 1 {
		t.Errorf("invalid_grant was retried: %d requests", n)
	}
}

func TestInteractiveNeedsLoginThenRefreshes(t *testing.T) {
	i := newIDP(t, func(w http.ResponseWriter, n int, form map[string][]string) {
		if form["grant_type"][0] != "refresh_token" || form["refresh_token"][0] != "rt-1" {
			http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
			return
		}
		tokenJSON(w, "refreshed", 3600) // no refresh_token: the old one is kept
	})
	pkce := true
	cfg := config.Provider{ID: "laptop", ClientID: "cli", TokenEndpoint: i.URL + "/token",
		AuthFlow: config.FlowDeviceCode, PKCE: &pkce, HTTPTimeout: 5 * time.Second, TokenExpirySkew: 30 * time.Second}
	store := cache.FileStore{Dir: t.TempDir()}
	p, err := provider.New(cfg, provider.WithStore(store))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, err = p.TokenContext(ctx)
	if !errors.Is(err, provider.ErrLoginRequired) || !strings.Contains(err.Error(), "fedtoken login laptop") {
		t.Fatalf("err = %v, want ErrLoginRequired saying how to log in", err)
	}
	// A login stored an access token that has already expired, with a refresh token.
	expired := &oauth2.Token{AccessToken: "old", TokenType: "Bearer", RefreshToken: "rt-1", Expiry: time.Now().Add(-time.Minute)}
	if err := p.Store(ctx, expired); err != nil {
		t.Fatal(err)
	}
	tok, err := p.TokenContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != "refreshed" || tok.RefreshToken != "rt-1" {
		t.Fatalf("got access %q refresh kept %v", tok.AccessToken, tok.RefreshToken == "rt-1")
	}
	if err := p.Forget(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := store.Load(ctx, p.CacheKey()); got != nil {
		t.Error("Forget left the stored token")
	}
}

func TestTransportSetsBearer(t *testing.T) {
	dir := t.TempDir()
	subjectPath := filepath.Join(dir, "token")
	writeSubject(t, subjectPath, "one")
	i := newIDP(t, func(w http.ResponseWriter, n int, _ map[string][]string) { tokenJSON(w, "api-token", 3600) })
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, r.Header.Get("Authorization"))
	}))
	t.Cleanup(api.Close)
	p, err := provider.New(jwtBearerConfig(i.URL+"/token", subjectPath))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, api.URL, nil)
	req.Header.Set("Authorization", "Bearer stale-from-app")
	resp, err := (&http.Client{Transport: p.Transport(nil)}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "Bearer api-token" {
		t.Errorf("API saw Authorization %q, want the provider's bearer token", got)
	}
	if req.Header.Get("Authorization") != "Bearer stale-from-app" {
		t.Error("Transport modified the caller's request")
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	cfg := jwtBearerConfig("http://idp.example.com/token", "/nonexistent")
	if _, err := provider.New(cfg); err == nil || !strings.Contains(err.Error(), "tokenEndpoint") {
		t.Errorf("plain http to a non-loopback host: err = %v, want one naming tokenEndpoint", err)
	}
	cfg = jwtBearerConfig("https://idp.example.com/token", "/nonexistent")
	cfg.SubjectTokenSource = nil
	if _, err := provider.New(cfg); err == nil || !strings.Contains(err.Error(), "subjectTokenSource") {
		t.Errorf("jwt_bearer without subject: err = %v", err)
	}
	cfg = jwtBearerConfig("https://idp.example.com/token", "/nonexistent")
	cfg.ClientAuth = config.ClientAuth{Method: oauth.AuthPrivateKeyJWT, PrivateKeyFile: filepath.Join(t.TempDir(), "missing.pem")}
	if _, err := provider.New(cfg); err == nil || !strings.Contains(err.Error(), "missing.pem") {
		t.Errorf("missing key file: err = %v, want one naming the file", err)
	}
}
