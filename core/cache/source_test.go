package cache

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/fedtoken/fedtoken/core/internal/fakeclock"
	"github.com/fedtoken/fedtoken/core/oauth"
)

func TestCachedReadReturnsSamePointer(t *testing.T) {
	clock := fakeclock.New()
	up := &fakeSource{fn: lifetime(clock, time.Hour)}
	s := New(up, WithClock(clock.Now))

	first, err := s.Token()
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		tok, err := s.TokenContext(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if tok != first {
			t.Fatalf("cached read returned %p (%s), want the same pointer %p", tok, tok.AccessToken, first)
		}
	}
	if got := up.calls.Load(); got != 1 {
		t.Fatalf("upstream calls = %d, want 1", got)
	}
}

func TestCachedReadDoesNotAllocate(t *testing.T) {
	up := &fakeSource{fn: func(context.Context, int64) (*oauth2.Token, error) {
		return &oauth2.Token{AccessToken: "at", Expiry: time.Now().Add(time.Hour)}, nil
	}}
	s := New(up) // the real clock: what production runs
	ctx := context.Background()
	if _, err := s.TokenContext(ctx); err != nil {
		t.Fatal(err)
	}
	var sink *oauth2.Token
	if n := testing.AllocsPerRun(1000, func() { sink, _ = s.TokenContext(ctx) }); n != 0 {
		t.Errorf("TokenContext on a valid token: %v allocations per call, want 0", n)
	}
	if n := testing.AllocsPerRun(1000, func() { sink, _ = s.Peek() }); n != 0 {
		t.Errorf("Peek: %v allocations per call, want 0", n)
	}
	if sink == nil || up.calls.Load() != 1 {
		t.Fatalf("token %v after %d upstream calls, want a token after 1", sink, up.calls.Load())
	}
}

func TestSkew(t *testing.T) {
	tests := []struct {
		name    string
		opts    []Option
		life    time.Duration
		elapsed time.Duration // after the first acquisition
		calls   int64         // upstream calls after the second read
	}{
		{"default skew, 31s left", nil, time.Hour, time.Hour - 31*time.Second, 1},
		{"default skew, exactly 30s left", nil, time.Hour, time.Hour - 30*time.Second, 2},
		{"default skew, 29s left", nil, time.Hour, time.Hour - 29*time.Second, 2},
		{"skew 5s, 6s left", []Option{WithSkew(5 * time.Second)}, time.Hour, time.Hour - 6*time.Second, 1},
		{"skew 5s, 4s left", []Option{WithSkew(5 * time.Second)}, time.Hour, time.Hour - 4*time.Second, 2},
		{"skew 0, 1ns left", []Option{WithSkew(0)}, time.Hour, time.Hour - 1, 1},
		{"skew 0, expired", []Option{WithSkew(0)}, time.Hour, time.Hour, 2},
		{"20s token uses 5s skew, 6s left", nil, 20 * time.Second, 14 * time.Second, 1},
		{"20s token uses 5s skew, 5s left", nil, 20 * time.Second, 15 * time.Second, 2},
		{"100s token uses 25s skew, 26s left", nil, 100 * time.Second, 74 * time.Second, 1},
		{"100s token uses 25s skew, 25s left", nil, 100 * time.Second, 75 * time.Second, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := fakeclock.New()
			up := &fakeSource{fn: lifetime(clock, tt.life)}
			s := New(up, append([]Option{WithClock(clock.Now)}, tt.opts...)...)
			if _, err := s.Token(); err != nil {
				t.Fatal(err)
			}
			clock.Advance(tt.elapsed)
			if _, err := s.Token(); err != nil {
				t.Fatal(err)
			}
			if got := up.calls.Load(); got != tt.calls {
				t.Fatalf("upstream calls = %d, want %d", got, tt.calls)
			}
		})
	}
}

