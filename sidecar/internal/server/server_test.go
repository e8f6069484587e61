package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/fedtoken/fedtoken/sidecar/internal/sink"
	"github.com/fedtoken/fedtoken/sidecar/internal/tokenendpoint"
)

func TestReadinessTransitions(t *testing.T) {
	var mu sync.Mutex
	idpUp := false
	prod := &fakeSource{acquire: func() (*oauth2.Token, error) {
		mu.Lock()
		defer mu.Unlock()
		if !idpUp {
			return nil, errors.New("oauth2: temporarily_unavailable (HTTP 503 from https://idp.example/token)")
		}
		return &oauth2.Token{AccessToken: "prod-1", Expiry: time.Now().Add(time.Hour)}, nil
	}}
	optional := &fakeSource{acquire: func() (*oauth2.Token, error) { return nil, errors.New("never") }}
	r := start(t, []Provider{
		{ID: "miaou-prod", Source: prod, Required: true},
		{ID: "miaou-staging", Source: optional}, // not required: never blocks readiness
	}, WithHealthAddr("127.0.0.1:0"))

	for _, listener := range []string{"admin", "health"} {
		if code, _ := get(t, r.url(listener, "/healthz")); code != 200 {
			t.Errorf("%s /healthz = %d, want 200 even without a token", listener, code)
		}
		code, body := get(t, r.url(listener, "/readyz"))
		if code != 503 || !strings.Contains(body, "miaou-prod: no valid token\n") {
			t.Errorf("%s /readyz before any token = %d %q, want 503 naming miaou-prod", listener, code, body)
		}
	}

	mu.Lock()
	idpUp = true // the server keeps retrying the first acquisition
	mu.Unlock()
	eventually(t, "readiness", func() bool { code, _ := get(t, r.url("health", "/readyz")); return code == 200 })
	_, body := get(t, r.url("health", "/readyz"))
	if !strings.Contains(body, "miaou-prod: ok, expires in 3") || !strings.Contains(body, "miaou-staging: no valid token (not required)") {
		t.Errorf("/readyz body = %q", body)
	}

	// The token expires and the IdP is down again: not ready.
	mu.Lock()
	idpUp = false
	mu.Unlock()
	prod.set(&oauth2.Token{AccessToken: "prod-1", Expiry: time.Now().Add(-time.Second)})
	if code, _ := get(t, r.url("admin", "/readyz")); code != 503 {
		t.Errorf("/readyz with an expired token = %d, want 503", code)
	}

	// A still-valid token keeps the pod ready while the IdP fails.
	prod.set(&oauth2.Token{AccessToken: "prod-2", Expiry: time.Now().Add(time.Minute)})
	if code, _ := get(t, r.url("admin", "/readyz")); code != 200 {
		t.Errorf("/readyz with a valid token and the IdP down = %d, want 200", code)
	}
}

func TestAdminAndHealthListenersServeDifferentThings(t *testing.T) {
	src := &fakeSource{acquire: staticToken("at-1")}
	r := start(t, []Provider{{ID: "p", Source: src, Required: true}}, WithHealthAddr("127.0.0.1:0"))
	eventually(t, "first token", func() bool { _, ok := src.Peek(); return ok })

	if code, body := get(t, r.url("admin", "/v1/token/p"), tokenendpoint.Header, tokenendpoint.HeaderValue); code != 200 || !strings.Contains(body, `"access_token":"at-1"`) {
		t.Errorf("admin token endpoint = %d %s", code, body)
	}
	if code, _ := get(t, r.url("admin", "/v1/token/p")); code != 403 {
		t.Errorf("admin token endpoint without the header = %d, want 403", code)
	}
	if code, _ := get(t, r.url("health", "/v1/token/p"), tokenendpoint.Header, tokenendpoint.HeaderValue); code != 404 {
		t.Errorf("health listener token endpoint = %d, want 404 (never exposed beyond loopback)", code)
	}
	if code, _ := get(t, r.url("health", "/quitquitquit")); code != 404 {
		t.Errorf("health listener quit = %d, want 404", code)
	}
	for _, listener := range []string{"admin", "health"} {
		code, body := get(t, r.url(listener, "/metrics"))
		if code != 200 || !strings.Contains(body, `fedtoken_access_token_expiry_seconds{provider="p"}`) {
			t.Errorf("%s /metrics = %d, lacks the expiry gauge:\n%s", listener, code, body)
		}
	}
}

