package proxy

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// seen records what the upstream received.
type seen struct {
	mu   sync.Mutex
	reqs []seenRequest
}

type seenRequest struct {
	Method, Path, Host, Auth string
	Header                   http.Header
	Body                     string
}

func (s *seen) record(r *http.Request) seenRequest {
	body, _ := io.ReadAll(r.Body)
	sr := seenRequest{Method: r.Method, Path: r.URL.RequestURI(), Host: r.Host, Auth: r.Header.Get("Authorization"), Header: r.Header.Clone(), Body: string(body)}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs = append(s.reqs, sr)
	return sr
}

func (s *seen) all() []seenRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]seenRequest(nil), s.reqs...)
}

// startProxy starts upstream with h, and the proxy to upstream+basePath.
func startProxy(t *testing.T, basePath string, h http.Handler, src TokenSource, opts ...Option) (proxyURL string, upstream *httptest.Server) {
	t.Helper()
	upstream = httptest.NewServer(h)
	t.Cleanup(upstream.Close)
	u, err := url.Parse(upstream.URL + basePath)
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(u, src, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	front := httptest.NewUnstartedServer(p)
	front.Config.DisableGeneralOptionsHandler = true // as the sidecar's server does
	front.Start()
	t.Cleanup(front.Close)
	return front.URL, upstream
}

func TestProxyInjectsTokenAndForwardsToUpstreamOnly(t *testing.T) {
	var s seen
	src := &fakeSource{}
	proxyURL, upstream := startProxy(t, "/v1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.record(r)
		w.Header().Set("Connection", "X-Upstream-Hop")
		w.Header().Set("X-Upstream-Hop", "drop me")
		w.Header().Set("X-Upstream-End", "keep me")
		fmt.Fprint(w, "hello")
	}), src)

	req, _ := http.NewRequest(http.MethodGet, proxyURL+"/chat/completions?stream=true", nil)
	req.Host = "attacker.example" // must not change where the request goes
	req.Header.Set("Authorization", "Bearer client-supplied")
	req.Header.Set("Connection", "X-Hop")
	req.Header.Set("X-Hop", "drop me")
	req.Header.Set("Proxy-Authorization", "Basic Zm9vOmJhcg==")
	req.Header.Set("X-Forwarded-For", "10.0.0.1")
	req.Header.Set("X-End", "keep me")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(body) != "hello" {
		t.Fatalf("got %d %q, want 200 hello", resp.StatusCode, body)
	}
	if resp.Header.Get("X-Upstream-Hop") != "" || resp.Header.Get("X-Upstream-End") != "keep me" {
		t.Errorf("response headers: hop-by-hop %q (want dropped), end-to-end %q", resp.Header.Get("X-Upstream-Hop"), resp.Header.Get("X-Upstream-End"))
	}

	got := s.all()
	if len(got) != 1 {
		t.Fatalf("upstream saw %d requests, want 1", len(got))
	}
	r := got[0]
	upstreamHost := strings.TrimPrefix(upstream.URL, "http://")
	checks := []struct{ what, got, want string }{
		{"path", r.Path, "/v1/chat/completions?stream=true"},
		{"Host", r.Host, upstreamHost},
		{"Authorization", r.Auth, "Bearer tok-1"},
		{"X-Hop", r.Header.Get("X-Hop"), ""},
		{"Proxy-Authorization", r.Header.Get("Proxy-Authorization"), ""},
		{"X-Forwarded-For", r.Header.Get("X-Forwarded-For"), ""},
		{"X-End", r.Header.Get("X-End"), "keep me"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("upstream %s = %q, want %q", c.what, c.got, c.want)
		}
	}
}

