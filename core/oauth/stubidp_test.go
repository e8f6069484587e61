package oauth

import (
	"context"
	"sync"
	"time"

	"github.com/fedtoken/fedtoken/core/internal/stubidp"
)

// sleepRecorder is an injectable RetryPolicy.Sleep that never sleeps.
type sleepRecorder struct {
	mu     sync.Mutex
	waits  []time.Duration
	onCall func()
}

func (r *sleepRecorder) sleep(ctx context.Context, d time.Duration) error {
	r.mu.Lock()
	r.waits = append(r.waits, d)
	f := r.onCall
	r.mu.Unlock()
	if f != nil {
		f()
	}
	return ctx.Err()
}

func (r *sleepRecorder) recorded() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Duration(nil), r.waits...)
}

var testNow = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// testClient returns a Client with a fixed clock and a recording sleeper.
func testClient(s *stubidp.Server) (*Client, *sleepRecorder) {
	rec := &sleepRecorder{}
	return &Client{
		HTTPClient: s.Client(),
		Retry:      RetryPolicy{Sleep: rec.sleep},
		Now:        func() time.Time { return testNow },
	}, rec
}

const okBody = `{"access_token":"at-1","token_type":"bearer","expires_in":300}`
