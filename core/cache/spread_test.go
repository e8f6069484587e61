package cache

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/fedtoken/fedtoken/core/internal/fakeclock"
)

// TestRefreshWindowBounds checks the refresh window of fresh tokens over a
// grid of lifetimes, skews and refresh-ahead shares, at both ends of the
// jitter: never in the first half of the usable life, always before the
// token goes stale, spread over at least 30 % of the refresh interval
// (never a single point, whatever clamp applies), and with the default
// share at most two IdP requests per lifetime on average.
func TestRefreshWindowBounds(t *testing.T) {
	now := time.Date(2026, 11, 26, 16, 0, 0, 0, time.UTC)
	lifetimes := []time.Duration{2 * time.Second, 20 * time.Second, 30 * time.Second, time.Minute, 90 * time.Second,
		2 * time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour, 12 * time.Hour}
	skews := []time.Duration{0, 5 * time.Second, DefaultSkew, 5 * time.Minute}
	aheads := []float64{0, DefaultRefreshAhead, 0.5, 0.9}
	for _, life := range lifetimes {
		for _, skew := range skews {
			for _, ahead := range aheads {
				name := fmt.Sprintf("life %v skew %v ahead %v", life, skew, ahead)
				at := func(j float64) (refresh, stale time.Duration) {
					s := New(&fakeSource{}, WithSkew(skew), WithRefreshAhead(ahead), WithJitter(func() float64 { return j }))
					e := s.newEntry(&oauth2.Token{AccessToken: "at", Expiry: now.Add(life)}, now, true)
					return e.refreshAt.Sub(now), e.staleAt.Sub(now)
				}
				first, stale := at(0)
				last, _ := at(1 - 1e-12)
				switch {
				case stale < 3*life/4:
					t.Errorf("%s: served for %v, want at least 3/4 of the lifetime", name, stale)
				case first < stale/2:
					t.Errorf("%s: earliest refresh %v is in the first half of the usable %v", name, first, stale)
				case last >= stale:
					t.Errorf("%s: latest refresh %v is not before staleness at %v", name, last, stale)
				case float64(last-first) < 0.3*float64(last):
					t.Errorf("%s: refresh window %v–%v is narrower than 30 %% of the interval", name, first, last)
				case ahead <= DefaultRefreshAhead && (first+last)/2 < life/2:
					t.Errorf("%s: mean refresh interval %v is under half the lifetime (more than 2 IdP requests per lifetime)", name, (first+last)/2)
				}
			}
		}
	}
}

// TestRefreshPointsSpread: tokens obtained at the same moment by many
// instances are replaced at points spread evenly over the window, for a
// token lifetime where the old formula's clamp put every instance on the
// same instant (60 s). Deterministic: the jitter is a seeded generator.
func TestRefreshPointsSpread(t *testing.T) {
	now := time.Date(2026, 11, 26, 16, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(1, 2))
	s := New(&fakeSource{}, WithJitter(rng.Float64))
	tok := &oauth2.Token{AccessToken: "at", Expiry: now.Add(time.Minute)}
	const n, bins = 10000, 10
	counts := make([]int, bins)
	lo, hi := 26325*time.Millisecond, 40500*time.Millisecond // see TestEntryDeadlines
	for range n {
		d := s.newEntry(tok, now, true).refreshAt.Sub(now)
		if d < lo-time.Microsecond || d > hi+time.Microsecond {
			t.Fatalf("refresh at %v, outside %v–%v", d, lo, hi)
		}
		i := min(int(float64(d-lo)/float64(hi-lo)*bins), bins-1)
		counts[i]++
	}
	for i, c := range counts {
		// Uniform: 1000 a bin; ±20 % is over 6 standard deviations.
		if c < 800 || c > 1200 {
			t.Errorf("bin %d of the refresh window holds %d of %d refreshes, want about %d: %v", i, c, n, n/bins, counts)
		}
	}
}

func TestRunStartDelay(t *testing.T) {
	t.Run("no delay by default", func(t *testing.T) {
		clock := fakeclock.New()
		up := &fakeSource{fn: lifetime(clock, time.Hour)}
		events := newEventLog()
		s := New(up, WithClock(clock.Now), WithAfter(clock.After), WithJitter(half), WithObserver(events.observe))
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go s.Run(ctx)
		// The first acquisition happens without the clock moving.
		if ev := events.next(t); ev.Err != nil || ev.Background {
			t.Fatalf("first acquisition = %+v", ev)
		}
	})
	t.Run("bounded random delay before the first acquisition", func(t *testing.T) {
		for _, j := range []float64{0.25, 0.999} {
			clock := fakeclock.New()
			up := &fakeSource{fn: lifetime(clock, time.Hour)}
			events := newEventLog()
			s := New(up, WithClock(clock.Now), WithAfter(clock.After), WithJitter(func() float64 { return j }),
				WithObserver(events.observe), WithStartDelay(10*time.Second))
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- s.Run(ctx) }()
			want := time.Duration(j * float64(10*time.Second))
			if d := clock.NextSleep(t); d != want || d >= 10*time.Second {
				t.Fatalf("jitter %v: Run waits %v before the first token, want %v (under the 10s bound)", j, d, want)
			}
			clock.Advance(want - time.Millisecond)
			if got := up.calls.Load(); got != 0 {
				t.Fatalf("jitter %v: %d IdP requests before the delay ended", j, got)
			}
			clock.Advance(time.Millisecond)
			if ev := events.next(t); ev.Err != nil || ev.Token == nil {
				t.Fatalf("jitter %v: first acquisition = %+v", j, ev)
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		}
	})
	t.Run("a caller that needs a token does not wait for the delay", func(t *testing.T) {
		clock := fakeclock.New()
		up := &fakeSource{fn: lifetime(clock, 300*time.Second)}
		s := New(up, WithClock(clock.Now), WithAfter(clock.After), WithJitter(half), WithStartDelay(time.Minute))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- s.Run(ctx) }()
		if d := clock.NextSleep(t); d != 30*time.Second {
			t.Fatalf("Run waits %v, want 30s", d)
		}
		if tok, err := s.Token(); err != nil || tok.AccessToken != "at-1" {
			t.Fatalf("caller during the start delay got %v, %v", tok, err)
		}
		// Run ends its delay (the token is there) and plans the refresh.
		if d := clock.NextSleep(t); d != 198*time.Second {
			t.Fatalf("after the caller's acquisition Run sleeps %v, want 198s (the refresh point)", d)
		}
		if got := up.calls.Load(); got != 1 {
			t.Fatalf("IdP requests = %d, want 1", got)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}
