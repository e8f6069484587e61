package discovery

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// metadataServer serves documents at exact paths; every other path is 404.
// Documents may contain "{{ISSUER_BASE}}", replaced by the server URL.
type metadataServer struct {
	srv  *httptest.Server
	mu   sync.Mutex
	hits []string
	docs map[string]string
	gate chan struct{} // when set, requests wait for it to close
}

func newMetadataServer(t *testing.T, docs map[string]string) *metadataServer {
	t.Helper()
	m := &metadataServer{docs: docs}
	m.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		m.hits = append(m.hits, r.URL.Path)
		gate := m.gate
		doc, ok := m.docs[r.URL.Path]
		m.mu.Unlock()
		if gate != nil {
			<-gate
		}
		if !ok {
			http.NotFound(w, r)
			return
		}
		if strings.HasPrefix(doc, "<") {
			w.Header().Set("Content-Type", "text/html")
		} else {
			w.Header().Set("Content-Type", "application/json")
		}
		w.Write([]byte(strings.ReplaceAll(doc, "{{ISSUER_BASE}}", m.srv.URL)))
	}))
	t.Cleanup(m.srv.Close)
	return m
}

func (m *metadataServer) requests() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.hits...)
}

func doc(issuerPath string) string {
	b, _ := json.Marshal(map[string]any{
		"issuer":                        "{{ISSUER_BASE}}" + issuerPath,
		"token_endpoint":                "{{ISSUER_BASE}}" + issuerPath + "/token",
		"device_authorization_endpoint": "{{ISSUER_BASE}}" + issuerPath + "/device",
		"jwks_uri":                      "{{ISSUER_BASE}}" + issuerPath + "/keys",
		"grant_types_supported":         []string{"urn:ietf:params:oauth:grant-type:token-exchange"},
	})
	return string(b)
}

func TestDiscover(t *testing.T) {
	tests := []struct {
		name       string
		issuerPath string
		docs       map[string]string
		wantHits   []string
		wantFrom   string
	}{
		{
			name:       "openid configuration",
			issuerPath: "/dex",
			docs:       map[string]string{"/dex/.well-known/openid-configuration": doc("/dex")},
			wantHits:   []string{"/dex/.well-known/openid-configuration"},
			wantFrom:   "/dex/.well-known/openid-configuration",
		},
		{
			name:       "rfc 8414 with path insertion",
			issuerPath: "/realms/x",
			docs:       map[string]string{"/.well-known/oauth-authorization-server/realms/x": doc("/realms/x")},
			wantHits:   []string{"/realms/x/.well-known/openid-configuration", "/.well-known/oauth-authorization-server/realms/x"},
			wantFrom:   "/.well-known/oauth-authorization-server/realms/x",
		},
		{
			name:       "rfc 8414 appended as a last resort",
			issuerPath: "/realms/x",
			docs:       map[string]string{"/realms/x/.well-known/oauth-authorization-server": doc("/realms/x")},
			wantHits: []string{"/realms/x/.well-known/openid-configuration", "/.well-known/oauth-authorization-server/realms/x",
				"/realms/x/.well-known/oauth-authorization-server"},
			wantFrom: "/realms/x/.well-known/oauth-authorization-server",
		},
		{
			name:       "rfc 8414 at the root for a host issuer",
			issuerPath: "",
			docs:       map[string]string{"/.well-known/oauth-authorization-server": doc("")},
			wantHits:   []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"},
			wantFrom:   "/.well-known/oauth-authorization-server",
		},
		{
			name:       "html catch-all page is skipped",
			issuerPath: "/app",
			docs: map[string]string{
				"/app/.well-known/openid-configuration":       "<html>single page app</html>",
				"/.well-known/oauth-authorization-server/app": doc("/app"),
			},
			wantHits: []string{"/app/.well-known/openid-configuration", "/.well-known/oauth-authorization-server/app"},
			wantFrom: "/.well-known/oauth-authorization-server/app",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMetadataServer(t, tt.docs)
			issuer := m.srv.URL + tt.issuerPath
			c := &Client{HTTPClient: m.srv.Client()}
			md, err := c.Discover(context.Background(), issuer)
			if err != nil {
				t.Fatalf("Discover: %v", err)
			}
			if md.Issuer != issuer || md.TokenEndpoint != issuer+"/token" || md.DeviceAuthorizationEndpoint != issuer+"/device" ||
				md.JWKSURI != issuer+"/keys" || len(md.GrantTypesSupported) != 1 {
				t.Errorf("metadata = %+v", md)
			}
			if md.URL != m.srv.URL+tt.wantFrom {
				t.Errorf("URL = %s, want %s", md.URL, m.srv.URL+tt.wantFrom)
			}
			if got := m.requests(); strings.Join(got, " ") != strings.Join(tt.wantHits, " ") {
				t.Errorf("requests = %v, want %v", got, tt.wantHits)
			}
		})
	}
}