func TestTokenWithoutExpiry(t *testing.T) {
	t.Run("re-acquired on every call, at most once a second", func(t *testing.T) {
		clock := fakeclock.New()
		up := &fakeSource{fn: lifetime(clock, 0)}
		s := New(up, WithClock(clock.Now))
		for range 100 {
			s.Token()
		}
		if got := up.calls.Load(); got != 1 {
			t.Fatalf("upstream calls for 100 calls within a second = %d, want 1", got)
		}
		for i := 2; i <= 4; i++ {
			clock.Advance(time.Second)
			tok, err := s.Token()
			if err != nil {
				t.Fatal(err)
			}
			if want := fmt.Sprintf("at-%d", i); tok.AccessToken != want {
				t.Fatalf("call %d: got %s, want %s", i, tok.AccessToken, want)
			}
		}
		clock.Advance(time.Second)
		if tok, ok := s.Peek(); ok || tok == nil {
			t.Fatalf("Peek = %v, %v; want the last token, not valid", tok, ok)
		}
	})
	t.Run("WithUnknownExpiry serves it for that long", func(t *testing.T) {
		clock := fakeclock.New()
		up := &fakeSource{fn: lifetime(clock, 0)}
		s := New(up, WithClock(clock.Now), WithUnknownExpiry(10*time.Minute))
		s.Token()
		clock.Advance(10*time.Minute - 31*time.Second)
		s.Token()
		if got := up.calls.Load(); got != 1 {
			t.Fatalf("upstream calls = %d, want 1", got)
		}
		clock.Advance(time.Second)
		s.Token()
		if got := up.calls.Load(); got != 2 {
			t.Fatalf("upstream calls after the lifetime = %d, want 2", got)
		}
	})
}

// TestSingleFlightAcrossExpiry: 1000 callers find the token stale at once;
// exactly one upstream acquisition serves them all.
func TestSingleFlightAcrossExpiry(t *testing.T) {
	const callers = 1000
	clock := fakeclock.New()
	gate := make(chan struct{})
	mint := lifetime(clock, time.Hour)
	up := &fakeSource{fn: func(ctx context.Context, n int64) (*oauth2.Token, error) {
		if n > 1 {
			<-gate // hold the acquisition until every caller waits on it
		}
		return mint(ctx, n)
	}}
	s := New(up, WithClock(clock.Now))
	first, err := s.Token()
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Hour - 10*time.Second) // inside the skew: stale

	toks := make([]*oauth2.Token, callers)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() { toks[i], errs[i] = s.TokenContext(context.Background()) })
	}
	waitFor(t, "all callers to wait on one acquisition", func() bool { return s.waiters() == callers })
	close(gate)
	wg.Wait()

	if got := up.calls.Load(); got != 2 {
		t.Fatalf("upstream calls = %d, want 2 (initial + one for %d callers)", got, callers)
	}
	for i := range callers {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		if toks[i] != toks[0] || toks[i] == first {
			t.Fatalf("caller %d got %s, want the one new token %s", i, toks[i].AccessToken, toks[0].AccessToken)
		}
	}
}

// TestReadsDoNotWaitForAcquisition: while a forced refresh is stuck at the
// IdP, readers of the valid token are served at once (no lock shared with
// the acquisition).
func TestReadsDoNotWaitForAcquisition(t *testing.T) {
	clock := fakeclock.New()
	gate := make(chan struct{})
	mint := lifetime(clock, time.Hour)
	up := &fakeSource{fn: func(ctx context.Context, n int64) (*oauth2.Token, error) {
		if n == 2 {
			<-gate
		}
		return mint(ctx, n)
	}}
	s := New(up, WithClock(clock.Now))
	first, _ := s.Token()

	refreshed := make(chan *oauth2.Token)
	go func() {
		tok, _ := s.Refresh(context.Background())
		refreshed <- tok
	}()
	waitFor(t, "the refresh to reach the IdP", func() bool { return up.calls.Load() == 2 })

	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() {
			for range 100 {
				if tok, err := s.TokenContext(context.Background()); tok != first || err != nil {
					t.Errorf("read during refresh = %v, %v; want the current token", tok, err)
					return
				}
			}
		})
	}
	wg.Wait() // would deadlock if reads waited on the stuck refresh
	close(gate)
	if tok := <-refreshed; tok == first || tok.AccessToken != "at-2" {
		t.Fatalf("refresh returned %s, want at-2", tok.AccessToken)
	}
	if tok, _ := s.Token(); tok.AccessToken != "at-2" {
		t.Fatalf("after refresh, read %s, want at-2", tok.AccessToken)
	}
}

