package oauth

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Retry defaults, used for the zero fields of a RetryPolicy.
const (
	DefaultMaxAttempts   = 4
	DefaultMinDelay      = 200 * time.Millisecond
	DefaultMaxDelay      = 5 * time.Second
	DefaultMaxRetryAfter = 30 * time.Second
)

// RetryPolicy says how often and how patiently a request is repeated after
// a network error, an HTTP 429 or 5xx, or a server_error /
// temporarily_unavailable response. OAuth client errors are never retried.
// The zero value is the default policy.
type RetryPolicy struct {
	// MaxAttempts counts every attempt, the first included; 0 means
	// DefaultMaxAttempts and 1 disables retries.
	MaxAttempts int
	// MinDelay is the first backoff; it doubles per retry up to MaxDelay.
	// Each wait is jittered to between half and all of its nominal value.
	MinDelay, MaxDelay time.Duration
	// MaxRetryAfter is the longest Retry-After (seconds or an HTTP-date)
	// the client waits within one request; a longer one ends the request
	// with the *Error, whose RetryAfter the token cache honours.
	MaxRetryAfter time.Duration
	// Sleep waits for d or until ctx is done, returning ctx.Err() then.
	// nil means a timer; tests inject a function that records d.
	Sleep func(ctx context.Context, d time.Duration) error
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = DefaultMaxAttempts
	}
	if p.MinDelay <= 0 {
		p.MinDelay = DefaultMinDelay
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = DefaultMaxDelay
	}
	if p.MaxDelay < p.MinDelay {
		p.MaxDelay = p.MinDelay
	}
	if p.MaxRetryAfter <= 0 {
		p.MaxRetryAfter = DefaultMaxRetryAfter
	}
	if p.Sleep == nil {
		p.Sleep = sleepContext
	}
	return p
}

// backoff returns the jittered wait before retry number n (1-based).
func (p RetryPolicy) backoff(n int) time.Duration {
	d := p.MinDelay
	for i := 1; i < n && d < p.MaxDelay; i++ {
		d *= 2
	}
	d = min(d, p.MaxDelay)
	half := d / 2
	return half + rand.N(d-half+1)
}

// wait returns how long to wait before retry number n: the response's
// Retry-After (capped at MaxRetryAfter) when there is one, else backoff.
func (p RetryPolicy) wait(n int, retryAfter time.Duration, hasRetryAfter bool) time.Duration {
	if hasRetryAfter {
		return min(max(retryAfter, 0), p.MaxRetryAfter)
	}
	return p.backoff(n)
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP-date.
func parseRetryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		if secs > int64(24*time.Hour/time.Second) {
			secs = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(secs) * time.Second, true
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(at.Sub(now), 0), true
	}
	return 0, false
}

// sleepContext waits for d or until ctx is done.
func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
