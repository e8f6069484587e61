// Package fakeclock is the clock core's unit tests drive by hand: Now and
// After for a cache.Source's refresh loop, Wait for the login flows'
// polling.
package fakeclock

import (
	"context"
	"sync"
	"testing"
	"time"
)

// Start is where every Clock starts.
var Start = time.Date(2026, 11, 26, 16, 0, 0, 0, time.UTC)

// Clock moves only when told to (Advance) or when a flow waits (Wait).
type Clock struct {
	mu     sync.Mutex
	now    time.Time
	timers []timer
	waits  []time.Duration
	// sleeps receives the duration of every After call, so a test knows
	// that a loop is waiting and for how long.
	sleeps chan time.Duration
}

type timer struct {
	at time.Time
	ch chan time.Time
}

// New returns a Clock at Start.
func New() *Clock {
	return &Clock{now: Start, sleeps: make(chan time.Duration, 1000)}
}

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// After is time.After on this clock: the channel fires when Advance
// reaches d from now (at once for d <= 0).
func (c *Clock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	c.mu.Lock()
	if d <= 0 {
		ch <- c.now
	} else {
		c.timers = append(c.timers, timer{at: c.now.Add(d), ch: ch})
	}
	c.mu.Unlock()
	select {
	case c.sleeps <- d:
	default:
	}
	return ch
}

// Advance moves the clock on and fires the timers that are due.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.advance(d)
}

func (c *Clock) advance(d time.Duration) {
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

// NextSleep waits until something calls After and returns for how long it
// waits, failing the test after 10 s.
func (c *Clock) NextSleep(t testing.TB) time.Duration {
	t.Helper()
	select {
	case d := <-c.sleeps:
		return d
	case <-time.After(10 * time.Second):
		t.Fatal("nothing started waiting within 10s")
		return 0
	}
}

// Wait records d and moves the clock on by d at once (a flow's polling
// wait); it fails only when ctx is done.
func (c *Clock) Wait(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waits = append(c.waits, d)
	c.advance(d)
	return nil
}

// Waits returns the durations passed to Wait.
func (c *Clock) Waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.waits...)
}
