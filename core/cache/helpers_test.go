package cache

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// fakeClock is a hand-driven clock: Now for WithClock, After for WithAfter.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []fakeTimer
	// sleeps receives the duration of every After call, so a test knows
	// that Run is waiting and for how long.
	sleeps chan time.Duration
}

type fakeTimer struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{
		now:    time.Date(2026, 11, 26, 16, 0, 0, 0, time.UTC),
		sleeps: make(chan time.Duration, 1000),
	}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	c.mu.Lock()
	if d <= 0 {
		ch <- c.now
	} else {
		c.timers = append(c.timers, fakeTimer{at: c.now.Add(d), ch: ch})
	}
	c.mu.Unlock()
	select {
	case c.sleeps <- d:
	default:
	}
	return ch
}

// Advance moves the clock on and fires the timers that are due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.timers[:0]
	for _, t := range c.timers {
		if t.at.After(c.now) {
			kept = append(kept, t)
			continue
		}
		t.ch <- c.now
	}
	c.timers = kept
}

// nextSleep waits for Run to start waiting and returns for how long.
func (c *fakeClock) nextSleep(t *testing.T) time.Duration {
	t.Helper()
	select {
	case d := <-c.sleeps:
		return d
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not start waiting within 10s")
		return 0
	}
}

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
func lifetime(clock *fakeClock, life time.Duration) func(context.Context, int64) (*oauth2.Token, error) {
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
