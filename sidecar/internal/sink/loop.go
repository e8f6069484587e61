package sink

import (
	"context"
	"time"

	"golang.org/x/oauth2"
)

// Source is what the loop needs from a token provider.
type Source interface {
	// Peek returns the cached token without I/O, and whether it is fresh.
	Peek() (*oauth2.Token, bool)
	// TokenContext returns a fresh token, acquiring one if needed.
	TokenContext(ctx context.Context) (*oauth2.Token, error)
}

// DefaultInterval is how often Loop looks for a new token.
const DefaultInterval = time.Second

// Loop keeps a File in step with a Source: whenever the source holds a
// token different from the one last written, the file is rewritten. The
// provider's own refresher (provider.Run) replaces the token ahead of its
// expiry, so the file is rewritten ahead of expiry too; when the cached
// token is no longer fresh the loop asks the source for a new one itself.
type Loop struct {
	// Source provides tokens. Required.
	Source Source
	// File is where they go. Required.
	File File
	// Interval between checks; 0 means DefaultInterval. A check without a
	// new token costs no I/O.
	Interval time.Duration
	// OnWrite, when set, is called after each attempted write.
	OnWrite func(err error)
}

// Run writes tokens until ctx is done, then returns nil. Failures (no
// token yet, a write error) are reported to OnWrite or retried at the
// next check; they do not stop the loop.
func (l *Loop) Run(ctx context.Context) error {
	interval := l.Interval
	if interval <= 0 {
		interval = DefaultInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	var written string
	for {
		tok, ok := l.Source.Peek()
		if !ok {
			var err error
			if tok, err = l.Source.TokenContext(ctx); err != nil {
				tok = nil // retried at the next check
			}
		}
		if tok != nil && tok.AccessToken != written {
			err := l.File.Write([]byte(tok.AccessToken))
			if err == nil {
				written = tok.AccessToken
			}
			if l.OnWrite != nil {
				l.OnWrite(err)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
