package proxy

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/oauth2"
)

// fakeSource hands out "tok-1", "tok-2", … ; Invalidate moves to the next.
type fakeSource struct {
	mu          sync.Mutex
	n           int
	invalidated int
	err         error // returned by TokenContext when set
	sticky      bool  // Invalidate does not change the token
}

func (f *fakeSource) TokenContext(context.Context) (*oauth2.Token, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	if f.n == 0 {
		f.n = 1
	}
	return &oauth2.Token{AccessToken: fmt.Sprintf("tok-%d", f.n), TokenType: "Bearer"}, nil
}

func (f *fakeSource) Invalidate(tok *oauth2.Token) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.invalidated++
	if !f.sticky && tok.AccessToken == fmt.Sprintf("tok-%d", f.n) {
		f.n++
	}
}

func (f *fakeSource) setErr(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

func (f *fakeSource) invalidations() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.invalidated
}

var errIdPDown = errors.New("oauth2: server_error: IdP down (HTTP 503 from https://idp.example/token)")