// TestProxyStreamsSSEIncrementally: every event of a stream reaches the
// client before the upstream sends the next one — SSE, and any body of
// unknown length (chunked NDJSON) — so nothing is buffered, whatever the
// FlushInterval.
func TestProxyStreamsSSEIncrementally(t *testing.T) {
	for _, ct := range []string{"text/event-stream", "text/event-stream; charset=utf-8", "application/x-ndjson"} {
		t.Run(ct, func(t *testing.T) {
			const events = 4
			next := make(chan struct{})
			src := &fakeSource{}
			proxyURL, _ := startProxy(t, "", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", ct)
				for i := range events {
					if i > 0 {
						select {
						case <-next: // the client has read event i-1
						case <-r.Context().Done():
							return
						}
					}
					fmt.Fprintf(w, "data: event-%d\n\n", i)
					w.(http.Flusher).Flush()
				}
			}), src)

			// The upstream holds event i+1 back until event i is read: a
			// proxy that buffered would stall until this timeout.
			client := &http.Client{Timeout: 30 * time.Second}
			resp, err := client.Get(proxyURL + "/chat/completions")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			rd := bufio.NewReader(resp.Body)
			for i := range events {
				line, err := rd.ReadString('\n')
				if want := fmt.Sprintf("data: event-%d\n", i); err != nil || line != want {
					t.Fatalf("event %d: %q, %v; want %q", i, line, err, want)
				}
				if blank, err := rd.ReadString('\n'); err != nil || blank != "\n" {
					t.Fatalf("after event %d: %q, %v", i, blank, err)
				}
				if i < events-1 {
					next <- struct{}{}
				}
			}
			if rest, err := io.ReadAll(rd); err != nil || len(rest) != 0 {
				t.Errorf("after the last event: %q, %v", rest, err)
			}
		})
	}
}

func TestProxyRetriesOnceAfter401(t *testing.T) {
	big := strings.Repeat("x", 2048)
	tests := []struct {
		name        string
		method      string
		body        string
		chunked     bool
		sticky      bool // the source hands back the same token after Invalidate
		refreshErr  bool // the source fails after Invalidate
		wantStatus  int
		wantTokens  []string // Authorization values the upstream saw, in order
		wantRetried bool
	}{
		{name: "GET", method: http.MethodGet, wantStatus: 200, wantTokens: []string{"Bearer tok-1", "Bearer tok-2"}, wantRetried: true},
		{name: "small POST", method: http.MethodPost, body: `{"model":"glm-5"}`, wantStatus: 200, wantTokens: []string{"Bearer tok-1", "Bearer tok-2"}, wantRetried: true},
		{name: "small chunked POST", method: http.MethodPost, body: `{"model":"glm-5"}`, chunked: true, wantStatus: 200, wantTokens: []string{"Bearer tok-1", "Bearer tok-2"}, wantRetried: true},
		{name: "body over retry buffer is not replayed", method: http.MethodPost, body: big, wantStatus: 401, wantTokens: []string{"Bearer tok-1"}},
		{name: "chunked body over retry buffer", method: http.MethodPost, body: big, chunked: true, wantStatus: 401, wantTokens: []string{"Bearer tok-1"}},
		{name: "same token after invalidate", method: http.MethodGet, sticky: true, wantStatus: 401, wantTokens: []string{"Bearer tok-1"}},
		{name: "IdP fails on refresh", method: http.MethodGet, refreshErr: true, wantStatus: 401, wantTokens: []string{"Bearer tok-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s seen
			src := &fakeSource{sticky: tt.sticky}
			retries := 0
			proxyURL, _ := startProxy(t, "", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got := s.record(r)
				if got.Auth != "Bearer tok-2" {
					if tt.refreshErr {
						src.setErr(errIdPDown)
					}
					http.Error(w, "expired", http.StatusUnauthorized)
					return
				}
				fmt.Fprint(w, "ok")
			}), src, WithRetryBuffer(1024), WithRetryHook(func() { retries++ }))

			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
				if tt.chunked {
					body = io.MultiReader(body) // hides the length: sent chunked
				}
			}
			req, _ := http.NewRequest(tt.method, proxyURL+"/models", body)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			got := s.all()
			var auths []string
			for _, r := range got {
				auths = append(auths, r.Auth)
				if r.Body != tt.body {
					t.Errorf("upstream body = %d bytes, want %d", len(r.Body), len(tt.body))
				}
			}
			if fmt.Sprint(auths) != fmt.Sprint(tt.wantTokens) {
				t.Errorf("upstream saw %v, want %v", auths, tt.wantTokens)
			}
			if (retries == 1) != tt.wantRetried || retries > 1 {
				t.Errorf("retries = %d, want retried=%v", retries, tt.wantRetried)
			}
			if tt.wantStatus == 401 && !tt.sticky && !tt.refreshErr && src.invalidations() != 0 {
				t.Errorf("a non-replayable request invalidated the token %d times", src.invalidations())
			}
		})
	}
}