func TestTokenEndpointCanBeDisabled(t *testing.T) {
	r := start(t, []Provider{{ID: "p", Source: &fakeSource{acquire: staticToken("at")}}}, WithTokenEndpoint(false))
	if code, _ := get(t, r.url("admin", "/v1/token/p"), tokenendpoint.Header, tokenendpoint.HeaderValue); code != 404 {
		t.Errorf("token endpoint when disabled = %d, want 404", code)
	}
}

// startUpstream serves h and returns its URL.
func startUpstream(t *testing.T, h http.HandlerFunc) *url.URL {
	t.Helper()
	up := httptest.NewServer(h)
	t.Cleanup(up.Close)
	u, _ := url.Parse(up.URL + "/v1")
	return u
}

func TestProxyThroughServerIsInstrumented(t *testing.T) {
	var auth string
	var mu sync.Mutex
	upstream := startUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auth = r.Header.Get("Authorization")
		mu.Unlock()
		if r.URL.Path != "/v1/models" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, `{"data":[]}`)
	})
	src := &fakeSource{acquire: staticToken("at-proxy")}
	r := start(t, []Provider{{ID: "miaou", Grant: "jwt_bearer", Source: src, Proxy: &Proxy{Listen: "127.0.0.1:0", Upstream: upstream}}})

	if code, body := get(t, r.url("proxy/miaou", "/models"), "Authorization", "Bearer from-client"); code != 200 || body != `{"data":[]}` {
		t.Fatalf("proxy = %d %q", code, body)
	}
	if code, _ := get(t, r.url("proxy/miaou", "/nope")); code != 404 {
		t.Fatalf("proxy /nope = %d, want the upstream's 404", code)
	}
	mu.Lock()
	if auth != "Bearer at-proxy" {
		t.Errorf("upstream Authorization = %q", auth)
	}
	mu.Unlock()
	// A request is recorded once its handler returns, which can be just
	// after the client has read the whole response: wait for it.
	want := []string{
		`fedtoken_proxy_requests_total{code="200",provider="miaou"} 1`,
		`fedtoken_proxy_requests_total{code="404",provider="miaou"} 1`,
		`fedtoken_proxy_request_duration_seconds_count{provider="miaou"} 2`,
	}
	eventually(t, "/metrics to count both proxied requests", func() bool {
		_, metrics := get(t, r.url("admin", "/metrics"))
		for _, w := range want {
			if !strings.Contains(metrics, w) {
				return false
			}
		}
		return true
	})
}