func TestWaiterCancellationDoesNotCancelAcquisition(t *testing.T) {
	clock := fakeclock.New()
	gate := make(chan struct{})
	var errAtRelease error
	var hasDeadline bool
	mint := lifetime(clock, time.Hour)
	up := &fakeSource{fn: func(ctx context.Context, n int64) (*oauth2.Token, error) {
		<-gate // released after caller A gave up
		errAtRelease = ctx.Err()
		_, hasDeadline = ctx.Deadline()
		return mint(ctx, n)
	}}
	s := New(up, WithClock(clock.Now))

	ctxA, cancelA := context.WithCancel(context.Background())
	errA := make(chan error, 1)
	go func() { _, err := s.TokenContext(ctxA); errA <- err }()
	waitFor(t, "caller A to wait", func() bool { return s.waiters() == 1 })
	tokB := make(chan *oauth2.Token, 1)
	go func() { tok, _ := s.TokenContext(context.Background()); tokB <- tok }()
	waitFor(t, "caller B to join", func() bool { return s.waiters() == 2 })

	cancelA()
	if err := <-errA; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller got %v, want context.Canceled", err)
	}
	close(gate)
	if tok := <-tokB; tok == nil || tok.AccessToken != "at-1" {
		t.Fatalf("other caller got %v, want at-1", tok)
	}
	if errAtRelease != nil {
		t.Fatalf("the shared acquisition's context was ended by a caller: %v", errAtRelease)
	}
	if !hasDeadline {
		t.Fatal("the shared acquisition's context has no deadline (WithAcquireTimeout)")
	}
	if got := up.calls.Load(); got != 1 {
		t.Fatalf("upstream calls = %d, want 1", got)
	}
}

func TestCancelledCallerStartsNothing(t *testing.T) {
	up := &fakeSource{fn: lifetime(fakeclock.New(), time.Hour)}
	s := New(up)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.TokenContext(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if got := up.calls.Load(); got != 0 {
		t.Fatalf("upstream calls = %d, want 0", got)
	}
}

func TestAcquireTimeoutBoundsTheAcquisition(t *testing.T) {
	up := &fakeSource{fn: func(ctx context.Context, _ int64) (*oauth2.Token, error) {
		<-ctx.Done() // an IdP that never answers
		return nil, fmt.Errorf("post: %w", ctx.Err())
	}}
	s := New(up, WithAcquireTimeout(20*time.Millisecond))
	if _, err := s.Token(); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want context.DeadlineExceeded", err)
	}
}

func TestAcquisitionErrors(t *testing.T) {
	clock := fakeclock.New()
	boom := errors.New("idp down")
	mint := lifetime(clock, time.Hour)
	up := &fakeSource{fn: func(ctx context.Context, n int64) (*oauth2.Token, error) {
		switch n {
		case 1:
			return nil, boom
		case 2:
			return &oauth2.Token{}, nil // no access token
		case 3:
			return nil, nil
		}
		return mint(ctx, n)
	}}
	s := New(up, WithClock(clock.Now))
	if _, err := s.Token(); !errors.Is(err, boom) {
		t.Fatalf("call 1: got %v, want the upstream error", err)
	}
	for i := 2; i <= 3; i++ {
		clock.Advance(DefaultMaxBackoff) // past the cool-down of the failure
		if _, err := s.Token(); !errors.Is(err, errEmptyToken) {
			t.Fatalf("call %d: got %v, want %v", i, err, errEmptyToken)
		}
	}
	clock.Advance(DefaultMaxBackoff)
	if tok, err := s.Token(); err != nil || tok.AccessToken != "at-4" {
		t.Fatalf("call 4: got %v, %v; want at-4 (errors are not cached beyond the cool-down)", tok, err)
	}
}

