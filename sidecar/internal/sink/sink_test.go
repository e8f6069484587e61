package sink

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

func TestFileWrite(t *testing.T) {
	dir := t.TempDir()
	f := File{Path: filepath.Join(dir, "token"), Mode: 0o640, UID: os.Getuid(), GID: os.Getgid()}
	for _, tok := range []string{"first-token", "second"} {
		if err := f.Write([]byte(tok)); err != nil {
			t.Fatalf("Write: %v", err)
		}
		got, err := os.ReadFile(f.Path)
		if err != nil || string(got) != tok {
			t.Fatalf("file = %q, %v; want %q", got, err, tok)
		}
	}
	fi, err := os.Stat(f.Path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o640 {
		t.Errorf("mode = %v, want 0640", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the token (temporary files left behind?)", len(entries))
	}

	bad := File{Path: filepath.Join(dir, "missing", "token"), Mode: 0o600, UID: -1, GID: -1}
	if err := bad.Write([]byte("x")); err == nil || !strings.Contains(err.Error(), bad.Path) {
		t.Errorf("Write into a missing directory: %v; want an error naming %s", err, bad.Path)
	}
}

// TestFileWriteIsAtomic has a reader loop on the file while tokens of
// different lengths replace each other: it must only ever see a whole token.
func TestFileWriteIsAtomic(t *testing.T) {
	f := File{Path: filepath.Join(t.TempDir(), "token"), Mode: 0o600, UID: -1, GID: -1}
	tokens := [][]byte{bytes.Repeat([]byte("a"), 8192), []byte("bb"), bytes.Repeat([]byte("c"), 300)}
	if err := f.Write(tokens[0]); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(done)
		for i := range 150 {
			if err := f.Write(tokens[i%len(tokens)]); err != nil {
				t.Errorf("Write: %v", err)
				return
			}
		}
	}()
	reads := 0
	for {
		select {
		case <-done:
			wg.Wait()
			if reads == 0 {
				t.Fatal("the reader never read the file")
			}
			return
		default:
		}
		got, err := os.ReadFile(f.Path)
		if err != nil {
			t.Fatalf("read #%d: %v", reads, err)
		}
		if !bytes.Equal(got, tokens[0]) && !bytes.Equal(got, tokens[1]) && !bytes.Equal(got, tokens[2]) {
			t.Fatalf("read #%d saw a partial token (%d bytes)", reads, len(got))
		}
		reads++
	}
}

// stepSource holds one token; Peek reports it fresh unless stale is set.
type stepSource struct {
	mu    sync.Mutex
	tok   *oauth2.Token
	stale bool
	calls int // TokenContext calls
	err   error
}

func (s *stepSource) Peek() (*oauth2.Token, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tok, s.tok != nil && !s.stale
}

func (s *stepSource) TokenContext(context.Context) (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.err != nil {
		return nil, s.err
	}
	if s.stale {
		s.tok = &oauth2.Token{AccessToken: s.tok.AccessToken + "-renewed"}
		s.stale = false
	}
	return s.tok, nil
}

func (s *stepSource) set(f func(*stepSource)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

func waitForFile(t *testing.T, path, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, _ := os.ReadFile(path)
		if string(got) == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("file %s = %q, want %q", path, got, want)
		}
		time.Sleep(time.Millisecond) // polling with a deadline, not synchronisation
	}
}

func TestLoopFollowsTheSource(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token")
	src := &stepSource{err: errors.New("IdP down")}
	var mu sync.Mutex
	var writes, failures int
	l := &Loop{Source: src, File: File{Path: path, Mode: 0o600, UID: -1, GID: -1}, Interval: time.Millisecond,
		OnWrite: func(err error) {
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failures++
			} else {
				writes++
			}
		}}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error)
	go func() { stopped <- l.Run(ctx) }()

	// No token yet: the loop keeps asking and writes nothing.
	deadline := time.Now().Add(10 * time.Second)
	for {
		src.mu.Lock()
		calls := src.calls
		src.mu.Unlock()
		if calls >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the loop did not ask the source for a token")
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("a file exists before any token: %v", err)
	}

	src.set(func(s *stepSource) { s.err, s.tok = nil, &oauth2.Token{AccessToken: "t1"} })
	waitForFile(t, path, "t1")
	src.set(func(s *stepSource) { s.tok = &oauth2.Token{AccessToken: "t2"} }) // refreshed ahead by the provider
	waitForFile(t, path, "t2")
	src.set(func(s *stepSource) { s.stale = true }) // no refresher: the loop acquires itself
	waitForFile(t, path, "t2-renewed")

	cancel()
	if err := <-stopped; err != nil {
		t.Errorf("Run = %v, want nil", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if writes != 3 || failures != 0 {
		t.Errorf("writes = %d, failures = %d; want 3 and 0 (one write per new token)", writes, failures)
	}
}
