package cache

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/fedtoken/fedtoken/core/internal/fakeclock"
)

// fakeSource counts calls and answers with fn (n is the 1-based call number).
type fakeSource struct {
	calls atomic.Int64
	fn    func(ctx context.Context, n int64) (*oauth2.Token, error)
}

func (f *fakeSource) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	return f.fn(ctx, f.calls.Add(1))
}

func (f *fakeSource) Token() (*oauth2.Token, error) { return f.TokenContext(context.Background()) }

// lifetime returns tokens "at-<n>" that expire life after clock's now
// (no expiry when life is 0).
func lifetime(clock *fakeclock.Clock, life time.Duration) func(context.Context, int64) (*oauth2.Token, error) {
	return func(_ context.Context, n int64) (*oauth2.Token, error) {
		tok := &oauth2.Token{AccessToken: fmt.Sprintf("at-%d", n), TokenType: "Bearer"}
		if life != 0 {
			tok.Expiry = clock.Now().Add(life)
		}
		return tok, nil
	}
}

// renewingSource is a fakeSource that is also an oauth.Renewer.
type renewingSource struct {
	fakeSource
	renewals atomic.Int64
	renew    func(ctx context.Context, prev *oauth2.Token, n int64) (*oauth2.Token, error)
}

func (r *renewingSource) Renew(ctx context.Context, prev *oauth2.Token) (*oauth2.Token, error) {
	return r.renew(ctx, prev, r.renewals.Add(1))
}

// eventLog collects observer events.
type eventLog struct {
	mu     sync.Mutex
	events []Event
	ch     chan Event
}

func newEventLog() *eventLog { return &eventLog{ch: make(chan Event, 100)} }

func (l *eventLog) observe(ev Event) {
	l.mu.Lock()
	l.events = append(l.events, ev)
	l.mu.Unlock()
	l.ch <- ev
}

func (l *eventLog) all() []Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Event(nil), l.events...)
}

// next waits for the next event.
func (l *eventLog) next(t *testing.T) Event {
	t.Helper()
	select {
	case ev := <-l.ch:
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no acquisition event within 10s")
		return Event{}
	}
}

// waitFor polls cond until it holds, failing the test after 10s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// waiters returns how many callers wait on the acquisition in progress.
func (s *Source) waiters() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inflight == nil {
		return 0
	}
	return s.inflight.waiters
}

func half() float64 { return 0.5 }