func TestRenew(t *testing.T) {
	invalidGrant := &oauth.Error{Code: "invalid_grant", StatusCode: 400}
	other := &oauth.Error{Code: "server_error", StatusCode: 503}
	tests := []struct {
		name         string
		refreshToken string // in the first token
		renewErr     error
		wantErr      error
		wantToken    string
		wantRenewals int64
		wantCalls    int64 // TokenContext calls, the first included
	}{
		{"renews with the refresh token", "rt-1", nil, nil, "renewed-1", 1, 1},
		{"no refresh token: fresh acquisition", "", nil, nil, "at-2", 0, 2},
		{"invalid_grant: falls back to TokenContext", "rt-1", invalidGrant, nil, "at-2", 1, 2},
		{"other error: returned, no fallback", "rt-1", other, other, "", 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := fakeclock.New()
			up := &renewingSource{}
			up.fn = func(_ context.Context, n int64) (*oauth2.Token, error) {
				rt := ""
				if n == 1 {
					rt = tt.refreshToken
				}
				return &oauth2.Token{AccessToken: fmt.Sprintf("at-%d", n), RefreshToken: rt, Expiry: clock.Now().Add(time.Hour)}, nil
			}
			var gotPrev *oauth2.Token
			up.renew = func(_ context.Context, prev *oauth2.Token, n int64) (*oauth2.Token, error) {
				gotPrev = prev
				if tt.renewErr != nil {
					return nil, tt.renewErr
				}
				return &oauth2.Token{AccessToken: fmt.Sprintf("renewed-%d", n), RefreshToken: prev.RefreshToken, Expiry: clock.Now().Add(time.Hour)}, nil
			}
			events := newEventLog()
			s := New(up, WithClock(clock.Now), WithObserver(events.observe))
			first, _ := s.Token()
			clock.Advance(time.Hour)

			tok, err := s.Token()
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantToken != "" && (tok == nil || tok.AccessToken != tt.wantToken) {
				t.Fatalf("token = %v, want %s", tok, tt.wantToken)
			}
			if got := up.renewals.Load(); got != tt.wantRenewals {
				t.Fatalf("Renew calls = %d, want %d", got, tt.wantRenewals)
			}
			if got := up.calls.Load(); got != tt.wantCalls {
				t.Fatalf("TokenContext calls = %d, want %d", got, tt.wantCalls)
			}
			if tt.wantRenewals > 0 && gotPrev != first {
				t.Fatalf("Renew got %v, want the previous token", gotPrev)
			}
			if ev := events.all()[1]; ev.Renewed != (tt.wantToken == "renewed-1") {
				t.Fatalf("event.Renewed = %v for token %s", ev.Renewed, tt.wantToken)
			}
		})
	}
}

func TestRejectedRefreshTokenIsNotOfferedAgain(t *testing.T) {
	clock := fakeclock.New()
	up := &renewingSource{}
	up.fn = func(_ context.Context, n int64) (*oauth2.Token, error) {
		// The IdP keeps handing out the same (dead) refresh token.
		return &oauth2.Token{AccessToken: fmt.Sprintf("at-%d", n), RefreshToken: "rt-dead", Expiry: clock.Now().Add(time.Hour)}, nil
	}
	up.renew = func(context.Context, *oauth2.Token, int64) (*oauth2.Token, error) {
		return nil, fmt.Errorf("refresh: %w", &oauth.Error{Code: "invalid_grant"})
	}
	s := New(up, WithClock(clock.Now))
	for range 3 {
		if _, err := s.Token(); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Hour)
	}
	if got := up.renewals.Load(); got != 1 {
		t.Fatalf("Renew calls = %d, want 1 (a rejected refresh token is not retried)", got)
	}
}

func TestInvalidate(t *testing.T) {
	clock := fakeclock.New()
	up := &fakeSource{fn: lifetime(clock, time.Hour)}
	s := New(up, WithClock(clock.Now))

	s.Invalidate(nil) // no token yet: nothing happens
	t1, _ := s.Token()
	s.Invalidate(&oauth2.Token{AccessToken: "someone-else"})
	if tok, _ := s.Token(); tok != t1 {
		t.Fatal("invalidating another token dropped the current one")
	}

	s.Invalidate(t1)
	if tok, ok := s.Peek(); ok || tok != t1 {
		t.Fatalf("Peek after Invalidate = %v, %v; want the old token, not valid", tok, ok)
	}
	t2, _ := s.Token()
	if t2 == t1 || t2.AccessToken != "at-2" {
		t.Fatalf("after Invalidate got %s, want at-2", t2.AccessToken)
	}

	s.Invalidate(t1) // a late 401 for the old token
	if tok, _ := s.Token(); tok != t2 {
		t.Fatal("a late Invalidate of the old token dropped the new one")
	}

	clock.Advance(DefaultInvalidateCoolDown)
	s.Invalidate(&oauth2.Token{AccessToken: t2.AccessToken}) // same token, other pointer
	if tok, _ := s.Token(); tok.AccessToken != "at-3" {
		t.Fatalf("Invalidate by access token: got %s, want at-3", tok.AccessToken)
	}
	if got := up.calls.Load(); got != 3 {
		t.Fatalf("upstream calls = %d, want 3", got)
	}
}

