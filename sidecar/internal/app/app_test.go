package app

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
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

	"github.com/fedtoken/fedtoken/core/jwt"
	"github.com/fedtoken/fedtoken/sidecar/internal/proxy"
	"github.com/fedtoken/fedtoken/sidecar/internal/server"
	"github.com/fedtoken/fedtoken/sidecar/internal/settings"
	"github.com/fedtoken/fedtoken/sidecar/internal/sidecartest"
	"github.com/fedtoken/fedtoken/sidecar/internal/tokenendpoint"
)

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// idp is a jwt-bearer token endpoint that checks the assertion and hands
// out at-1, at-2, …
type idp struct {
	*httptest.Server
	mu        sync.Mutex
	issued    int
	assertion string
}

func newIdP(t testing.TB, assertion string) *idp {
	i := &idp{assertion: assertion}
	i.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.URL.Path != "/token" {
			http.Error(w, "bad request", 400)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if r.PostForm.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" || r.PostForm.Get("assertion") != i.assertion {
			w.WriteHeader(400)
			fmt.Fprint(w, `{"error":"invalid_grant","error_description":"bad assertion"}`)
			return
		}
		i.mu.Lock()
		i.issued++
		n := i.issued
		i.mu.Unlock()
		fmt.Fprintf(w, `{"access_token":"at-%d","token_type":"Bearer","expires_in":3600}`, n)
	}))
	t.Cleanup(i.Close)
	return i
}

// subjectJWT signs a projected-token-like JWT expiring in 1 h.
func subjectJWT(t testing.TB) (string, time.Time) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(time.Hour).Truncate(time.Second)
	tok, err := jwt.Sign(map[string]any{
		"iss": "https://kubernetes.default.svc", "sub": "system:serviceaccount:ai-jobs:opencode-runner",
		"aud": []string{"https://auth.example.com/realms/prod"}, "exp": exp.Unix(), "iat": time.Now().Unix(),
	}, key, "k1")
	if err != nil {
		t.Fatal(err)
	}
	return tok, exp
}

// writeConfig writes the seed's single-provider opencode.json, pointed at
// the test IdP and upstream, and the projected token it names.
func writeConfig(t testing.TB, dir, idpURL, baseURL, subject string) string {
	t.Helper()
	tokenPath := filepath.Join(dir, "oauth2", "token")
	if err := os.MkdirAll(filepath.Dir(tokenPath), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tokenPath, []byte(subject), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`{
  "$schema": "https://opencode.ai/config.json",
  "plugin": ["@vymalo/opencode-oauth2"],
  "provider": {
    "miaou": {
      "name": "Miaou",
      "options": {
        "baseURL": %q,
        "oauth2": {
          "issuer": %q,
          "tokenEndpoint": %q,
          "clientId": "k8s-runner",
          "scopes": ["openid"],
          "authFlow": "jwt_bearer",
          "subjectTokenSource": {"type": "kubernetes_sa", "tokenPath": %q}
        }
      }
    }
  }
}`, baseURL, idpURL, idpURL+"/token", tokenPath)
	path := filepath.Join(dir, "opencode.json")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond) // polling with a deadline
	}
}

// httpGet is sidecartest.Get.
var httpGet = sidecartest.Get

