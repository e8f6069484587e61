package cache

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/fedtoken/fedtoken/core/internal/fakeclock"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var goldenKey = Key("https://idp.example", "client", "jwt_bearer")

func goldenToken() *oauth2.Token {
	return (&oauth2.Token{
		AccessToken:  "eyJhbGciOiJSUzI1NiJ9.e30.c2ln",
		TokenType:    "Bearer",
		RefreshToken: "rt-1",
		Expiry:       time.Date(2026, 11, 26, 16, 30, 0, 0, time.UTC),
	}).WithExtra(map[string]any{
		"scope":             "openid llm",
		"issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
		"not_kept":          "x",
	})
}

func TestFileStoreFormatGolden(t *testing.T) {
	ctx := context.Background()
	fs := FileStore{Dir: t.TempDir()}
	if err := fs.Save(ctx, goldenKey, goldenToken()); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(fs.Dir, goldenKey+".json"))
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "token-v1.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("token file differs from %s (go test -update to accept):\n%s", golden, got)
	}
}

func TestFileStoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	fs := FileStore{Dir: t.TempDir()}
	in := goldenToken()
	if err := fs.Save(ctx, goldenKey, in); err != nil {
		t.Fatal(err)
	}
	out, err := fs.Load(ctx, goldenKey)
	if err != nil || out == nil {
		t.Fatalf("Load = %v, %v", out, err)
	}
	if out.AccessToken != in.AccessToken || out.TokenType != in.TokenType || out.RefreshToken != in.RefreshToken || !out.Expiry.Equal(in.Expiry) {
		t.Errorf("Load = %+v, want %+v", out, in)
	}
	for _, k := range []string{"scope", "issued_token_type"} {
		if out.Extra(k) != in.Extra(k) {
			t.Errorf("extra %s = %v, want %v", k, out.Extra(k), in.Extra(k))
		}
	}
	if out.Extra("not_kept") != nil {
		t.Error("an extra field outside the kept subset was persisted")
	}

	// The golden file of the current format still loads.
	data, err := os.ReadFile(filepath.Join("testdata", "token-v1.json"))
	if err != nil {
		t.Fatal(err)
	}
	if tok := decodeToken(data, goldenKey); tok == nil || tok.AccessToken != in.AccessToken {
		t.Fatalf("testdata/token-v1.json decodes to %v", tok)
	}

	if err := fs.Delete(ctx, goldenKey); err != nil {
		t.Fatal(err)
	}
	if tok, err := fs.Load(ctx, goldenKey); tok != nil || err != nil {
		t.Fatalf("Load after Delete = %v, %v", tok, err)
	}
	if err := fs.Delete(ctx, goldenKey); err != nil {
		t.Fatalf("deleting a missing token: %v", err)
	}
}

func TestFileStoreMisses(t *testing.T) {
	valid, err := os.ReadFile(filepath.Join("testdata", "token-v1.json"))
	if err != nil {
		t.Fatal(err)
	}
	replace := func(old, new string) []byte {
		if !bytes.Contains(valid, []byte(old)) {
			t.Fatalf("golden file lacks %q", old)
		}
		return bytes.Replace(valid, []byte(old), []byte(new), 1)
	}
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"truncated", valid[:len(valid)/2]},
		{"not JSON", []byte("\x00\x01garbage")},
		{"JSON array", []byte("[1,2]")},
		{"other version", replace(`"version": 1`, `"version": 2`)},
		{"no version", replace(`"version": 1,`, ``)},
		{"other key", replace(goldenKey, Key("someone else"))},
		{"no access token", replace(`"access_token": "eyJhbGciOiJSUzI1NiJ9.e30.c2ln"`, `"access_token": ""`)},
		{"bad expiry", replace(`"2026-11-26T16:30:00Z"`, `"tomorrow"`)},
		{"too large", append(bytes.Repeat([]byte(" "), maxFileSize), valid...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := FileStore{Dir: t.TempDir()}
			if err := os.WriteFile(filepath.Join(fs.Dir, goldenKey+".json"), tt.data, 0o600); err != nil {
				t.Fatal(err)
			}
			tok, err := fs.Load(context.Background(), goldenKey)
			if tok != nil || err != nil {
				t.Fatalf("Load = %v, %v; want a miss (nil, nil)", tok, err)
			}
		})
	}
	t.Run("missing directory", func(t *testing.T) {
		fs := FileStore{Dir: filepath.Join(t.TempDir(), "not", "yet")}
		if tok, err := fs.Load(context.Background(), goldenKey); tok != nil || err != nil {
			t.Fatalf("Load = %v, %v; want a miss", tok, err)
		}
		if _, err := os.Stat(fs.Dir); !errors.Is(err, os.ErrNotExist) {
			t.Fatal("Load created the directory")
		}
	})
}

