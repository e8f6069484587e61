package cache

import (
	"context"
	"errors"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/fedtoken/fedtoken/core/internal/fakeclock"
)

func TestEntryDeadlines(t *testing.T) {
	now := time.Date(2026, 11, 26, 16, 0, 0, 0, time.UTC)
	tests := []struct {
		name        string
		opts        []Option
		life        time.Duration // 0: no expiry
		fresh       bool
		jitter      float64
		wantStale   time.Duration // after now; -1: never served
		wantRefresh time.Duration // after now; -1: no refresh
	}{
		// Run refreshes at latest·(0.65 + 0.35·jitter), where latest leaves
		// max(20 % of L, skew + margin) before expiry (margin: 30 s, at most
		// a tenth of the usable life).
		// 300 s: latest = 300 − max(60, 30+27) = 240 s → 156–240 s.
		{"300s, jitter 0", nil, 300 * time.Second, true, 0, 270 * time.Second, 156 * time.Second},
		{"300s, jitter 0.5", nil, 300 * time.Second, true, 0.5, 270 * time.Second, 198 * time.Second},
		{"300s, jitter 1", nil, 300 * time.Second, true, 1, 270 * time.Second, 240 * time.Second},
		// 1 h: latest = 48 min → 31.2–48 min (12–28.8 min before expiry).
		{"1h, jitter 0", nil, time.Hour, true, 0, time.Hour - 30*time.Second, 31*time.Minute + 12*time.Second},
		{"1h, jitter 1", nil, time.Hour, true, 1, time.Hour - 30*time.Second, 48 * time.Minute},
		// 90 s: skew = 90/4 = 22.5 s; latest = 90 − (22.5 + 6.75) = 60.75 s.
		{"90s, jitter 0.5", nil, 90 * time.Second, true, 0.5, 67500 * time.Millisecond, 50118750 * time.Microsecond},
		// 60 s: skew 15 s, served 45 s; latest = 60 − (15 + 4.5) = 40.5 s,
		// so 26.3–40.5 s: 1.5 to 2.3 refreshes per lifetime, spread.
		{"60s, jitter 0", nil, 60 * time.Second, true, 0, 45 * time.Second, 26325 * time.Millisecond},
		{"60s, jitter 0.5", nil, 60 * time.Second, true, 0.5, 45 * time.Second, 33412500 * time.Microsecond},
		{"60s, jitter 1", nil, 60 * time.Second, true, 1, 45 * time.Second, 40500 * time.Millisecond},
		// 20 s fresh: skew 5 s; latest = 20 − (5 + 1.5) = 13.5 s.
		{"20s fresh", nil, 20 * time.Second, true, 0.5, 15 * time.Second, 11137500 * time.Microsecond},
		// 20 s left on a stored token: full skew, so never served; Run
		// replaces it at once.
		{"20s loaded from a store", nil, 20 * time.Second, false, 0.5, -10 * time.Second, 0},
		// A large share is bounded by the floor: never in the first half of
		// the usable life (3570 s), even at jitter 0.
		{"refresh ahead 0.5: half the usable life", []Option{WithRefreshAhead(0.5)}, time.Hour, true, 0, time.Hour - 30*time.Second, 1785 * time.Second},
		{"refresh ahead 0: skew + margin", []Option{WithRefreshAhead(0)}, time.Hour, true, 1, time.Hour - 30*time.Second, time.Hour - 60*time.Second},
		{"no expiry: reused for a second", nil, 0, true, 0.5, time.Second, -1},
		{"no expiry, loaded", nil, 0, false, 0.5, -1, -1},
		// 10 min: latest = 600 − max(120, 60) = 480 s; ×0.825.
		{"no expiry, unknown-expiry 10m", []Option{WithUnknownExpiry(10 * time.Minute)}, 0, true, 0.5, 10*time.Minute - 30*time.Second, 396 * time.Second},
		{"already expired", nil, -time.Second, true, 0.5, -1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(&fakeSource{}, append([]Option{WithJitter(func() float64 { return tt.jitter })}, tt.opts...)...)
			tok := &oauth2.Token{AccessToken: "at"}
			if tt.life != 0 {
				tok.Expiry = now.Add(tt.life)
			}
			e := s.newEntry(tok, now, tt.fresh)
			check := func(what string, got time.Time, want time.Duration) {
				t.Helper()
				if want == -1 {
					if !got.IsZero() {
						t.Errorf("%s = now%+v, want none", what, got.Sub(now))
					}
					return
				}
				// The jitter is floating-point: a microsecond either way.
				if d := got.Sub(now) - want; d < -time.Microsecond || d > time.Microsecond {
					t.Errorf("%s = now%+v, want now%+v", what, got.Sub(now), want)
				}
			}
			check("staleAt", e.staleAt, tt.wantStale)
			check("refreshAt", e.refreshAt, tt.wantRefresh)
		})
	}
}