// TestSidecarEndToEnd runs the whole sidecar, core provider included,
// against an httptest IdP and upstream.
func TestSidecarEndToEnd(t *testing.T) {
	subject, subjectExp := subjectJWT(t)
	idp := newIdP(t, subject)
	var mu sync.Mutex
	var upstreamAuth []string
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		upstreamAuth = append(upstreamAuth, r.Header.Get("Authorization"))
		mu.Unlock()
		if r.Header.Get("Authorization") == "Bearer at-1" && r.URL.Query().Get("revoked") == "1" {
			http.Error(w, "token revoked", http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, "%s %s", r.Method, r.URL.Path)
	}))
	t.Cleanup(upstream.Close)

	dir := t.TempDir()
	cfg := writeConfig(t, dir, idp.URL, upstream.URL+"/v1", subject)
	sinkPath := filepath.Join(dir, "shared", "token")
	if err := os.MkdirAll(filepath.Dir(sinkPath), 0o755); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	env := Env{Stdout: io.Discard, Stderr: logs, Getenv: func(k string) string {
		return map[string]string{"FEDTOKEN_CONFIG": cfg, "FEDTOKEN_SIDECAR_HEALTH_ADDR": "127.0.0.1:0"}[k]
	}}
	srv, _, err := Build(env, []string{"--admin-addr", "127.0.0.1:0", "--proxy", "127.0.0.1:0", "--file-sink", sinkPath, "--log-level", "debug"})
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	<-srv.Started()
	addr := func(name, path string) string { return "http://" + srv.Addr(name).String() + path }

	waitFor(t, "readiness", func() bool { code, _ := httpGet(t, addr("health", "/readyz")); return code == 200 })

	if code, body := httpGet(t, addr("proxy/miaou", "/chat/completions"), "Authorization", "Bearer client-junk"); code != 200 || body != "GET /v1/chat/completions" {
		t.Errorf("proxy = %d %q", code, body)
	}
	code, body := httpGet(t, addr("admin", "/v1/token/miaou"), tokenendpoint.Header, tokenendpoint.HeaderValue)
	if code != 200 || !strings.Contains(body, `"access_token":"at-1"`) || !strings.Contains(body, `"expires_in":35`) {
		t.Errorf("token endpoint = %d %s", code, body)
	}
	waitFor(t, "the token file", func() bool { b, _ := os.ReadFile(sinkPath); return string(b) == "at-1" })

	// The API revokes at-1: the proxy gets at-2 from the IdP and retries.
	if code, body := httpGet(t, addr("proxy/miaou", "/models?revoked=1")); code != 200 || body != "GET /v1/models" {
		t.Errorf("proxy after revocation = %d %q", code, body)
	}
	mu.Lock()
	got := strings.Join(upstreamAuth, ",")
	mu.Unlock()
	if got != "Bearer at-1,Bearer at-1,Bearer at-2" {
		t.Errorf("upstream saw %s", got)
	}
	waitFor(t, "the rewritten token file", func() bool { b, _ := os.ReadFile(sinkPath); return string(b) == "at-2" })

	_, metrics := httpGet(t, addr("health", "/metrics"))
	for _, want := range []string{
		`fedtoken_token_acquisitions_total{grant="jwt_bearer",provider="miaou",result="success"} 2`,
		`fedtoken_proxy_retries_total{provider="miaou"} 1`,
		`fedtoken_proxy_requests_total{code="200",provider="miaou"} 2`,
		`fedtoken_subject_token_expiry_seconds{provider="miaou"}`,
		`fedtoken_access_token_expiry_seconds{provider="miaou"}`,
		`go_goroutines`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	line := grep(metrics, `fedtoken_subject_token_expiry_seconds{provider="miaou"} `)
	var gauge float64
	if _, err := fmt.Sscanf(strings.TrimPrefix(line, `fedtoken_subject_token_expiry_seconds{provider="miaou"} `), "%g", &gauge); err != nil {
		t.Fatalf("subject expiry gauge %q: %v", line, err)
	}
	if left := time.Until(subjectExp).Seconds(); gauge < left-5 || gauge > left+5 {
		t.Errorf("subject expiry gauge = %.0fs, want about %.0fs (the projected token's exp)", gauge, left)
	}

	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	done <- nil
	out := logs.String()
	for _, secret := range []string{"at-1", "at-2", subject} {
		if strings.Contains(out, secret) {
			t.Errorf("logs contain a secret %.12q…", secret)
		}
	}
	if !strings.Contains(out, `"msg":"token acquired"`) || !strings.Contains(out, `"msg":"stopped"`) {
		t.Errorf("logs lack the acquisition or the stop:\n%s", out)
	}
}

