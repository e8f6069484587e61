package app

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fedtoken/fedtoken/sidecar/internal/tokenendpoint"
)

// stormSidecar runs the whole sidecar (proxy, token endpoint, file sink,
// refresher) against idp and upstream, drives steady traffic at the proxy
// and the token endpoint for d, and returns how many token requests the
// IdP received.
func stormSidecar(t *testing.T, idp http.HandlerFunc, upstream http.HandlerFunc, d time.Duration) int64 {
	t.Helper()
	var idpRequests atomic.Int64
	idpSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		idpRequests.Add(1)
		idp(w, r)
	}))
	t.Cleanup(idpSrv.Close)
	up := httptest.NewServer(upstream)
	t.Cleanup(up.Close)
	subject, _ := subjectJWT(t)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, idpSrv.URL, up.URL, subject)
	sinkPath := filepath.Join(dir, "token")
	env := Env{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(k string) string {
		return map[string]string{"FEDTOKEN_CONFIG": cfg}[k]
	}}
	srv, _, err := Build(env, []string{"--admin-addr", "127.0.0.1:0", "--proxy", "127.0.0.1:0", "--file-sink", sinkPath})
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	<-srv.Started()
	proxyURL := "http://" + srv.Addr("proxy/miaou").String() + "/v1/models"
	tokenURL := "http://" + srv.Addr("admin").String() + "/v1/token/miaou"
	stop := time.Now().Add(d)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for time.Now().Before(stop) {
				req, _ := http.NewRequest(http.MethodGet, proxyURL, nil)
				if i%2 == 1 {
					req, _ = http.NewRequest(http.MethodGet, tokenURL, nil)
					req.Header.Set(tokenendpoint.Header, tokenendpoint.HeaderValue)
				}
				if resp, err := http.DefaultClient.Do(req); err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
		})
	}
	wg.Wait()
	return idpRequests.Load()
}

// TestNoIdPStormDuringAnOutage is W2: proxy, token endpoint, file sink and
// refresher all share one cool-down, so an IdP that refuses every request
// sees a handful of requests, not one per caller per second.
func TestNoIdPStormDuringAnOutage(t *testing.T) {
	n := stormSidecar(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":"invalid_grant","error_description":"down for maintenance"}`)
	}, func(w http.ResponseWriter, _ *http.Request) {}, 3*time.Second)
	// Cool-down 0.5–1 s, 1–2 s, 2–4 s…: at most 4 acquisitions in 3 s.
	if n > 4 {
		t.Fatalf("IdP requests during a 3 s outage under steady traffic = %d, want at most 4", n)
	}
	t.Logf("IdP requests during a 3 s outage: %d", n)
}

// TestNoIdPStormWhenTheUpstreamRejectsEveryToken is W3: each upstream 401
// used to start a new acquisition.
func TestNoIdPStormWhenTheUpstreamRejectsEveryToken(t *testing.T) {
	var issued atomic.Int64
	n := stormSidecar(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"at-%d","token_type":"Bearer","expires_in":3600}`, issued.Add(1))
	}, func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "rejected", http.StatusUnauthorized)
	}, 2*time.Second)
	// The first token, and one replacement per 30 s invalidate cool-down.
	if n > 2 {
		t.Fatalf("IdP requests in 2 s of upstream 401s = %d, want at most 2", n)
	}
	t.Logf("IdP requests in 2 s of upstream 401s: %d", n)
}