func TestDiscoverErrors(t *testing.T) {
	t.Run("issuer mismatch", func(t *testing.T) {
		m := newMetadataServer(t, map[string]string{"/realms/x/.well-known/openid-configuration": doc("/realms/y")})
		_, err := (&Client{}).Discover(context.Background(), m.srv.URL+"/realms/x")
		want := `discovery: issuer mismatch: configured "` + m.srv.URL + `/realms/x", but ` + m.srv.URL +
			`/realms/x/.well-known/openid-configuration says "` + m.srv.URL + `/realms/y"`
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("error = %v\nwant it to contain %s", err, want)
		}
		if n := len(m.requests()); n != 1 {
			t.Errorf("requests = %d, want 1 (a mismatch stops the search)", n)
		}
	})
	t.Run("trailing slash mismatch", func(t *testing.T) {
		m := newMetadataServer(t, map[string]string{"/realms/x/.well-known/openid-configuration": doc("/realms/x")})
		_, err := (&Client{}).Discover(context.Background(), m.srv.URL+"/realms/x/")
		if err == nil || !strings.Contains(err.Error(), "issuer mismatch") || !strings.Contains(err.Error(), "trailing slash") {
			t.Fatalf("error = %v, want a mismatch naming the trailing slash", err)
		}
	})
	t.Run("nothing found names every URL and status", func(t *testing.T) {
		m := newMetadataServer(t, map[string]string{"/realms/x/.well-known/openid-configuration": `{"token_endpoint":"x"}`})
		_, err := (&Client{}).Discover(context.Background(), m.srv.URL+"/realms/x")
		for _, want := range []string{
			"discovery: no metadata for issuer " + m.srv.URL + "/realms/x",
			"GET " + m.srv.URL + `/realms/x/.well-known/openid-configuration: HTTP 200 but the document has no "issuer"`,
			"GET " + m.srv.URL + "/.well-known/oauth-authorization-server/realms/x: HTTP 404",
			"GET " + m.srv.URL + "/realms/x/.well-known/oauth-authorization-server: HTTP 404",
		} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("error = %v\nwant it to contain %s", err, want)
			}
		}
	})
	t.Run("unreachable stops at once", func(t *testing.T) {
		m := newMetadataServer(t, nil)
		url := m.srv.URL
		m.srv.Close()
		_, err := (&Client{}).Discover(context.Background(), url+"/dex")
		want := "discovery: issuer " + url + "/dex: GET " + url + "/dex/.well-known/openid-configuration: dial tcp"
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "oauth-authorization-server") {
			t.Fatalf("error = %v\nwant it to contain %s and no other URL", err, want)
		}
	})
	for _, bad := range []string{"", "idp.example", "ftp://idp.example", "https://u:pw@idp.example/x?q=1"} {
		t.Run("bad issuer "+bad, func(t *testing.T) {
			_, err := (&Client{}).Discover(context.Background(), bad)
			if err == nil || !strings.HasPrefix(err.Error(), "discovery: issuer") || strings.Contains(err.Error(), "pw") {
				t.Fatalf("error = %v", err)
			}
		})
	}
}