func TestRunRefreshesAheadOfExpiry(t *testing.T) {
	clock := fakeclock.New()
	up := &fakeSource{fn: lifetime(clock, 300*time.Second)}
	events := newEventLog()
	s := New(up, WithClock(clock.Now), WithAfter(clock.After), WithJitter(half), WithObserver(events.observe))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()

	if ev := events.next(t); ev.Err != nil || ev.Background || ev.Token.AccessToken != "at-1" {
		t.Fatalf("first acquisition (cold start) = %+v", ev)
	}
	// 300 s token, jitter 0.5: refresh at 0.825 × 240 s = 198 s.
	if d := clock.NextSleep(t); d != 198*time.Second {
		t.Fatalf("Run sleeps %v, want 198s", d)
	}
	clock.Advance(197 * time.Second)
	if tok, _ := s.Token(); tok.AccessToken != "at-1" {
		t.Fatalf("before the refresh point got %s", tok.AccessToken)
	}
	clock.Advance(time.Second)
	if ev := events.next(t); ev.Err != nil || !ev.Background || ev.Token.AccessToken != "at-2" {
		t.Fatalf("background refresh = %+v", ev)
	}
	if tok, ok := s.Peek(); !ok || tok.AccessToken != "at-2" {
		t.Fatalf("after the background refresh Peek = %v, %v", tok, ok)
	}
	if d := clock.NextSleep(t); d != 198*time.Second {
		t.Fatalf("Run then sleeps %v, want 198s", d)
	}
	if got := up.calls.Load(); got != 2 {
		t.Fatalf("upstream calls = %d, want 2 (callers never acquired)", got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run returned %v after cancel, want nil", err)
	}
}

func TestRunKeepsServingWhileRefreshFails(t *testing.T) {
	clock := fakeclock.New()
	boom := errors.New("idp down")
	mint := lifetime(clock, 300*time.Second)
	up := &fakeSource{fn: func(ctx context.Context, n int64) (*oauth2.Token, error) {
		if n == 2 || n == 3 {
			return nil, boom
		}
		return mint(ctx, n)
	}}
	events := newEventLog()
	s := New(up, WithClock(clock.Now), WithAfter(clock.After), WithJitter(half),
		WithBackoff(2*time.Second, 4*time.Second), WithObserver(events.observe))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Run(ctx)

	first := events.next(t).Token
	clock.Advance(clock.NextSleep(t)) // to the refresh point (225 s)
	if ev := events.next(t); !errors.Is(ev.Err, boom) || !ev.Background {
		t.Fatalf("first background refresh = %+v, want the failure", ev)
	}
	if tok, err := s.Token(); tok != first || err != nil {
		t.Fatalf("after a failed refresh got %v, %v; want the old token", tok, err)
	}
	// Backoff 2 s, jittered by half of its upper half: 1.5 s.
	if d := clock.NextSleep(t); d != 1500*time.Millisecond {
		t.Fatalf("first retry after %v, want 1.5s", d)
	}
	clock.Advance(1500 * time.Millisecond)
	if ev := events.next(t); !errors.Is(ev.Err, boom) {
		t.Fatalf("second background refresh = %+v, want the failure", ev)
	}
	if d := clock.NextSleep(t); d != 3*time.Second {
		t.Fatalf("second retry after %v, want 3s (4 s jittered)", d)
	}
	if tok, err := s.Token(); tok != first || err != nil {
		t.Fatalf("after two failed refreshes got %v, %v; want the old token", tok, err)
	}
	clock.Advance(3 * time.Second)
	if ev := events.next(t); ev.Err != nil || ev.Token.AccessToken != "at-4" {
		t.Fatalf("third background refresh = %+v, want at-4", ev)
	}
	if tok, _ := s.Token(); tok.AccessToken != "at-4" {
		t.Fatalf("after recovery got %s, want at-4", tok.AccessToken)
	}
	if got := up.calls.Load(); got != 4 {
		t.Fatalf("upstream calls = %d, want 4 (no caller waited on the IdP)", got)
	}
}

func TestRunReplacesAnInvalidatedToken(t *testing.T) {
	clock := fakeclock.New()
	up := &fakeSource{fn: lifetime(clock, time.Hour)}
	events := newEventLog()
	s := New(up, WithClock(clock.Now), WithAfter(clock.After), WithObserver(events.observe))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Run(ctx)

	first := events.next(t).Token
	clock.NextSleep(t)
	s.Invalidate(first) // wakes Run, which replaces it without any caller asking
	if ev := events.next(t); ev.Err != nil || ev.Token.AccessToken != "at-2" {
		t.Fatalf("after Invalidate, Run acquired %+v", ev)
	}
	if tok, ok := s.Peek(); !ok || tok.AccessToken != "at-2" {
		t.Fatalf("Peek = %v, %v; want at-2", tok, ok)
	}
}

func TestRunIdlesOnTokensWithoutExpiry(t *testing.T) {
	clock := fakeclock.New()
	up := &fakeSource{fn: lifetime(clock, 0)}
	events := newEventLog()
	s := New(up, WithClock(clock.Now), WithAfter(clock.After), WithObserver(events.observe))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()

	events.next(t)
	for range 3 {
		if d := clock.NextSleep(t); d != maxSleep {
			t.Fatalf("Run sleeps %v, want the idle %v", d, maxSleep)
		}
		clock.Advance(maxSleep)
	}
	if got := up.calls.Load(); got != 1 {
		t.Fatalf("upstream calls = %d, want 1 (nothing to refresh ahead)", got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestBackoff(t *testing.T) {
	s := New(&fakeSource{}, WithBackoff(time.Second, 10*time.Second), WithJitter(func() float64 { return 0 }))
	want := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}
	for i, w := range want {
		if got := s.backoff(i + 1); got != w {
			t.Errorf("backoff(%d) = %v, want %v", i+1, got, w)
		}
	}
}
