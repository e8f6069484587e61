package cache

import (
	"context"
	"sync"

	"golang.org/x/oauth2"
)

// MemoryStore is a Store (and Locker) in memory, shared by the Sources of
// one process. The zero value is ready to use; do not copy it after use.
// It keeps its own copies of the tokens it is given.
type MemoryStore struct {
	mu     sync.Mutex
	tokens map[string]*oauth2.Token
	locks  map[string]chan struct{}
}

var (
	_ Store  = (*MemoryStore)(nil)
	_ Locker = (*MemoryStore)(nil)
)

// Load returns a copy of the token under key, or nil.
func (m *MemoryStore) Load(ctx context.Context, key string) (*oauth2.Token, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	tok, ok := m.tokens[key]
	if !ok {
		return nil, nil
	}
	return copyToken(tok), nil
}

// Save stores a copy of tok under key.
func (m *MemoryStore) Save(ctx context.Context, key string, tok *oauth2.Token) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.tokens == nil {
		m.tokens = make(map[string]*oauth2.Token)
	}
	m.tokens[key] = copyToken(tok)
	return nil
}

// Delete removes the token under key.
func (m *MemoryStore) Delete(ctx context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.tokens, key)
	return nil
}

// Lock takes the in-process lock of key, waiting until it is free or ctx
// is done.
func (m *MemoryStore) Lock(ctx context.Context, key string) (func(), error) {
	m.mu.Lock()
	if m.locks == nil {
		m.locks = make(map[string]chan struct{})
	}
	l, ok := m.locks[key]
	if !ok {
		l = make(chan struct{}, 1)
		m.locks[key] = l
	}
	m.mu.Unlock()
	select {
	case l <- struct{}{}:
		var once sync.Once
		return func() { once.Do(func() { <-l }) }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// copyToken copies tok, keeping its extra fields.
func copyToken(tok *oauth2.Token) *oauth2.Token {
	if tok == nil {
		return nil
	}
	c := *tok
	return &c
}