func grep(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestBuildErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	interactive := write("interactive.json", `{"provider": {"laptop": {"options": {"baseURL": "https://api.example.com/v1", "oauth2": {"issuer": "https://idp.example.com", "clientId": "c"}}}}}`)
	noBase := write("nobase.json", `{"provider": {"p": {"options": {"oauth2": {"issuer": "https://idp.example.com", "clientId": "c", "authFlow": "jwt_bearer", "subjectTokenSource": {"type": "kubernetes_sa"}}}}}}`)
	plainHTTP := write("plain.json", `{"provider": {"p": {"options": {"baseURL": "http://api.example.com/v1", "oauth2": {"issuer": "https://idp.example.com", "clientId": "c", "authFlow": "jwt_bearer", "subjectTokenSource": {"type": "kubernetes_sa"}}}}}}`)
	typo := write("typo.yaml", "sidecar:\n  adminAdr: 127.0.0.1:1\nproviders:\n  p:\n    issuer: https://idp.example.com\n    clientId: c\n    authFlow: client_credentials\n    clientSecretEnv: S\n")
	multi := "../../testdata/seed-multi.opencode.json"

	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"no config", nil, nil, "no configuration file found: tried nothing"},
		{"missing file", []string{"--config", filepath.Join(dir, "nope.json")}, nil, "nope.json"},
		{"only interactive providers", []string{"--config", interactive}, nil, "no provider the sidecar can serve"},
		{"interactive provider asked for", []string{"--config", interactive, "--provider", "laptop"}, nil, `provider "laptop": authFlow authorization_code needs a person`},
		{"unknown provider", []string{"--config", noBase, "--provider", "other"}, nil, `no provider "other"`},
		{"proxy without upstream", []string{"--config", noBase, "--proxy", "127.0.0.1:0"}, nil, `provider "p": proxy: no upstream`},
		{"plain http upstream", []string{"--config", plainHTTP, "--proxy", "127.0.0.1:0"}, nil, "http:// is refused"},
		{"section typo", []string{"--config", typo}, nil, `unknown field "adminAdr"`},
		{"shorthand with two providers", []string{"--config", multi, "--proxy", "127.0.0.1:0"}, nil, "sidecar.proxy: 2 providers are served"},
		{"required not served", []string{"--config", multi, "--provider", "miaou-prod", "--required", "miaou-staging"}, nil, `sidecar.required: provider "miaou-staging" is not served`},
		{"bad env", []string{"--config", noBase}, map[string]string{"FEDTOKEN_SIDECAR_SHUTDOWN_TIMEOUT": "later"}, `$FEDTOKEN_SIDECAR_SHUTDOWN_TIMEOUT "later"`},
		{"positional argument", []string{"serve"}, nil, `unexpected argument "serve"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := Env{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(k string) string { return tt.env[k] }}
			_, _, err := Build(env, tt.args)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Build = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestMultiProviderFromTheSeedConfig(t *testing.T) {
	// The seed's prod + staging opencode.json, served on two proxies, with
	// both issuers pointed at a loopback IdP that is down.
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	t.Cleanup(down.Close)
	seed, err := os.ReadFile("../../testdata/seed-multi.opencode.json")
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.NewReplacer(
		"https://auth-prod.example.com/realms/main", down.URL+"/prod",
		"https://auth-staging.example.com/realms/main", down.URL+"/staging",
	).Replace(string(seed))
	path := filepath.Join(t.TempDir(), "opencode.json")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	env := Env{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(k string) string {
		return map[string]string{"FEDTOKEN_SIDECAR_PROXY": "miaou-prod=127.0.0.1:0, miaou-staging=127.0.0.1:0"}[k]
	}}
	srv, _, err := Build(env, []string{"--config", path, "--admin-addr", "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	<-srv.Started()
	for _, name := range []string{"admin", "proxy/miaou-prod", "proxy/miaou-staging"} {
		if srv.Addr(name) == nil {
			t.Errorf("no %s listener", name)
		}
	}
	// No token can be had, so neither provider is ready.
	code, body := httpGet(t, "http://"+srv.Addr("admin").String()+"/readyz")
	if code != 503 || !strings.Contains(body, "miaou-prod: no valid token") || !strings.Contains(body, "miaou-staging: no valid token") {
		t.Errorf("/readyz = %d %q", code, body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}

func TestRunHelpAndVersion(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"--version"}} {
		var out, errOut bytes.Buffer
		if err := Run(context.Background(), Env{Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" }}, args); err != nil {
			t.Errorf("Run(%v) = %v", args, err)
		}
		if out.Len()+errOut.Len() == 0 {
			t.Errorf("Run(%v) printed nothing", args)
		}
	}
}

// TestNativeConfigWithSidecarSection loads the example shown in
// docs/sidecar.md.
func TestNativeConfigWithSidecarSection(t *testing.T) {
	srv, _, err := Build(Env{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }},
		[]string{"--config", "testdata/fedtoken-sidecar.yaml",
			// Free ports instead of the file's, so the test can listen.
			"--admin-addr", "127.0.0.1:0", "--health-addr", "127.0.0.1:0",
			"--proxy", "miaou-prod=127.0.0.1:0", "--proxy", "miaou-staging=127.0.0.1:0",
			"--file-sink", "miaou-prod=" + filepath.Join(t.TempDir(), "token")})
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	<-srv.Started()
	for _, name := range []string{"admin", "health", "proxy/miaou-prod", "proxy/miaou-staging"} {
		if srv.Addr(name) == nil {
			t.Errorf("no %s listener", name)
		}
	}
	_, body := httpGet(t, "http://"+srv.Addr("health").String()+"/readyz")
	if !strings.Contains(body, "miaou-staging: no valid token (not required)") {
		t.Errorf("/readyz = %q: staging should be optional", body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}

// TestDefaultsAgree keeps the settings' documented defaults equal to the
// defaults of the packages that apply them.
func TestDefaultsAgree(t *testing.T) {
	pairs := []struct {
		name     string
		settings any
		pkg      any
	}{
		{"admin address", settings.DefaultAdminAddr, server.DefaultAdminAddr},
		{"shutdown timeout", settings.DefaultShutdownTimeout, server.DefaultShutdownTimeout},
		{"max request body", int64(settings.DefaultMaxRequestBody), int64(proxy.DefaultMaxRequestBody)},
		{"retry buffer", int64(settings.DefaultRetryBuffer), int64(proxy.DefaultRetryBuffer)},
		{"response header timeout", settings.DefaultResponseHeaderTimeout, proxy.DefaultResponseHeaderTimeout},
		{"dial timeout", settings.DefaultDialTimeout, proxy.DefaultDialTimeout},
	}
	for _, p := range pairs {
		if p.settings != p.pkg {
			t.Errorf("%s: settings say %v, the code uses %v", p.name, p.settings, p.pkg)
		}
	}
}

func TestLoopbackOnly(t *testing.T) {
	for addr, want := range map[string]bool{
		"": true, "127.0.0.1:9901": true, "[::1]:9901": true, "localhost:9901": true,
		":9901": false, "0.0.0.0:9901": false, "10.1.2.3:9901": false, "nonsense": false,
	} {
		if got := loopbackOnly(addr); got != want {
			t.Errorf("loopbackOnly(%q) = %v, want %v", addr, got, want)
		}
	}
}