func TestFileStoreRejectsUnsafeKeys(t *testing.T) {
	fs := FileStore{Dir: t.TempDir()}
	tok := &oauth2.Token{AccessToken: "at"}
	for _, key := range []string{"", "../escape", "a/b", ".hidden", "a.json", strings.Repeat("a", 129)} {
		err := fs.Save(context.Background(), key, tok)
		if err == nil || !strings.Contains(err.Error(), "cache.Key") {
			t.Errorf("Save with key %q: %v, want an error pointing at cache.Key", key, err)
		}
	}
}

func TestFileStorePermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix modes")
	}
	ctx := context.Background()
	t.Run("created 0700 and 0600", func(t *testing.T) {
		fs := FileStore{Dir: filepath.Join(t.TempDir(), "xdg", "fedtoken")}
		if err := fs.Save(ctx, goldenKey, goldenToken()); err != nil {
			t.Fatal(err)
		}
		unlock, err := fs.Lock(ctx, goldenKey)
		if err != nil {
			t.Fatal(err)
		}
		unlock()
		wantMode(t, fs.Dir, os.ModeDir|0o700)
		wantMode(t, filepath.Join(fs.Dir, goldenKey+".json"), 0o600)
		wantMode(t, filepath.Join(fs.Dir, goldenKey+".lock"), 0o600)
		entries, _ := os.ReadDir(fs.Dir)
		if len(entries) != 2 {
			t.Fatalf("directory holds %d entries, want the token and its lock (no temp files)", len(entries))
		}
	})
	t.Run("open directory is tightened", func(t *testing.T) {
		fs := FileStore{Dir: filepath.Join(t.TempDir(), "fedtoken")}
		if err := os.Mkdir(fs.Dir, 0o755); err != nil {
			t.Fatal(err)
		}
		os.Chmod(fs.Dir, 0o775) // past the umask
		if err := fs.Save(ctx, goldenKey, goldenToken()); err != nil {
			t.Fatal(err)
		}
		wantMode(t, fs.Dir, os.ModeDir|0o700)
	})
	t.Run("shared directory is refused", func(t *testing.T) {
		fs := FileStore{Dir: filepath.Join(t.TempDir(), "tmp")}
		if err := os.Mkdir(fs.Dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(fs.Dir, os.ModeSticky|0o777); err != nil {
			t.Fatal(err)
		}
		err := fs.Save(ctx, goldenKey, goldenToken())
		if err == nil || !strings.Contains(err.Error(), fs.Dir) || !strings.Contains(err.Error(), "FEDTOKEN_CACHE_DIR") {
			t.Fatalf("Save into a sticky world-writable directory: %v, want an error naming it and FEDTOKEN_CACHE_DIR", err)
		}
		if _, err := fs.Load(ctx, goldenKey); err == nil {
			t.Fatal("Load from a shared directory succeeded")
		}
	})
	t.Run("a file as directory", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "file")
		os.WriteFile(path, nil, 0o600)
		if err := (FileStore{Dir: path}).Save(ctx, goldenKey, goldenToken()); err == nil || !strings.Contains(err.Error(), path) {
			t.Fatalf("Save with a file as Dir: %v, want an error naming it", err)
		}
	})
}

func wantMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode() & (os.ModeDir | os.ModePerm | os.ModeSticky); got != want {
		t.Errorf("%s: mode %v, want %v", path, got, want)
	}
}

