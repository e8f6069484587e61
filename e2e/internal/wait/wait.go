// Package wait polls a condition until it holds or a deadline passes, and
// says what it waited for when it gives up. The harness never sleeps to
// synchronise; every wait goes through Until.
package wait

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// DefaultInterval is the polling interval when Until is given zero.
const DefaultInterval = 250 * time.Millisecond

// Until calls cond every interval until it reports done, returns an error
// (which stops the wait), or timeout passes (or ctx ends). what names the
// condition ("kube-apiserver /readyz on https://127.0.0.1:6443") and appears
// in the timeout error together with the last not-yet-ready reason.
//
// cond returns (true, nil) when done; (false, nil) or (false, ErrNotYet-wrapped)
// to keep waiting; any other error stops the wait at once.
func Until(ctx context.Context, what string, timeout, interval time.Duration, cond func(ctx context.Context) (bool, error)) error {
	if interval <= 0 {
		interval = DefaultInterval
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	var last error
	for {
		done, err := cond(ctx)
		switch {
		case err != nil && !errors.Is(err, ErrNotYet):
			return fmt.Errorf("wait for %s: %w", what, err)
		case err != nil:
			last = err
		case done:
			return nil
		}
		select {
		case <-ctx.Done():
			if last != nil {
				return fmt.Errorf("wait for %s: gave up after %s: last: %w", what, time.Since(start).Round(time.Millisecond), last)
			}
			return fmt.Errorf("wait for %s: gave up after %s: %w", what, time.Since(start).Round(time.Millisecond), ctx.Err())
		case <-ticker.C:
		}
	}
}

// ErrNotYet marks a transient failure: Until keeps polling and reports the
// last one if it times out.
var ErrNotYet = errors.New("not yet")

// NotYet wraps a reason as transient (see ErrNotYet).
func NotYet(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrNotYet, fmt.Sprintf(format, args...))
}
