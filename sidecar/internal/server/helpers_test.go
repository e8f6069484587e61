package server

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/fedtoken/fedtoken/sidecar/internal/sidecartest"
)

// fakeSource caches one token; when it has none (or it expired) TokenContext
// asks acquire, which plays the IdP.
type fakeSource struct {
	mu      sync.Mutex
	tok     *oauth2.Token
	acquire func() (*oauth2.Token, error)
	calls   int
}

func (f *fakeSource) valid() bool {
	return f.tok != nil && (f.tok.Expiry.IsZero() || time.Now().Before(f.tok.Expiry))
}

func (f *fakeSource) Peek() (*oauth2.Token, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tok, f.valid()
}

func (f *fakeSource) TokenContext(context.Context) (*oauth2.Token, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.valid() {
		return f.tok, nil
	}
	f.calls++
	tok, err := f.acquire()
	if err != nil {
		return nil, err
	}
	f.tok = tok
	return tok, nil
}

func (f *fakeSource) Invalidate(tok *oauth2.Token) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.tok != nil && f.tok.AccessToken == tok.AccessToken {
		f.tok = nil
	}
}

func (f *fakeSource) set(tok *oauth2.Token) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tok = tok
}

func staticToken(s string) func() (*oauth2.Token, error) {
	return func() (*oauth2.Token, error) {
		return &oauth2.Token{AccessToken: s, TokenType: "Bearer", Expiry: time.Now().Add(time.Hour)}, nil
	}
}

// running is a Server started by start.
type running struct {
	srv    *Server
	cancel context.CancelFunc
	done   chan error
}

// start runs New(providers, opts...) with every listener on a free
// loopback port and waits until it listens.
func start(t *testing.T, providers []Provider, opts ...Option) *running {
	t.Helper()
	opts = append([]Option{WithAdminAddr("127.0.0.1:0"), WithShutdownTimeout(10 * time.Second), WithRetryBackoff(time.Millisecond, 5*time.Millisecond)}, opts...)
	srv, err := New(providers, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{srv: srv, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- srv.Run(ctx) }()
	select {
	case <-srv.Started():
	case err := <-r.done:
		cancel()
		t.Fatalf("Run: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(30 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
	return r
}

func (r *running) url(name, path string) string {
	return "http://" + r.srv.Addr(name).String() + path
}

// get is sidecartest.Get.
var get = sidecartest.Get

// eventually polls cond until it holds or 10 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond) // polling with a deadline, not synchronisation
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