// TestFileStoreAtomicSave: a reader looping on Load while writers Save
// always finds one of the written tokens, never a partial or corrupt file.
func TestFileStoreAtomicSave(t *testing.T) {
	const writes = 50 // each save fsyncs twice: keep the test quick
	ctx := context.Background()
	fs := FileStore{Dir: t.TempDir()}
	// Tokens of very different sizes make a torn write visible.
	tokens := []*oauth2.Token{
		{AccessToken: "short", Expiry: time.Unix(1e9, 0)},
		{AccessToken: strings.Repeat("L", 16<<10), RefreshToken: strings.Repeat("r", 4<<10), Expiry: time.Unix(2e9, 0)},
	}
	known := map[string]bool{}
	for _, tok := range tokens {
		known[tok.AccessToken] = true
	}
	if err := fs.Save(ctx, goldenKey, tokens[0]); err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range 2 {
		wg.Go(func() {
			for i := range writes {
				if err := fs.Save(ctx, goldenKey, tokens[(i+w)%2]); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	reads := 0
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		for {
			select {
			case <-stop:
				return
			default:
			}
			tok, err := fs.Load(ctx, goldenKey)
			if err != nil || tok == nil || !known[tok.AccessToken] {
				t.Errorf("read %d during saves: %v, %v; want one of the saved tokens", reads, tok != nil, err)
				return
			}
			reads++
		}
	}()
	wg.Wait()
	close(stop)
	<-readerDone
	if reads == 0 {
		t.Fatal("the reader never ran")
	}
	t.Logf("%d reads during %d saves", reads, 2*writes)
	entries, _ := os.ReadDir(fs.Dir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temp file left behind: %s", e.Name())
		}
	}
}

func TestFileStoreLock(t *testing.T) {
	ctx := context.Background()
	fs := FileStore{Dir: t.TempDir()}
	unlock, err := fs.Lock(ctx, goldenKey)
	if err != nil {
		t.Fatal(err)
	}
	// A second open file of the same lock (as another process would have)
	// cannot take it.
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := fs.Lock(short, goldenKey); !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), goldenKey+".lock") {
		t.Fatalf("Lock while held = %v, want a deadline error naming the lock file", err)
	}
	if u, err := fs.Lock(ctx, Key("other")); err != nil {
		t.Fatalf("Lock of another key: %v", err)
	} else {
		u()
	}
	got := make(chan error, 1)
	go func() {
		u, err := fs.Lock(ctx, goldenKey)
		if err == nil {
			u()
		}
		got <- err
	}()
	unlock()
	unlock() // idempotent
	if err := <-got; err != nil {
		t.Fatalf("Lock after unlock: %v", err)
	}
}

func TestDefaultDir(t *testing.T) {
	home := t.TempDir()
	type dirCase struct {
		name, fedtoken, xdg string
		want, wantErr       string
	}
	tests := []dirCase{
		{"FEDTOKEN_CACHE_DIR wins", "/srv/cache", "/xdg", "/srv/cache", ""},
		{"XDG_CACHE_HOME", "", "/xdg", "/xdg/fedtoken", ""},
		{"relative XDG_CACHE_HOME", "", "rel", "", "XDG_CACHE_HOME"},
	}
	if runtime.GOOS == "linux" { // os.UserCacheDir is $HOME/.cache only there
		tests = append(tests, dirCase{"user cache dir", "", "", filepath.Join(home, ".cache", "fedtoken"), ""})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("HOME", home)
			t.Setenv("FEDTOKEN_CACHE_DIR", tt.fedtoken)
			t.Setenv("XDG_CACHE_HOME", tt.xdg)
			got, err := DefaultDir()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("DefaultDir() = %q, %v; want an error mentioning %s", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("DefaultDir() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	t.Run("empty Dir uses it", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "c")
		t.Setenv("FEDTOKEN_CACHE_DIR", dir)
		if err := (FileStore{}).Save(context.Background(), goldenKey, goldenToken()); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(dir, goldenKey+".json")); err != nil {
			t.Fatal(err)
		}
	})
}

func TestSourceWithFileStore(t *testing.T) {
	clock := fakeclock.New()
	dir := t.TempDir()
	key := Key("https://idp", "client")
	up := &fakeSource{fn: lifetime(clock, time.Hour)}
	a := New(up, WithClock(clock.Now), WithStore(FileStore{Dir: dir}, key))
	b := New(up, WithClock(clock.Now), WithStore(FileStore{Dir: dir}, key)) // "another process"
	ta, err := a.Token()
	if err != nil {
		t.Fatal(err)
	}
	tb, err := b.Token()
	if err != nil {
		t.Fatal(err)
	}
	if ta.AccessToken != tb.AccessToken || up.calls.Load() != 1 {
		t.Fatalf("a=%s b=%s after %d upstream calls; want one shared token", ta.AccessToken, tb.AccessToken, up.calls.Load())
	}
}
