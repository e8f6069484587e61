package cache

import (
	"context"
	"errors"
	"regexp"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/fedtoken/fedtoken/core/internal/fakeclock"
)

func TestKey(t *testing.T) {
	hex64 := regexp.MustCompile(`^[0-9a-f]{64}$`)
	distinct := [][]string{
		{},
		{""},
		{"", ""},
		{"ab", "c"},
		{"a", "bc"},
		{"abc"},
		{"https://idp", "client", "jwt_bearer"},
		{"https://idp", "client", "token_exchange"},
	}
	seen := map[string][]string{}
	for _, parts := range distinct {
		k := Key(parts...)
		if !hex64.MatchString(k) {
			t.Errorf("Key(%q) = %q, want 64 hex characters", parts, k)
		}
		if k != Key(parts...) {
			t.Errorf("Key(%q) is not deterministic", parts)
		}
		if prev, dup := seen[k]; dup {
			t.Errorf("Key(%q) == Key(%q)", parts, prev)
		}
		seen[k] = parts
	}
}

func TestMemoryStore(t *testing.T) {
	ctx := context.Background()
	var m MemoryStore
	if tok, err := m.Load(ctx, "k"); tok != nil || err != nil {
		t.Fatalf("empty store Load = %v, %v", tok, err)
	}
	orig := (&oauth2.Token{AccessToken: "at"}).WithExtra(map[string]any{"scope": "a b"})
	if err := m.Save(ctx, "k", orig); err != nil {
		t.Fatal(err)
	}
	orig.AccessToken = "changed by the caller"
	got, _ := m.Load(ctx, "k")
	if got.AccessToken != "at" || got.Extra("scope") != "a b" {
		t.Fatalf("Load = %+v (scope %v), want its own copy of the saved token", got, got.Extra("scope"))
	}
	if err := m.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if tok, _ := m.Load(ctx, "k"); tok != nil {
		t.Fatal("Load after Delete found a token")
	}

	unlock, err := m.Lock(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := m.Lock(short, "k"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second Lock while held = %v, want a deadline error", err)
	}
	if u, err := m.Lock(ctx, "other"); err != nil {
		t.Fatalf("Lock of another key: %v", err)
	} else {
		u()
	}
	unlock()
	unlock() // idempotent
	u2, err := m.Lock(ctx, "k")
	if err != nil {
		t.Fatalf("Lock after unlock: %v", err)
	}
	u2()
}

func TestSourceLoadsFromStoreOnColdStart(t *testing.T) {
	clock := fakeclock.New()
	store := &MemoryStore{}
	key := Key("idp", "client")
	store.Save(context.Background(), key, &oauth2.Token{AccessToken: "from-disk", Expiry: clock.Now().Add(time.Hour)})
	up := &fakeSource{fn: lifetime(clock, time.Hour)}
	events := newEventLog()
	s := New(up, WithClock(clock.Now), WithStore(store, key), WithObserver(events.observe))

	tok, err := s.Token()
	if err != nil || tok.AccessToken != "from-disk" {
		t.Fatalf("cold start = %v, %v; want the stored token", tok, err)
	}
	if got := up.calls.Load(); got != 0 {
		t.Fatalf("upstream calls = %d, want 0", got)
	}
	if ev := events.next(t); !ev.FromStore {
		t.Fatalf("event = %+v, want FromStore", ev)
	}
}

func TestSourceSkipsUnusableStoredTokens(t *testing.T) {
	tests := []struct {
		name   string
		stored *oauth2.Token // expiry relative to the fake clock's start
	}{
		{"expired", &oauth2.Token{AccessToken: "old", Expiry: time.Unix(0, 0)}},
		{"within the skew", &oauth2.Token{AccessToken: "old", Expiry: fakeclock.New().Now().Add(20 * time.Second)}},
		{"no expiry", &oauth2.Token{AccessToken: "old"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := fakeclock.New()
			store := &MemoryStore{}
			store.Save(context.Background(), "k", tt.stored)
			up := &fakeSource{fn: lifetime(clock, time.Hour)}
			s := New(up, WithClock(clock.Now), WithStore(store, "k"))
			if tok, _ := s.Token(); tok.AccessToken != "at-1" {
				t.Fatalf("got %s, want a fresh at-1", tok.AccessToken)
			}
			if saved, _ := store.Load(context.Background(), "k"); saved.AccessToken != "at-1" {
				t.Fatalf("store holds %s, want the new at-1", saved.AccessToken)
			}
		})
	}
}

// lockSignalStore reports when the Source asks for the lock.
type lockSignalStore struct {
	*MemoryStore
	locking chan struct{}
}

func (l lockSignalStore) Lock(ctx context.Context, key string) (func(), error) {
	l.locking <- struct{}{}
	return l.MemoryStore.Lock(ctx, key)
}

// TestWarmStartTakesNoLock: a valid stored token is adopted without the
// cross-process lock (stores write atomically), so a warm CLI run does no
// more than one read.
func TestWarmStartTakesNoLock(t *testing.T) {
	clock := fakeclock.New()
	store := lockSignalStore{&MemoryStore{}, make(chan struct{}, 1)}
	store.Save(context.Background(), "k", &oauth2.Token{AccessToken: "from-disk", Expiry: clock.Now().Add(time.Hour)})
	up := &fakeSource{fn: lifetime(clock, time.Hour)}
	s := New(up, WithClock(clock.Now), WithStore(store, "k"))
	if tok, err := s.Token(); err != nil || tok.AccessToken != "from-disk" {
		t.Fatalf("warm start = %v, %v; want the stored token", tok, err)
	}
	select {
	case <-store.locking:
		t.Fatal("a warm start took the lock")
	default:
	}
	if n := up.calls.Load(); n != 0 {
		t.Fatalf("upstream calls = %d, want 0", n)
	}
}

// TestSourceRechecksStoreUnderLock: another process acquires and saves while
// this one waits for the lock; this one then uses that token.
func TestSourceRechecksStoreUnderLock(t *testing.T) {
	clock := fakeclock.New()
	ctx := context.Background()
	store := lockSignalStore{&MemoryStore{}, make(chan struct{}, 1)}
	up := &fakeSource{fn: lifetime(clock, time.Hour)}
	s := New(up, WithClock(clock.Now), WithStore(store, "k"))

	unlockOther, _ := store.MemoryStore.Lock(ctx, "k") // the other process
	got := make(chan *oauth2.Token)
	go func() { tok, _ := s.Token(); got <- tok }()
	<-store.locking
	store.Save(ctx, "k", &oauth2.Token{AccessToken: "other-process", Expiry: clock.Now().Add(time.Hour)})
	unlockOther()

	if tok := <-got; tok.AccessToken != "other-process" {
		t.Fatalf("got %s, want the token the other process saved", tok.AccessToken)
	}
	if n := up.calls.Load(); n != 0 {
		t.Fatalf("upstream calls = %d, want 0", n)
	}
}

func TestSourceDoesNotReadoptTheTokenItReplaces(t *testing.T) {
	clock := fakeclock.New()
	store := &MemoryStore{}
	up := &fakeSource{fn: lifetime(clock, time.Hour)}
	s := New(up, WithClock(clock.Now), WithStore(store, "k"))
	t1, _ := s.Token()
	s.Invalidate(t1) // the store still holds t1
	if t2, _ := s.Token(); t2.AccessToken != "at-2" {
		t.Fatalf("after Invalidate got %s, want at-2 (not the rejected token from the store)", t2.AccessToken)
	}
	if saved, _ := store.Load(context.Background(), "k"); saved.AccessToken != "at-2" {
		t.Fatalf("store holds %s, want at-2", saved.AccessToken)
	}
}

func TestBackgroundRefreshAdoptsNewerStoredToken(t *testing.T) {
	clock := fakeclock.New()
	store := &MemoryStore{}
	up := &fakeSource{fn: lifetime(clock, 300*time.Second)}
	events := newEventLog()
	s := New(up, WithClock(clock.Now), WithAfter(clock.After), WithJitter(half), WithStore(store, "k"), WithObserver(events.observe))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Run(ctx)

	events.next(t)
	clock.Advance(clock.NextSleep(t) - time.Second)
	// Another process refreshed just before us.
	store.Save(ctx, "k", &oauth2.Token{AccessToken: "other-process", Expiry: clock.Now().Add(300 * time.Second)})
	clock.Advance(time.Second)
	if ev := events.next(t); !ev.FromStore || !ev.Background || ev.Token.AccessToken != "other-process" {
		t.Fatalf("background refresh = %+v, want the other process's token from the store", ev)
	}
	if n := up.calls.Load(); n != 1 {
		t.Fatalf("upstream calls = %d, want 1", n)
	}
}

// failingStore fails every operation.
type failingStore struct{}

var errDisk = errors.New("disk on fire")

func (failingStore) Load(context.Context, string) (*oauth2.Token, error) { return nil, errDisk }
func (failingStore) Save(context.Context, string, *oauth2.Token) error   { return errDisk }
func (failingStore) Delete(context.Context, string) error                { return errDisk }
func (failingStore) Lock(context.Context, string) (func(), error)        { return nil, errDisk }

func TestStoreFailuresDoNotCostTheToken(t *testing.T) {
	clock := fakeclock.New()
	up := &fakeSource{fn: lifetime(clock, time.Hour)}
	events := newEventLog()
	s := New(up, WithClock(clock.Now), WithStore(failingStore{}, "k"), WithObserver(events.observe))
	tok, err := s.Token()
	if err != nil || tok.AccessToken != "at-1" {
		t.Fatalf("got %v, %v; want at-1 despite the store", tok, err)
	}
	if ev := events.next(t); !errors.Is(ev.StoreErr, errDisk) || ev.Err != nil {
		t.Fatalf("event = %+v, want StoreErr set and no Err", ev)
	}
}

func TestStoredRefreshTokenIsPreferred(t *testing.T) {
	clock := fakeclock.New()
	store := &MemoryStore{}
	up := &renewingSource{}
	up.fn = func(_ context.Context, n int64) (*oauth2.Token, error) {
		return &oauth2.Token{AccessToken: "at", RefreshToken: "rt-ours", Expiry: clock.Now().Add(time.Hour)}, nil
	}
	var offered string
	up.renew = func(_ context.Context, prev *oauth2.Token, _ int64) (*oauth2.Token, error) {
		offered = prev.RefreshToken
		return &oauth2.Token{AccessToken: "renewed", RefreshToken: "rt-next", Expiry: clock.Now().Add(time.Hour)}, nil
	}
	s := New(up, WithClock(clock.Now), WithStore(store, "k"))
	s.Token()
	// Another process renewed meanwhile: the IdP rotated the refresh token,
	// and that access token is now stale too.
	clock.Advance(2 * time.Hour)
	store.Save(context.Background(), "k", &oauth2.Token{AccessToken: "theirs", RefreshToken: "rt-rotated", Expiry: clock.Now().Add(-time.Minute)})

	if tok, err := s.Token(); err != nil || tok.AccessToken != "renewed" {
		t.Fatalf("got %v, %v; want renewed", tok, err)
	}
	if offered != "rt-rotated" {
		t.Fatalf("Renew was offered refresh token %q, want the newer stored one", offered)
	}
}
