package cache

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/oauth2"

	"github.com/fedtoken/fedtoken/core/oauth"
)

// errEmptyToken is returned when the wrapped source returns no access token.
var errEmptyToken = errors.New("cache: token source returned no access token")

// acquire runs one shared acquisition, publishes its result and releases
// the waiters of f. cur is the entry it replaces (nil on a cold start).
//
// An acquisition that overruns ctx by abandonGrace (something in it ignores
// its context) is abandoned: its waiters get an error, the next
// acquisition may start, and whatever it returns later is dropped.
func (s *Source) acquire(ctx context.Context, f *flight, cur *entry, m mode) {
	start := s.now()
	type result struct {
		tok *oauth2.Token
		e   *entry
		err error
		ev  Event
	}
	done := make(chan result, 1)
	go func() {
		ev := Event{Background: m == modeAhead, Forced: m == modeForce}
		tok, e, err := s.obtain(ctx, cur, m, &ev)
		done <- result{tok, e, err, ev}
	}()
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		t := time.NewTimer(abandonGrace)
		select {
		case r = <-done:
		case <-t.C:
			r = result{ev: Event{Background: m == modeAhead, Forced: m == modeForce},
				err: fmt.Errorf("cache: acquisition abandoned, still running %s after its deadline (%w): "+
					"something it waits on ignores cancellation (a subject file that blocks, a hung file system or command)", abandonGrace, ctx.Err())}
		}
		t.Stop()
	}
	ev := r.ev
	ev.Duration = s.now().Sub(start)
	ev.Token, ev.Err = r.tok, r.err
	if r.e != nil {
		s.cur.Store(r.e)
		s.notify()
	}
	s.mu.Lock()
	s.settle(r.err)
	s.mu.Unlock()
	if s.observe != nil {
		s.observe(ev)
	}
	s.mu.Lock()
	f.tok, f.err = r.tok, r.err
	s.inflight = nil
	s.mu.Unlock()
	close(f.done)
}

// obtain gets a token from the store (if another process has just written
// a good one) or from the IdP, and saves a new one to the store. With a
// Locker, all of it happens under the cross-process lock.
func (s *Source) obtain(ctx context.Context, cur *entry, m mode, ev *Event) (*oauth2.Token, *entry, error) {
	var prev *oauth2.Token // offered to Renewer.Renew
	if cur != nil {
		prev = cur.tok
	}
	var id string // the identity tokens in the store must have been earned by
	if s.store != nil && s.identity != nil {
		var err error
		if id, err = s.identity(ctx); err != nil {
			// Whoever we are cannot be told: nothing stored is ours.
			return nil, nil, err
		}
	}
	load := func() (*oauth2.Token, error) {
		tok, err := s.store.Load(ctx, s.key)
		if tok != nil && s.identity != nil && (id == "" || tok.Extra(IdentityExtra) != id) {
			tok = nil // earned by another identity (or unbindable): a miss
		}
		return tok, err
	}
	if s.store != nil {
		if s.locker != nil && m != modeForce {
			// Stores write atomically, so a token another process saved
			// can be read without the lock: a warm start takes no lock.
			if stored, err := load(); err == nil && stored != nil {
				if e := s.adopt(stored, cur, m); e != nil {
					ev.FromStore = true
					return stored, e, nil
				}
			}
		}
		if s.locker != nil {
			unlock, err := s.locker.Lock(ctx, s.key)
			switch {
			case err == nil:
				defer unlock()
			case ctx.Err() != nil:
				return nil, nil, fmt.Errorf("cache: wait for the token cache lock: %w", err)
			default:
				// Without the lock we may duplicate another process's
				// request; that is better than no token.
				ev.StoreErr = err
			}
		}
		stored, err := load()
		if err != nil {
			ev.StoreErr = errors.Join(ev.StoreErr, err)
		}
		if stored != nil {
			if e := s.adopt(stored, cur, m); e != nil {
				ev.FromStore = true
				return stored, e, nil
			}
			// The store holds the newest refresh token written under the
			// lock; with rotating refresh tokens ours may be spent.
			if stored.RefreshToken != "" && (prev == nil || prev.RefreshToken == "" || stored.Expiry.After(prev.Expiry)) {
				prev = stored
			}
		}
	}

	tok, err := s.fetch(ctx, prev, ev)
	if err != nil {
		return nil, nil, err
	}
	e := s.newEntry(tok, s.now(), true)
	if s.store != nil {
		saved := tok
		if s.identity != nil && id != "" {
			saved = withIdentity(tok, id)
		}
		if err := s.store.Save(ctx, s.key, saved); err != nil {
			ev.StoreErr = errors.Join(ev.StoreErr, err)
		}
	}
	return tok, e, nil
}

// adopt returns an entry for a token found in the store if it is what this
// acquisition is after, or nil to go to the IdP.
func (s *Source) adopt(stored *oauth2.Token, cur *entry, m mode) *entry {
	if m == modeForce || stored.AccessToken == "" {
		return nil
	}
	if cur != nil && stored.AccessToken == cur.tok.AccessToken {
		return nil // the token being replaced (stale or invalidated)
	}
	now := s.now()
	e := s.newEntry(stored, now, false)
	if !e.servable(now) {
		return nil
	}
	if m == modeAhead && cur != nil && !stored.Expiry.After(cur.tok.Expiry) {
		return nil // not newer than the token Run wants to replace
	}
	return e
}

// fetch asks the wrapped source: Renew with prev's refresh token when it
// can, falling back to a fresh TokenContext if the IdP rejects that refresh
// token as invalid_grant.
func (s *Source) fetch(ctx context.Context, prev *oauth2.Token, ev *Event) (*oauth2.Token, error) {
	s.mu.Lock()
	dead := s.deadRefresh
	s.mu.Unlock()
	if s.renewer != nil && prev != nil && prev.RefreshToken != "" && prev.RefreshToken != dead {
		tok, err := s.renewer.Renew(ctx, prev)
		if err == nil {
			ev.Renewed = true
			return checkToken(tok)
		}
		if !errors.Is(err, oauth.ErrInvalidGrant) {
			return nil, err
		}
		s.mu.Lock()
		s.deadRefresh = prev.RefreshToken
		s.mu.Unlock()
	}
	tok, err := s.src.TokenContext(ctx)
	if err != nil {
		return nil, err
	}
	return checkToken(tok)
}

func checkToken(tok *oauth2.Token) (*oauth2.Token, error) {
	if tok == nil || tok.AccessToken == "" {
		return nil, errEmptyToken
	}
	return tok, nil
}
