package cache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// maxFileSize bounds a token file read; anything larger is not ours.
const maxFileSize = 1 << 20

// Lock polling: a lock held by another process is retried after these
// delays (doubling), until the caller's context is done.
const (
	lockPollMin = 5 * time.Millisecond
	lockPollMax = 100 * time.Millisecond
)

// FileStore is a Store and Locker keeping one JSON file per key in Dir,
// shared by every process of the user. See the package documentation for
// the layout, permissions and file format.
type FileStore struct {
	// Dir is the cache directory; empty means DefaultDir().
	Dir string
}

var (
	_ Store  = FileStore{}
	_ Locker = FileStore{}
)

// DefaultDir returns the cache directory: $FEDTOKEN_CACHE_DIR, else
// $XDG_CACHE_HOME/fedtoken, else os.UserCacheDir()/fedtoken (on Linux
// ~/.cache/fedtoken).
func DefaultDir() (string, error) {
	if d := os.Getenv("FEDTOKEN_CACHE_DIR"); d != "" {
		return d, nil
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		if !filepath.IsAbs(d) {
			return "", fmt.Errorf("cache: $XDG_CACHE_HOME is a relative path (%s): make it absolute or set FEDTOKEN_CACHE_DIR", d)
		}
		return filepath.Join(d, "fedtoken"), nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("cache: no user cache directory (set FEDTOKEN_CACHE_DIR): %w", err)
	}
	return filepath.Join(d, "fedtoken"), nil
}

// Load reads the token saved under key. A missing, corrupt, truncated or
// foreign file (other format version, other key) is a miss: (nil, nil).
func (s FileStore) Load(ctx context.Context, key string) (*oauth2.Token, error) {
	dir, err := s.dir(key, false)
	if err != nil || dir == "" {
		return nil, err
	}
	path := tokenPath(dir, key)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cache: load %s: %w", path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("cache: load %s: %w", path, err)
	}
	if len(data) > maxFileSize {
		return nil, nil
	}
	return decodeToken(data, key), nil
}

// Save writes tok under key atomically: a temporary file in the same
// directory is written, synced and renamed over the old one, so a reader
// sees the old token or the new one, never a mix.
func (s FileStore) Save(ctx context.Context, key string, tok *oauth2.Token) (err error) {
	if tok == nil {
		return errors.New("cache: save: nil token")
	}
	dir, err := s.dir(key, true)
	if err != nil {
		return err
	}
	path := tokenPath(dir, key)
	data, err := encodeToken(key, tok)
	if err != nil {
		return fmt.Errorf("cache: save %s: %w", path, err)
	}
	f, err := os.CreateTemp(dir, "."+key+".*.tmp") // mode 0600
	if err != nil {
		return fmt.Errorf("cache: save %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("cache: save %s: write: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("cache: save %s: sync: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("cache: save %s: close: %w", path, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("cache: save %s: rename: %w", path, err)
	}
	syncDir(dir)
	return nil
}

// Delete removes the token saved under key, and the temporary files of
// saves that never finished (a process killed mid-save leaves one holding
// a token). The lock file stays: removing it could let two processes hold
// "the" lock on different files.
func (s FileStore) Delete(ctx context.Context, key string) error {
	dir, err := s.dir(key, false)
	if err != nil || dir == "" {
		return err
	}
	path := tokenPath(dir, key)
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("cache: delete %s: %w", path, err)
	}
	// validKey admits no glob metacharacters.
	leftovers, _ := filepath.Glob(filepath.Join(dir, "."+key+".*.tmp"))
	for _, tmp := range leftovers {
		if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("cache: delete %s: %w", tmp, err)
		}
	}
	return nil
}

// Lock takes the cross-process lock of key: an exclusive advisory lock
// (flock on Unix, LockFileEx on Windows) on <Dir>/<key>.lock. It waits,
// polling, until the lock is free or ctx is done. The lock is released by
// unlock or when the process exits.
func (s FileStore) Lock(ctx context.Context, key string) (func(), error) {
	dir, err := s.dir(key, true)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, key+".lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cache: lock %s: %w", path, err)
	}
	delay := lockPollMin
	for {
		ok, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("cache: lock %s: %w", path, err)
		}
		if ok {
			var once sync.Once
			return func() {
				once.Do(func() {
					unlockFile(f)
					f.Close()
				})
			}, nil
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			f.Close()
			return nil, fmt.Errorf("cache: lock %s: held by another process: %w", path, ctx.Err())
		case <-t.C:
		}
		delay = min(2*delay, lockPollMax)
	}
}

// dir returns the checked cache directory for key. With create it makes
// the directory (0700); without, a missing directory yields "" and no error.
func (s FileStore) dir(key string, create bool) (string, error) {
	if !validKey(key) {
		return "", fmt.Errorf("cache: key %q is not usable as a file name (use cache.Key)", key)
	}
	dir := s.Dir
	if dir == "" {
		d, err := DefaultDir()
		if err != nil {
			return "", err
		}
		dir = d
	}
	if create {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return "", fmt.Errorf("cache: create directory %s: %w", dir, err)
		}
	} else if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err := secureDir(dir); err != nil {
		return "", err
	}
	return dir, nil
}

func tokenPath(dir, key string) string { return filepath.Join(dir, key+".json") }

// validKey accepts 1–128 characters of [A-Za-z0-9_-]: no separators, no
// dot files, nothing that could leave Dir.
func validKey(key string) bool {
	if key == "" || len(key) > 128 {
		return false
	}
	for _, c := range []byte(key) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}