func TestProxyRefusesOpenProxyUse(t *testing.T) {
	var s seen
	proxyURL, _ := startProxy(t, "", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.record(r)
	}), &fakeSource{})
	addr := strings.TrimPrefix(proxyURL, "http://")

	raw := []struct {
		name, request string
		wantStatus    int
	}{
		{"absolute-form", "GET http://127.0.0.2:1/steal HTTP/1.1\r\nHost: 127.0.0.2:1\r\n\r\n", http.StatusBadRequest},
		{"absolute-form to own host", "GET http://" + addr + "/x HTTP/1.1\r\nHost: " + addr + "\r\n\r\n", http.StatusBadRequest},
		{"CONNECT", "CONNECT 127.0.0.2:443 HTTP/1.1\r\nHost: 127.0.0.2:443\r\n\r\n", http.StatusMethodNotAllowed},
		{"asterisk-form", "OPTIONS * HTTP/1.1\r\nHost: " + addr + "\r\n\r\n", http.StatusBadRequest},
	}
	for _, tt := range raw {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := io.WriteString(conn, tt.request); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
		})
	}

	t.Run("client configured with it as forward proxy", func(t *testing.T) {
		pu, _ := url.Parse(proxyURL)
		client := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(pu)}}
		resp, err := client.Get("http://127.0.0.2:1/metadata")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("status = %d, want 400", resp.StatusCode)
		}
		if _, err := client.Get("https://127.0.0.2:1/metadata"); err == nil {
			t.Error("https through the proxy (CONNECT) succeeded, want an error")
		}
	})
	if n := len(s.all()); n != 0 {
		t.Errorf("upstream received %d requests from refused attempts", n)
	}
}

func TestProxyErrors(t *testing.T) {
	tests := []struct {
		name       string
		src        *fakeSource
		opts       []Option
		handler    http.HandlerFunc
		body       string
		wantStatus int
	}{
		{"no token", &fakeSource{err: errIdPDown}, nil, func(http.ResponseWriter, *http.Request) {}, "", http.StatusServiceUnavailable},
		{"body too large by Content-Length", &fakeSource{}, []Option{WithMaxRequestBody(8)}, func(http.ResponseWriter, *http.Request) {}, "0123456789", http.StatusRequestEntityTooLarge},
		{"upstream header timeout", &fakeSource{}, []Option{WithResponseHeaderTimeout(20 * time.Millisecond)}, func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() }, "", http.StatusGatewayTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			proxyURL, _ := startProxy(t, "", tt.handler, tt.src, tt.opts...)
			resp, err := http.Post(proxyURL+"/x", "text/plain", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			msg, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d (%s), want %d", resp.StatusCode, msg, tt.wantStatus)
			}
			if bytes.Contains(msg, []byte("tok-")) {
				t.Errorf("error body leaks a token: %s", msg)
			}
		})
	}

	t.Run("chunked body over max", func(t *testing.T) {
		proxyURL, _ := startProxy(t, "", http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), &fakeSource{}, WithMaxRequestBody(8))
		resp, err := http.Post(proxyURL+"/x", "text/plain", io.MultiReader(strings.NewReader("0123456789")))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("status = %d, want 413", resp.StatusCode)
		}
	})

	t.Run("upstream down", func(t *testing.T) {
		dead := httptest.NewServer(http.NotFoundHandler())
		u, _ := url.Parse(dead.URL)
		dead.Close()
		p, err := New(u, &fakeSource{})
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/x", nil))
		if rec.Code != http.StatusBadGateway {
			t.Errorf("status = %d, want 502", rec.Code)
		}
	})
}

func TestValidateUpstream(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want string // substring of the error; "" means valid
	}{
		{"https://api.example.com/v1", ""},
		{"http://127.0.0.1:8000", ""},
		{"ftp://api.example.com", "scheme must be http or https"},
		{"https:///v1", "no host"},
		{"https://user:pw@api.example.com/v1", "remove the userinfo"},
		{"https://api.example.com/v1?key=secret", "remove the query"},
	} {
		u, _ := url.Parse(tt.in)
		err := ValidateUpstream(u)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.in, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: error %v, want %q", tt.in, err, tt.want)
		case err != nil && (strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), "pw")):
			t.Errorf("%s: error leaks: %v", tt.in, err)
		}
	}
}
