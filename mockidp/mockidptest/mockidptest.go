// Package mockidptest serves a mockidp.Server on loopback for a test.
//
//	idp := mockidptest.Start(t, mockidp.WithConfig(cfg))
//	tokenURL := idp.IssuerURL("prod") + "/token"
package mockidptest

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/fedtoken/fedtoken/mockidp"
)

// Server is a running mock IdP: the mockidp.Server plus the httptest
// server that serves it on 127.0.0.1.
type Server struct {
	*mockidp.Server
	// HTTP is the loopback server; HTTP.Client() talks to it.
	HTTP *httptest.Server
}

// Start serves a new mockidp.Server built from opts on a loopback port and
// runs its cluster rotation. Everything stops in t.Cleanup. Start fails
// the test if the options are invalid.
func Start(t testing.TB, opts ...mockidp.Option) *Server {
	t.Helper()
	hs := httptest.NewUnstartedServer(nil)
	t.Cleanup(hs.Close)
	// A test run that scans its logs for leaked secrets collects what
	// every IdP issued ($FEDTOKEN_SECRETS_DIR, set by make test).
	if f, err := mockidp.IssuedSecretsFromEnv(); err != nil {
		t.Fatalf("mockidptest: %v", err)
	} else if f != nil {
		t.Cleanup(func() { f.Close() })
		opts = append(opts, mockidp.WithIssuedSecrets(f))
	}
	s, err := mockidp.New("http://"+hs.Listener.Addr().String(), opts...)
	if err != nil {
		t.Fatalf("mockidptest: %v", err)
	}
	hs.Config.Handler = s
	hs.Start()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("mockidptest: Run: %v", err)
		}
	})
	return &Server{Server: s, HTTP: hs}
}