// TestGracefulShutdownMidStream stops the server while an SSE response is
// streaming: the stream completes, new connections are refused, and Run
// returns nil only after the stream has ended.
func TestGracefulShutdownMidStream(t *testing.T) {
	release := make(chan struct{})
	upstream := startUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: one\n\n")
		w.(http.Flusher).Flush()
		<-release
		fmt.Fprint(w, "data: two\n\ndata: [DONE]\n\n")
	})
	src := &fakeSource{acquire: staticToken("at")}
	r := start(t, []Provider{{ID: "miaou", Source: src, Required: true, Proxy: &Proxy{Listen: "127.0.0.1:0", Upstream: upstream}}})
	proxyAddr := r.srv.Addr("proxy/miaou").String()

	resp, err := http.Get(r.url("proxy/miaou", "/chat/completions"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rd := bufio.NewReader(resp.Body)
	if line, err := rd.ReadString('\n'); err != nil || line != "data: one\n" {
		close(release)
		t.Fatalf("first event = %q, %v", line, err)
	}

	r.cancel() // SIGTERM
	eventually(t, "the proxy listener to close", func() bool {
		c, err := net.Dial("tcp", proxyAddr)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	select {
	case err := <-r.done:
		t.Fatalf("Run returned (%v) while a stream was in flight", err)
	default:
	}

	close(release)
	rest, err := io.ReadAll(rd)
	if err != nil {
		t.Fatalf("stream cut during shutdown: %v", err)
	}
	if string(rest) != "\ndata: two\n\ndata: [DONE]\n\n" {
		t.Errorf("rest of the stream = %q", rest)
	}
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
		r.done <- err // for the cleanup
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after the stream ended")
	}
}

func TestShutdownTimeoutCutsStuckStreams(t *testing.T) {
	upstream := startUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.(http.Flusher).Flush()
		<-r.Context().Done() // never finishes on its own
	})
	r := start(t, []Provider{{ID: "p", Source: &fakeSource{acquire: staticToken("at")}, Proxy: &Proxy{Listen: "127.0.0.1:0", Upstream: upstream}}},
		WithShutdownTimeout(50*time.Millisecond))
	resp, err := http.Get(r.url("proxy/p", "/stream"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r.cancel()
	if err := <-r.done; err != nil {
		t.Errorf("Run = %v, want nil", err)
	}
	r.done <- nil
	if _, err := io.ReadAll(resp.Body); err == nil {
		t.Error("the stuck stream ended cleanly; want it cut at the shutdown timeout")
	}
}

func TestQuitEndpoint(t *testing.T) {
	r := start(t, []Provider{{ID: "p", Source: &fakeSource{acquire: staticToken("at")}}})
	post := func(withHeader bool) int {
		req, _ := http.NewRequest(http.MethodPost, r.url("admin", "/quitquitquit"), nil)
		if withHeader {
			req.Header.Set(tokenendpoint.Header, tokenendpoint.HeaderValue)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(false); code != http.StatusForbidden {
		t.Errorf("quit without header = %d, want 403", code)
	}
	select {
	case err := <-r.done:
		t.Fatalf("Run returned (%v) after a refused quit", err)
	default:
	}
	if code := post(true); code != http.StatusOK {
		t.Errorf("quit = %d, want 200", code)
	}
	if err := <-r.done; err != nil {
		t.Errorf("Run after quit = %v, want nil (exit 0 lets the Job succeed)", err)
	}
	r.done <- nil
}

func TestQuitFile(t *testing.T) {
	quit := filepath.Join(t.TempDir(), "done")
	r := start(t, []Provider{{ID: "p", Source: &fakeSource{acquire: staticToken("at")}}},
		WithQuitFile(quit), WithQuitFileInterval(time.Millisecond))
	select {
	case err := <-r.done:
		t.Fatalf("Run returned (%v) before the quit file existed", err)
	default:
	}
	if err := os.WriteFile(quit, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
		r.done <- nil
	case <-time.After(10 * time.Second):
		t.Fatal("Run ignored the quit file")
	}
}

func TestFileSinkThroughServer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token")
	src := &fakeSource{acquire: staticToken("sunk-1")}
	start(t, []Provider{{ID: "p", Source: src, FileSink: &sink.File{Path: path, Mode: 0o640, UID: -1, GID: -1}}},
		WithSinkInterval(time.Millisecond))
	eventually(t, "the token file", func() bool { b, _ := os.ReadFile(path); return string(b) == "sunk-1" })
	src.set(&oauth2.Token{AccessToken: "sunk-2", Expiry: time.Now().Add(time.Hour)})
	eventually(t, "the rewritten token file", func() bool { b, _ := os.ReadFile(path); return string(b) == "sunk-2" })
}

func TestRefresherRunsUntilDrained(t *testing.T) {
	stopped := make(chan struct{})
	src := &fakeSource{acquire: staticToken("at")}
	r := start(t, []Provider{{ID: "p", Source: src, Refresh: func(ctx context.Context) error {
		_, _ = src.TokenContext(ctx)
		<-ctx.Done()
		close(stopped)
		return nil
	}}})
	select {
	case <-stopped:
		t.Fatal("refresher stopped while serving")
	default:
	}
	r.cancel()
	if err := <-r.done; err != nil {
		t.Fatal(err)
	}
	r.done <- nil
	select {
	case <-stopped:
	default:
		t.Error("Run returned with the refresher still running")
	}
}

func TestNewRejects(t *testing.T) {
	up, _ := url.Parse("https://api.example.com/v1")
	src := &fakeSource{}
	tests := []struct {
		name      string
		providers []Provider
		opts      []Option
		want      string
	}{
		{"no providers", nil, nil, "no provider to serve"},
		{"no id", []Provider{{Source: src}}, nil, "provider #0 has no id"},
		{"duplicate id", []Provider{{ID: "a", Source: src}, {ID: "a", Source: src}}, nil, `provider "a" listed twice`},
		{"no source", []Provider{{ID: "a"}}, nil, `provider "a" has no token source`},
		{"proxy without listen", []Provider{{ID: "a", Source: src, Proxy: &Proxy{Upstream: up}}}, nil, "proxy has no listen address"},
		{"two proxies on one address", []Provider{
			{ID: "a", Source: src, Proxy: &Proxy{Listen: "127.0.0.1:8080", Upstream: up}},
			{ID: "b", Source: src, Proxy: &Proxy{Listen: "127.0.0.1:8080", Upstream: up}},
		}, nil, `127.0.0.1:8080 is already used by the proxy of provider "a"`},
		{"proxy on the admin address", []Provider{{ID: "a", Source: src, Proxy: &Proxy{Listen: "127.0.0.1:9901", Upstream: up}}}, nil, "already used by the admin listener"},
		{"bad upstream", []Provider{{ID: "a", Source: src, Proxy: &Proxy{Listen: ":1", Upstream: &url.URL{Scheme: "ftp", Host: "x"}}}}, nil, "scheme must be http or https"},
		{"sink without path", []Provider{{ID: "a", Source: src, FileSink: &sink.File{}}}, nil, "file sink has no path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.providers, tt.opts...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestRunFailsWhenAPortIsTaken(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	up, _ := url.Parse("http://127.0.0.1:1")
	srv, err := New([]Provider{{ID: "p", Source: &fakeSource{}, Proxy: &Proxy{Listen: taken.Addr().String(), Upstream: up}}},
		WithAdminAddr("127.0.0.1:0"))
	if err != nil {
		t.Fatal(err)
	}
	err = srv.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "proxy/p") {
		t.Errorf("Run = %v, want an error naming the proxy listener", err)
	}
}

func TestProxyRecordsClientsThatGoAway(t *testing.T) {
	arrived := make(chan struct{})
	upstream := startUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-r.Context().Done()
	})
	r := start(t, []Provider{{ID: "p", Source: &fakeSource{acquire: staticToken("at")}, Proxy: &Proxy{Listen: "127.0.0.1:0", Upstream: upstream}}})
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, r.url("proxy/p", "/slow"), nil)
	errc := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	<-arrived
	cancel()
	if err := <-errc; err == nil {
		t.Fatal("the canceled request succeeded")
	}
	eventually(t, "the 499 sample", func() bool {
		_, body := get(t, r.url("admin", "/metrics"))
		return strings.Contains(body, `fedtoken_proxy_requests_total{code="499",provider="p"} 1`)
	})
}

// TestRefreshEndpoint: POST /refresh drops the current token and acquires a
// new one before answering; it needs the request header and names unknown
// providers.
func TestRefreshEndpoint(t *testing.T) {
	n := 0
	src := &fakeSource{acquire: func() (*oauth2.Token, error) {
		n++
		return &oauth2.Token{AccessToken: fmt.Sprintf("at-%d", n), Expiry: time.Now().Add(time.Hour)}, nil
	}}
	r := start(t, []Provider{{ID: "p", Source: src, Required: true}})
	eventually(t, "first token", func() bool { _, ok := src.Peek(); return ok })
	post := func(path string, withHeader bool) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, r.url("admin", path), nil)
		if withHeader {
			req.Header.Set(tokenendpoint.Header, tokenendpoint.HeaderValue)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := post("/refresh", false); code != http.StatusForbidden {
		t.Errorf("refresh without header = %d, want 403", code)
	}
	before, _ := src.Peek()
	code, body := post("/refresh?provider=p", true)
	after, _ := src.Peek()
	if code != 200 || !strings.Contains(body, "p: new token, expires in") || after == nil || after.AccessToken == before.AccessToken {
		t.Errorf("refresh = %d %q; token %s → %v, want a new one", code, body, before.AccessToken, after)
	}
	if strings.Contains(body, after.AccessToken) {
		t.Errorf("refresh answer shows the token: %q", body)
	}
	if code, _ := post("/refresh?provider=nope", true); code != http.StatusNotFound {
		t.Errorf("refresh of an unknown provider = %d, want 404", code)
	}
}
