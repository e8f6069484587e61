package cache

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/fedtoken/fedtoken/core/internal/fakeclock"
	"github.com/fedtoken/fedtoken/core/oauth"
)

// TestCoolDownIsSharedByEveryCaller is W2: during an IdP outage, callers
// that need a token (proxy requests, the token endpoint, the file sink)
// share one backoff: however often they ask, the IdP sees one acquisition
// per backoff step.
func TestCoolDownIsSharedByEveryCaller(t *testing.T) {
	clock := fakeclock.New()
	boom := errors.New("idp down")
	up := &fakeSource{fn: func(context.Context, int64) (*oauth2.Token, error) { return nil, boom }}
	s := New(up, WithClock(clock.Now), WithJitter(half), WithBackoff(2*time.Second, 8*time.Second))
	for i := range 1000 {
		if _, err := s.Token(); !errors.Is(err, boom) {
			t.Fatalf("call %d: got %v, want the last IdP error", i, err)
		}
	}
	if got := up.calls.Load(); got != 1 {
		t.Fatalf("IdP acquisitions for 1000 calls in one instant = %d, want 1", got)
	}
	clock.Advance(1500 * time.Millisecond) // the jittered first backoff
	s.Token()
	if got := up.calls.Load(); got != 2 {
		t.Fatalf("IdP acquisitions after the first backoff = %d, want 2", got)
	}
	clock.Advance(2 * time.Second) // second backoff is 3 s: still cooling down
	s.Token()
	if got := up.calls.Load(); got != 2 {
		t.Fatalf("IdP acquisitions inside the second backoff = %d, want 2", got)
	}
}

// TestInvalidateHasACoolDown is W3: an upstream that rejects every token
// must not turn each proxied request into an IdP request.
func TestInvalidateHasACoolDown(t *testing.T) {
	clock := fakeclock.New()
	up := &fakeSource{fn: lifetime(clock, time.Hour)}
	s := New(up, WithClock(clock.Now))
	tok, _ := s.Token()
	for range 1000 {
		s.Invalidate(tok)
		tok, _ = s.Token()
	}
	if got := up.calls.Load(); got > 2 {
		t.Fatalf("IdP acquisitions for 1000 rejections in one instant = %d, want at most 2", got)
	}
	clock.Advance(DefaultInvalidateCoolDown)
	s.Invalidate(tok)
	if next, _ := s.Token(); next == tok {
		t.Fatal("after the cool-down an Invalidate did not replace the token")
	}
}

// TestValidTokenServedThroughTheSkewWhileIdPFails: inside the skew the
// token is still valid; if the IdP fails it is served rather than an error
// (docs/sidecar.md promises it, and /readyz says ok).
func TestValidTokenServedThroughTheSkewWhileIdPFails(t *testing.T) {
	clock := fakeclock.New()
	mint := lifetime(clock, time.Hour)
	boom := errors.New("idp down")
	up := &fakeSource{fn: func(ctx context.Context, n int64) (*oauth2.Token, error) {
		if n == 1 {
			return mint(ctx, n)
		}
		return nil, boom
	}}
	s := New(up, WithClock(clock.Now))
	first, _ := s.Token()
	clock.Advance(time.Hour - 10*time.Second) // stale (30 s skew) but not expired
	tok, err := s.Token()
	if err != nil || tok != first {
		t.Fatalf("inside the skew with the IdP down: %v, %v; want the still-valid token", tok, err)
	}
	clock.Advance(11 * time.Second) // expired now
	if _, err := s.Token(); err == nil {
		t.Fatal("an expired token was served")
	}
}

// TestStuckAcquisitionIsAbandoned is W4: a source that ignores its context
// (a blocking read) must not wedge the Source for good.
func TestStuckAcquisitionIsAbandoned(t *testing.T) {
	clock := fakeclock.New()
	release := make(chan struct{})
	defer close(release)
	mint := lifetime(clock, time.Hour)
	up := &fakeSource{fn: func(ctx context.Context, n int64) (*oauth2.Token, error) {
		if n == 1 {
			<-release // ignores ctx
			return nil, errors.New("released")
		}
		return mint(ctx, n)
	}}
	s := New(up, WithClock(clock.Now), WithAcquireTimeout(50*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := s.TokenContext(ctx); err == nil || ctx.Err() != nil {
		t.Fatalf("stuck acquisition: got %v (ctx %v); want an error well before the caller's deadline", err, ctx.Err())
	}
	clock.Advance(time.Minute) // past the cool-down
	ctx2, cancel2 := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel2()
	tok, err := s.TokenContext(ctx2)
	if err != nil || tok.AccessToken != "at-2" {
		t.Fatalf("after abandoning the stuck acquisition: %v, %v; want at-2", tok, err)
	}
}

// TestRetryAfterSetsTheCoolDown: an IdP that says "Retry-After: 3600" is
// not asked again before then, by any caller.
func TestRetryAfterSetsTheCoolDown(t *testing.T) {
	clock := fakeclock.New()
	busy := &oauth.Error{Code: "temporarily_unavailable", StatusCode: 503, RetryAfter: time.Hour}
	up := &fakeSource{fn: func(context.Context, int64) (*oauth2.Token, error) {
		return nil, fmt.Errorf("post: %w", busy)
	}}
	s := New(up, WithClock(clock.Now), WithJitter(half))
	s.Token()
	clock.Advance(59 * time.Minute)
	s.Token()
	if got := up.calls.Load(); got != 1 {
		t.Fatalf("IdP acquisitions within the Retry-After hour = %d, want 1", got)
	}
	clock.Advance(time.Minute)
	s.Token()
	if got := up.calls.Load(); got != 2 {
		t.Fatalf("IdP acquisitions after the Retry-After hour = %d, want 2", got)
	}
}
