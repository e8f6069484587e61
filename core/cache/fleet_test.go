package cache

import (
	"container/heap"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// The fleet simulator: n instances of Run (each a long-running sidecar with
// one provider) start at the same instant and keep a token with lifetime L
// fresh against one IdP. It drives the real scheduling code — the start
// delay (Source.startWait), the deadlines of each new token
// (Source.newEntry) and Run's plan (Source.plan) — on simulated time, so
// 10,000 instances × 20 lifetimes take well under a second and the result
// depends only on the seed. The IdP answers at once with a token valid for
// exactly L; nothing fails (failures are the cool-down's business).
//
// It measures the IdP's request rate in bins of max(1 s, L/100): a bin
// that narrow still resolves a burst, yet holds enough requests that
// Poisson noise does not dominate the peak for long lifetimes.
//
//   - startup peak: the most first acquisitions in any one second;
//   - first peak/mean: the busiest bin of the first lifetime, first
//     acquisitions left out (they are the start-up peak), over the
//     steady-state mean;
//   - steady peak/mean: the busiest bin of lifetimes 10–20 over their mean;
//   - requests per pod per lifetime, in steady state.

type fleetResult struct {
	StartupPeak    int     // first acquisitions in the busiest second
	FirstPeakMean  float64 // busiest bin of the first lifetime / steady mean
	SteadyPeakMean float64 // busiest steady-state bin / steady mean
	PerPodLifetime float64 // steady-state IdP requests per pod per lifetime
}

// fleetPlanner says when an instance first asks the IdP and, given the
// token it got at now, when it asks next.
type fleetPlanner struct {
	start func() time.Duration
	next  func(tok *oauth2.Token, now time.Time) time.Time
}

// currentPlanner is the scheduling code of this package.
func currentPlanner(seed uint64, startDelay time.Duration) fleetPlanner {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	s := New(&fakeSource{}, WithJitter(rng.Float64), WithStartDelay(startDelay))
	return fleetPlanner{
		start: s.startWait,
		next: func(tok *oauth2.Token, now time.Time) time.Time {
			due, _, idle := s.plan(s.newEntry(tok, now, true), now)
			if idle {
				panic("fleet: token without expiry")
			}
			return due
		},
	}
}

// legacyPlanner is the scheduling before fleet jitter (kept only to print
// the "before" column): lead = max(0.25·L, skew + 30 s) × U[0.8, 1.2],
// refresh at expiry − lead but never before half the usable life, skew
// clamped to L/2, no start delay.
func legacyPlanner(seed uint64) fleetPlanner {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	return fleetPlanner{
		start: func() time.Duration { return 0 },
		next: func(tok *oauth2.Token, now time.Time) time.Time {
			life := tok.Expiry.Sub(now)
			skew := min(DefaultSkew, life/2)
			stale := life - skew
			lead := max(time.Duration(0.25*float64(life)), skew+refreshMargin)
			lead = time.Duration(float64(lead) * (0.8 + 0.4*rng.Float64()))
			return now.Add(max(life-lead, stale/2))
		},
	}
}

type fleetEvent struct {
	at       time.Duration
	instance int
	first    bool
}

type fleetQueue []fleetEvent

func (q fleetQueue) Len() int           { return len(q) }
func (q fleetQueue) Less(i, j int) bool { return q[i].at < q[j].at }
func (q fleetQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *fleetQueue) Push(x any)        { *q = append(*q, x.(fleetEvent)) }
func (q *fleetQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

// simulateFleet runs n instances for 20 lifetimes.
func simulateFleet(n int, life time.Duration, p fleetPlanner) fleetResult {
	const lifetimes, steadyFrom = 20, 10
	epoch := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	bin := max(time.Second, life/100)
	horizon := lifetimes * life
	bins := make([]int, horizon/bin+1) // every request but the first of each instance
	startup := map[time.Duration]int{} // first acquisitions per second
	q := make(fleetQueue, 0, n)
	for i := range n {
		q = append(q, fleetEvent{at: p.start(), instance: i, first: true})
	}
	heap.Init(&q)
	tok := &oauth2.Token{AccessToken: "at"}
	for q.Len() > 0 {
		ev := heap.Pop(&q).(fleetEvent)
		if ev.at >= horizon {
			continue
		}
		if ev.first {
			startup[ev.at/time.Second]++
		} else {
			bins[ev.at/bin]++
		}
		now := epoch.Add(ev.at)
		tok.Expiry = now.Add(life)
		next := p.next(tok, now).Sub(epoch)
		if next <= ev.at {
			panic(fmt.Sprintf("fleet: instance %d would refresh again at once (%v)", ev.instance, ev.at))
		}
		heap.Push(&q, fleetEvent{at: next, instance: ev.instance})
	}
	var r fleetResult
	for _, c := range startup {
		r.StartupPeak = max(r.StartupPeak, c)
	}
	lo, hi := int(steadyFrom*life/bin), int(lifetimes*life/bin)
	total, peak := 0, 0
	for _, c := range bins[lo:hi] {
		total += c
		peak = max(peak, c)
	}
	mean := float64(total) / float64(hi-lo)
	r.SteadyPeakMean = float64(peak) / mean
	r.PerPodLifetime = float64(total) / float64(n) / (lifetimes - steadyFrom)
	first := 0
	for _, c := range bins[:int(life/bin)] {
		first = max(first, c)
	}
	r.FirstPeakMean = float64(first) / mean
	return r
}

// fleetLifetimes are the access-token lifetimes of the fleet table.
var fleetLifetimes = []time.Duration{30 * time.Second, time.Minute, 5 * time.Minute, time.Hour}

// fleetStartDelay is the start delay of the "after" rows: what the
// Deployment manifests in deploy/ set (--start-delay).
const fleetStartDelay = 10 * time.Second

// TestFleetNoLockstep holds the scheduling to the fleet goals, with 10,000
// instances started at the same instant: in steady state the IdP's busiest
// bin is at most twice its mean, in the first lifetime at most three
// times, and each instance makes at most two IdP requests per token
// lifetime. Deterministic (seeded); it asserts no timing.
func TestFleetNoLockstep(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates 10,000 instances")
	}
	type config struct {
		life, delay time.Duration
	}
	// Every lifetime with the Deployments' start delay; without one, the
	// lifetime where the old clamp put everyone on the same instant.
	configs := []config{{time.Minute, 0}}
	for _, life := range fleetLifetimes {
		configs = append(configs, config{life, fleetStartDelay})
	}
	for _, c := range configs {
		life, delay := c.life, c.delay
		t.Run(fmt.Sprintf("%v/delay=%v", life, delay), func(t *testing.T) {
			t.Parallel()
			r := simulateFleet(10000, life, currentPlanner(1, delay))
			t.Logf("lifetime %v, start delay %v: %+v", life, delay, r)
			if r.SteadyPeakMean > 2 {
				t.Errorf("lifetime %v, start delay %v: steady-state peak/mean %.2f, want <= 2", life, delay, r.SteadyPeakMean)
			}
			if r.FirstPeakMean > 3 {
				t.Errorf("lifetime %v, start delay %v: first-lifetime peak/mean %.2f, want <= 3", life, delay, r.FirstPeakMean)
			}
			if r.PerPodLifetime > 2 {
				t.Errorf("lifetime %v, start delay %v: %.2f IdP requests per pod per lifetime, want <= 2", life, delay, r.PerPodLifetime)
			}
			if delay > 0 && r.StartupPeak > 10000*int(time.Second)/int(delay)*3/2 {
				t.Errorf("lifetime %v: %d first acquisitions in one second with a %v start delay", life, r.StartupPeak, delay)
			}
		})
	}
}

// BenchmarkFleet prints the fleet table's figures (docs/benchmarks.md):
// before = the scheduling before fleet jitter, after = this package, with
// and without a start delay. The time per op is meaningless; read the
// custom metrics.
func BenchmarkFleet(b *testing.B) {
	const n = 10000
	for _, life := range fleetLifetimes {
		for _, v := range []struct {
			name string
			p    func() fleetPlanner
		}{
			{"before", func() fleetPlanner { return legacyPlanner(1) }},
			{"after", func() fleetPlanner { return currentPlanner(1, 0) }},
			{"after-start-delay-10s", func() fleetPlanner { return currentPlanner(1, fleetStartDelay) }},
		} {
			b.Run(fmt.Sprintf("life=%v/%s", life, v.name), func(b *testing.B) {
				var r fleetResult
				for b.Loop() {
					r = simulateFleet(n, life, v.p())
				}
				b.ReportMetric(float64(r.StartupPeak), "startup-peak-req/s")
				b.ReportMetric(r.FirstPeakMean, "first-peak/mean")
				b.ReportMetric(r.SteadyPeakMean, "steady-peak/mean")
				b.ReportMetric(r.PerPodLifetime, "req/pod/lifetime")
			})
		}
	}
}
