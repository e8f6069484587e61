package server

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/fedtoken/fedtoken/sidecar/internal/tokenendpoint"
)

// TestDNSRebindingIsRefused is W5: a page whose name was rebound to
// 127.0.0.1 sends same-origin requests with its own name in Host. The
// admin listener (token endpoint, quit) and the proxy must refuse them,
// while loopback names, IP literals and configured names pass.
func TestDNSRebindingIsRefused(t *testing.T) {
	upstream := startUpstream(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("upstream")) })
	src := &fakeSource{acquire: staticToken("at-secret")}
	r := start(t, []Provider{{ID: "miaou", Source: src, Proxy: &Proxy{Listen: "127.0.0.1:0", Upstream: upstream}}},
		WithAllowedHosts([]string{"fedtoken.ai-jobs.svc"}))
	admin, prx := r.srv.Addr("admin").String(), r.srv.Addr("proxy/miaou").String()
	_, port, _ := strings.Cut(admin, ":")
	do := func(method, url, host string) (int, string) {
		req, _ := http.NewRequest(method, url, nil)
		req.Host = host
		req.Header.Set(tokenendpoint.Header, tokenendpoint.HeaderValue)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String()
	}
	for _, host := range []string{"rebind.attacker.example", "rebind.attacker.example:" + port, "127.0.0.1.nip.io", "localhost.attacker.example"} {
		if code, body := do("GET", "http://"+admin+"/v1/token/miaou", host); code != http.StatusMisdirectedRequest || strings.Contains(body, "at-secret") {
			t.Errorf("token endpoint with Host %q = %d %q, want 421 without the token", host, code, body)
		}
		if code, body := do("GET", "http://"+prx+"/models", host); code != http.StatusMisdirectedRequest || body == "upstream" {
			t.Errorf("proxy with Host %q = %d %q, want 421, not forwarded", host, code, body)
		}
		if code, _ := do("POST", "http://"+admin+"/quitquitquit", host); code != http.StatusMisdirectedRequest {
			t.Errorf("quit with Host %q = %d, want 421", host, code)
		}
	}
	for _, host := range []string{admin, "localhost:" + port, "LOCALHOST", "app.localhost", "[::1]:" + port, "10.1.2.3:9901", "fedtoken.ai-jobs.svc", "fedtoken.ai-jobs.svc:" + port} {
		if code, body := do("GET", "http://"+admin+"/v1/token/miaou", host); code != http.StatusOK {
			t.Errorf("token endpoint with Host %q = %d %q, want 200", host, code, body)
		}
	}
	if code, body := do("GET", "http://"+prx+"/models", "localhost"); code != http.StatusOK || body != "upstream" {
		t.Errorf("proxy with Host localhost = %d %q", code, body)
	}
}

// TestProxyBeyondLoopbackIsWarned: a proxy (or admin listener) reachable
// from other pods hands out the workload's identity; say so in the log.
func TestProxyBeyondLoopbackIsWarned(t *testing.T) {
	upstream := startUpstream(t, func(w http.ResponseWriter, r *http.Request) {})
	var logs syncLog
	start(t, []Provider{{ID: "miaou", Source: &fakeSource{acquire: staticToken("at")}, Proxy: &Proxy{Listen: "0.0.0.0:0", Upstream: upstream}}},
		WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	out := logs.String()
	if !strings.Contains(out, "level=WARN") || !strings.Contains(out, "beyond loopback") || !strings.Contains(out, "proxy/miaou") {
		t.Fatalf("no warning about a proxy listening beyond loopback:\n%s", out)
	}
}

// syncLog is a log sink safe for concurrent writes.
type syncLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