func TestPeek(t *testing.T) {
	clock := fakeclock.New()
	up := &fakeSource{fn: lifetime(clock, time.Hour)}
	s := New(up, WithClock(clock.Now))
	if tok, ok := s.Peek(); tok != nil || ok {
		t.Fatalf("Peek before any acquisition = %v, %v", tok, ok)
	}
	want, _ := s.Token()
	if tok, ok := s.Peek(); tok != want || !ok {
		t.Fatalf("Peek = %v, %v; want the token, valid", tok, ok)
	}
	clock.Advance(time.Hour)
	if tok, ok := s.Peek(); tok != want || ok {
		t.Fatalf("Peek after expiry = %v, %v; want the token, not valid", tok, ok)
	}
	if got := up.calls.Load(); got != 1 {
		t.Fatalf("Peek made upstream calls: %d, want 1", got)
	}
}

func TestRefreshForcesANewToken(t *testing.T) {
	clock := fakeclock.New()
	up := &fakeSource{fn: lifetime(clock, time.Hour)}
	events := newEventLog()
	s := New(up, WithClock(clock.Now), WithObserver(events.observe))
	s.Token()
	tok, err := s.Refresh(context.Background())
	if err != nil || tok.AccessToken != "at-2" {
		t.Fatalf("Refresh = %v, %v; want at-2", tok, err)
	}
	if cur, _ := s.Token(); cur != tok {
		t.Fatal("Refresh did not replace the cached token")
	}
	if ev := events.all()[1]; !ev.Forced || ev.Background {
		t.Fatalf("Refresh event = %+v, want Forced", ev)
	}
}

func TestObserver(t *testing.T) {
	clock := fakeclock.New()
	boom := errors.New("boom")
	mint := lifetime(clock, time.Hour)
	up := &fakeSource{fn: func(ctx context.Context, n int64) (*oauth2.Token, error) {
		clock.Advance(250 * time.Millisecond) // the IdP takes a while
		if n == 1 {
			return nil, boom
		}
		return mint(ctx, n)
	}}
	events := newEventLog()
	s := New(up, WithClock(clock.Now), WithObserver(events.observe))
	s.Token()
	clock.Advance(DefaultMaxBackoff) // past the cool-down of the failure
	tok, _ := s.Token()
	s.Token() // cached: no event

	got := events.all()
	if len(got) != 2 {
		t.Fatalf("%d events, want 2 (cached reads report nothing): %+v", len(got), got)
	}
	if !errors.Is(got[0].Err, boom) || got[0].Token != nil || got[0].Duration != 250*time.Millisecond {
		t.Errorf("failure event = %+v", got[0])
	}
	if got[1].Err != nil || got[1].Token != tok || got[1].Background || got[1].FromStore || got[1].Duration != 250*time.Millisecond {
		t.Errorf("success event = %+v", got[1])
	}
}

// TestHammer mixes readers, Invalidate, Refresh and Run on one Source under
// the race detector: every read must yield a token, and acquisitions stay
// bounded by the events that call for them.
func TestHammer(t *testing.T) {
	const (
		readers     = 8
		reads       = 2000
		invalidates = 50
		refreshes   = 50
	)
	up := &fakeSource{fn: func(_ context.Context, n int64) (*oauth2.Token, error) {
		return &oauth2.Token{AccessToken: fmt.Sprintf("at-%d", n), Expiry: time.Now().Add(time.Hour)}, nil
	}}
	s := New(up)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runDone := make(chan error, 1)
	go func() { runDone <- s.Run(ctx) }()

	var wg sync.WaitGroup
	for range readers {
		wg.Go(func() {
			for range reads {
				tok, err := s.TokenContext(ctx)
				if err != nil || tok == nil || tok.AccessToken == "" {
					t.Errorf("read: %v, %v", tok, err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		for range invalidates {
			if tok, ok := s.Peek(); ok {
				s.Invalidate(tok)
			}
			if _, err := s.TokenContext(ctx); err != nil {
				t.Error(err)
			}
		}
	})
	wg.Go(func() {
		for range refreshes {
			if _, err := s.Refresh(ctx); err != nil {
				t.Error(err)
			}
		}
	})
	wg.Wait()
	cancel()
	if err := <-runDone; err != nil {
		t.Fatal(err)
	}
	// One cold start, at most one per Invalidate and per Refresh.
	if n := up.calls.Load(); n < refreshes || n > 1+invalidates+refreshes {
		t.Fatalf("upstream calls = %d, want between %d and %d", n, refreshes, 1+invalidates+refreshes)
	}
}
