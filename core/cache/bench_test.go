package cache

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/fedtoken/fedtoken/core/oauth"
)

// BenchmarkCachedReadParallel: every core reads a valid cached token, as
// the sidecar's proxy does on each request.
func BenchmarkCachedReadParallel(b *testing.B) {
	upstream := oauth.TokenSourceFunc(func(context.Context) (*oauth2.Token, error) {
		return &oauth2.Token{AccessToken: "at", TokenType: "Bearer", Expiry: time.Now().Add(time.Hour)}, nil
	})
	b.Run("cache.Source", func(b *testing.B) {
		s := New(upstream)
		ctx := context.Background()
		if _, err := s.TokenContext(ctx); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := s.TokenContext(ctx); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	// The floor: both caches read the clock once per call.
	b.Run("time.Now", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			var t time.Time
			for pb.Next() {
				t = time.Now()
			}
			_ = t
		})
	})
	b.Run("oauth2.ReuseTokenSource", func(b *testing.B) {
		ts := oauth2.ReuseTokenSource(nil, upstream)
		if _, err := ts.Token(); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := ts.Token(); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkExpiry1000Callers: one op is 1000 goroutines asking for a token
// that has just expired. The IdP stub answers only once all 1000 have
// called, so they all pile up on the one acquisition (the worst case).
// upstream-calls/op must be 1.
func BenchmarkExpiry1000Callers(b *testing.B) {
	const callers = 1000
	var (
		nowNs atomic.Int64 // an atomic clock: a mutex clock would add contention of its own
		allIn atomic.Pointer[chan struct{}]
		calls atomic.Int64
	)
	nowNs.Store(time.Now().UnixNano())
	now := func() time.Time { return time.Unix(0, nowNs.Load()) }
	upstream := oauth.TokenSourceFunc(func(context.Context) (*oauth2.Token, error) {
		calls.Add(1)
		if ch := allIn.Load(); ch != nil {
			<-*ch
		}
		return &oauth2.Token{AccessToken: "at", TokenType: "Bearer", Expiry: now().Add(time.Hour)}, nil
	})
	// run starts 1000 callers of get and waits for them all.
	run := func(b *testing.B, get func() (*oauth2.Token, error)) {
		var started atomic.Int64
		ch := make(chan struct{})
		allIn.Store(&ch)
		var wg sync.WaitGroup
		for range callers {
			wg.Go(func() {
				if started.Add(1) == callers {
					close(ch)
				}
				if tok, err := get(); err != nil || tok == nil {
					b.Error(err)
				}
			})
		}
		wg.Wait()
	}

	b.Run("cache.Source", func(b *testing.B) {
		s := New(upstream, WithClock(now))
		ctx := context.Background()
		get := func() (*oauth2.Token, error) { return s.TokenContext(ctx) }
		allIn.Store(nil)
		s.TokenContext(ctx)
		calls.Store(0)
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			nowNs.Add(int64(time.Hour)) // the token expires
			run(b, get)
		}
		b.ReportMetric(float64(calls.Load())/float64(b.N), "upstream-calls/op")
	})
	b.Run("oauth2.ReuseTokenSource", func(b *testing.B) {
		// ReuseTokenSource reads the real clock: each op starts from a new
		// one holding an expired token.
		expired := &oauth2.Token{AccessToken: "old", Expiry: time.Now().Add(-time.Hour)}
		calls.Store(0)
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			ts := oauth2.ReuseTokenSource(expired, upstream)
			run(b, ts.Token)
		}
		b.ReportMetric(float64(calls.Load())/float64(b.N), "upstream-calls/op")
	})
}

// BenchmarkCallersAcrossExpiry: 1000 callers each ask for the token every
// 10 ms for 3 s while tokens live 1 s and the IdP takes 50 ms to answer,
// so each op crosses about three expiries. It reports the IdP requests per
// op and the callers' latency percentiles:
//
//   - cache.Source: callers only; at each expiry the callers of those 50 ms
//     wait for the one shared acquisition;
//   - cache.Source+Run: the same with Run refreshing ahead of expiry, so no
//     caller ever waits on the IdP;
//   - oauth2.ReuseTokenSource: x/oauth2's cache (no proactive refresh).
//
// Real time, so run it with -benchtime 1x: go test -run '^$' -bench
// CallersAcrossExpiry -benchtime 1x ./cache/
func BenchmarkCallersAcrossExpiry(b *testing.B) {
	const (
		callers  = 1000
		every    = 10 * time.Millisecond
		duration = 3 * time.Second
		life     = time.Second
		idpDelay = 50 * time.Millisecond
	)
	var calls atomic.Int64
	upstream := oauth.TokenSourceFunc(func(ctx context.Context) (*oauth2.Token, error) {
		calls.Add(1)
		t := time.NewTimer(idpDelay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return &oauth2.Token{AccessToken: "at", TokenType: "Bearer", Expiry: time.Now().Add(life)}, nil
	})
	run := func(b *testing.B, get func() (*oauth2.Token, error)) []time.Duration {
		lats := make([][]time.Duration, callers)
		var wg sync.WaitGroup
		end := time.Now().Add(duration)
		for i := range callers {
			wg.Go(func() {
				// Callers start spread over one period, as independent
				// requests would.
				next := time.Now().Add(time.Duration(i) * every / callers)
				lat := make([]time.Duration, 0, int(duration/every)+1)
				for next.Before(end) {
					time.Sleep(time.Until(next)) // pacing the load, not synchronisation
					start := time.Now()
					if tok, err := get(); err != nil || tok == nil {
						b.Error(err)
						return
					}
					lat = append(lat, time.Since(start))
					next = next.Add(every)
				}
				lats[i] = lat
			})
		}
		wg.Wait()
		var all []time.Duration
		for _, l := range lats {
			all = append(all, l...)
		}
		slices.Sort(all)
		return all
	}
	report := func(b *testing.B, lat []time.Duration, n int) {
		b.ReportMetric(float64(calls.Load())/float64(n), "idp-requests/op")
		b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "p50-µs")
		b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99-µs")
	}
	for _, v := range []struct {
		name string
		run  bool
	}{{"cache.Source", false}, {"cache.Source+Run", true}} {
		b.Run(v.name, func(b *testing.B) {
			var lat []time.Duration
			calls.Store(0)
			n := 0
			for b.Loop() {
				s := New(upstream)
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan struct{})
				if v.run {
					go func() { defer close(done); _ = s.Run(ctx) }()
				} else {
					close(done)
				}
				lat = run(b, func() (*oauth2.Token, error) { return s.TokenContext(ctx) })
				cancel()
				<-done
				n++
			}
			report(b, lat, n)
		})
	}
	b.Run("oauth2.ReuseTokenSource", func(b *testing.B) {
		var lat []time.Duration
		calls.Store(0)
		n := 0
		for b.Loop() {
			// Its expiry delta plays the skew's part.
			ts := oauth2.ReuseTokenSourceWithExpiry(nil, upstream, life/4)
			lat = run(b, ts.Token)
			n++
		}
		report(b, lat, n)
	})
}
