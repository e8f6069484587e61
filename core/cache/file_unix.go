//go:build unix

package cache

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// secureDir makes sure dir is a directory only its owner can use. A
// directory of ours that is open to group or others is tightened to 0700;
// a shared one (sticky, or owned by someone else) is refused.
func secureDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("cache: directory %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("cache: %s is not a directory: set FEDTOKEN_CACHE_DIR to a directory", dir)
	}
	mode := fi.Mode()
	if mode.Perm()&0o077 == 0 {
		return nil
	}
	owner := -1
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		owner = int(st.Uid)
	}
	if mode&os.ModeSticky != 0 || owner != os.Geteuid() {
		return fmt.Errorf("cache: directory %s is shared with other users (mode %s, owner uid %d): set FEDTOKEN_CACHE_DIR to a private directory", dir, mode, owner)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("cache: directory %s is open to group or others (mode %s) and chmod 700 failed: %w", dir, mode, err)
	}
	return nil
}

// syncDir flushes a rename in dir to disk. It is best effort: some file
// systems cannot sync a directory, and losing the rename in a crash only
// costs a cache miss.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	d.Close()
}

// tryLock takes an exclusive flock on f without blocking; ok is false if
// another open file holds it.
func tryLock(f *os.File) (ok bool, err error) {
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EWOULDBLOCK):
			return false, nil
		default:
			return false, fmt.Errorf("flock: %w", err)
		}
	}
}

func unlockFile(f *os.File) { _ = unix.Flock(int(f.Fd()), unix.LOCK_UN) }
