package grant

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/fedtoken/fedtoken/core/discovery"
)

// discoveryIdP serves OpenID discovery at /realms/e2e and a token endpoint.
func discoveryIdP(t *testing.T, tokenEndpoint func(base string) string) (*httptest.Server, *atomic.Int32, *atomic.Int32) {
	t.Helper()
	var discoveries, tokens atomic.Int32
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/realms/e2e/.well-known/openid-configuration":
			discoveries.Add(1)
			te := tokenEndpoint(srv.URL)
			w.Write([]byte(`{"issuer":"` + srv.URL + `/realms/e2e","token_endpoint":"` + te + `"}`))
		case "/realms/e2e/protocol/openid-connect/token", "/configured/token":
			tokens.Add(1)
			w.Write([]byte(okBody))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &discoveries, &tokens
}

func TestEndpointDiscovery(t *testing.T) {
	srv, discoveries, tokens := discoveryIdP(t, func(base string) string { return base + "/realms/e2e/protocol/openid-connect/token" })
	d := &discovery.Client{}
	g := &ClientCredentials{Endpoint: Endpoint{Issuer: srv.URL + "/realms/e2e", Discovery: d},
		Auth: testClientAuth()}
	for range 3 {
		if _, err := g.TokenContext(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if discoveries.Load() != 1 || tokens.Load() != 3 {
		t.Errorf("discoveries = %d, token requests = %d; want 1 and 3", discoveries.Load(), tokens.Load())
	}

	// A configured token endpoint wins: no discovery at all.
	g.Endpoint = Endpoint{Issuer: srv.URL + "/realms/e2e", TokenURL: srv.URL + "/configured/token", Discovery: &discovery.Client{}}
	if _, err := g.TokenContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	if discoveries.Load() != 1 || tokens.Load() != 4 {
		t.Errorf("discoveries = %d, token requests = %d; want 1 and 4", discoveries.Load(), tokens.Load())
	}
}

func TestEndpointErrors(t *testing.T) {
	srv, _, _ := discoveryIdP(t, func(string) string { return "" })
	insecure, _, _ := discoveryIdP(t, func(string) string { return "http://idp.example/token" })
	tests := []struct {
		name    string
		ep      Endpoint
		wantErr string
	}{
		{"nothing configured", Endpoint{}, "no token endpoint: set tokenEndpoint or issuer"},
		{"discovery fails", Endpoint{Issuer: srv.URL + "/realms/missing"},
			"find token endpoint: discovery: no metadata for issuer " + srv.URL + "/realms/missing: GET " + srv.URL +
				"/realms/missing/.well-known/openid-configuration: HTTP 404"},
		{"discovery fails hint", Endpoint{Issuer: srv.URL + "/realms/missing"}, "; set tokenEndpoint or fix the issuer"},
		{"no token_endpoint", Endpoint{Issuer: srv.URL + "/realms/e2e"},
			"find token endpoint: " + srv.URL + "/realms/e2e/.well-known/openid-configuration has no token_endpoint; set tokenEndpoint"},
		{"plain http token endpoint", Endpoint{TokenURL: "http://idp.example/token?x=1"},
			`tokenEndpoint: oauth: endpoint "http://idp.example/token" uses plain http: use https, or set allowInsecureHTTP: true`},
		{"plain http issuer", Endpoint{Issuer: "http://idp.example/realms/x"}, `issuer: oauth: endpoint "http://idp.example/realms/x" uses plain http`},
		{"plain http discovered", Endpoint{Issuer: insecure.URL + "/realms/e2e"}, `discovered token_endpoint: oauth: endpoint "http://idp.example/token" uses plain http`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.ep.TokenEndpoint(context.Background())
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v\nwant it to contain %s", err, tt.wantErr)
			}
		})
	}
	// The grant names itself in front of the endpoint error.
	_, err := (&ClientCredentials{}).TokenContext(context.Background())
	if err == nil || err.Error() != "client_credentials: no token endpoint: set tokenEndpoint or issuer" {
		t.Errorf("error = %v", err)
	}
	// allowInsecureHTTP lets a non-loopback http endpoint through.
	if u, err := (Endpoint{TokenURL: "http://idp.example/token", AllowInsecureHTTP: true}).TokenEndpoint(context.Background()); err != nil || u != "http://idp.example/token" {
		t.Errorf("TokenEndpoint with allowInsecureHTTP = %q, %v", u, err)
	}
}