func TestDiscoverCachesPerIssuer(t *testing.T) {
	m := newMetadataServer(t, map[string]string{
		"/a/.well-known/openid-configuration": doc("/a"),
		"/b/.well-known/openid-configuration": doc("/b"),
	})
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := &Client{TTL: 10 * time.Minute, Now: func() time.Time { return now }}
	discover := func(path string) *Metadata {
		t.Helper()
		md, err := c.Discover(context.Background(), m.srv.URL+path)
		if err != nil {
			t.Fatal(err)
		}
		return md
	}
	md := discover("/a")
	md.TokenEndpoint = "mutated by caller"
	md.GrantTypesSupported[0] = "mutated"
	if got := discover("/a"); got.TokenEndpoint != m.srv.URL+"/a/token" || got.GrantTypesSupported[0] == "mutated" {
		t.Errorf("cache returned caller-modified metadata: %+v", got)
	}
	discover("/b")
	if n := len(m.requests()); n != 2 {
		t.Fatalf("requests = %d, want 2 (one per issuer)", n)
	}
	now = now.Add(10 * time.Minute) // TTL passed
	discover("/a")
	if n := len(m.requests()); n != 3 {
		t.Fatalf("requests after TTL = %d, want 3", n)
	}

	noCache := &Client{TTL: -1}
	for range 2 {
		if _, err := noCache.Discover(context.Background(), m.srv.URL+"/a"); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(m.requests()); n != 5 {
		t.Errorf("requests with caching disabled = %d, want 5", n)
	}
}

func TestDiscoverDoesNotCacheFailures(t *testing.T) {
	m := newMetadataServer(t, map[string]string{})
	c := &Client{}
	if _, err := c.Discover(context.Background(), m.srv.URL+"/x"); err == nil {
		t.Fatal("want an error")
	}
	m.mu.Lock()
	m.docs["/x/.well-known/openid-configuration"] = doc("/x")
	m.mu.Unlock()
	if _, err := c.Discover(context.Background(), m.srv.URL+"/x"); err != nil {
		t.Fatalf("after the IdP recovered: %v", err)
	}
}

func TestDiscoverConcurrentCallersShareOneFetch(t *testing.T) {
	const callers = 50
	m := newMetadataServer(t, map[string]string{"/dex/.well-known/openid-configuration": doc("/dex")})
	m.gate = make(chan struct{})
	c := &Client{}
	issuer := m.srv.URL + "/dex"

	// One caller gives up while the fetch is in flight; the others must
	// still get the result.
	impatient, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var failures atomic.Int32
	var impatientErr error
	wg.Add(callers)
	for i := range callers {
		go func() {
			defer wg.Done()
			ctx := context.Background()
			if i == 0 {
				ctx = impatient
			}
			md, err := c.Discover(ctx, issuer)
			if i == 0 {
				impatientErr = err
				return
			}
			if err != nil || md.Issuer != issuer {
				failures.Add(1)
			}
		}()
	}
	waitFor(t, func() bool { return c.waiting.Load() == callers }, "all callers to wait on the fetch")
	cancel()
	waitFor(t, func() bool { return c.waiting.Load() == callers-1 }, "the impatient caller to leave")
	close(m.gate)
	wg.Wait()

	if !errors.Is(impatientErr, context.Canceled) {
		t.Errorf("impatient caller error = %v, want context.Canceled", impatientErr)
	}
	if failures.Load() != 0 {
		t.Errorf("%d callers failed", failures.Load())
	}
	if n := len(m.requests()); n != 1 {
		t.Errorf("requests = %d, want 1 for %d concurrent callers", n, callers)
	}
}

// waitFor polls cond until it holds or a deadline passes.
func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		}
	}
}

// An unreachable issuer keeps the network error reachable, so frontends can
// tell "nothing listens there" from an IdP answer.
func TestUnreachableIssuerWrapsNetworkError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	issuer := srv.URL + "/realms/gone"
	srv.Close() // nothing listens there any more
	_, err := (&Client{}).Discover(context.Background(), issuer)
	var opErr *net.OpError
	if !errors.As(err, &opErr) {
		t.Fatalf("err = %v, want a wrapped *net.OpError", err)
	}
	if !strings.Contains(err.Error(), issuer) {
		t.Errorf("error %q does not name the issuer", err)
	}
}
