//go:build windows

package cache

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/windows"
)

// secureDir checks that dir is a directory. Windows access is governed by
// ACLs, which the user profile's cache directory already restricts; mode
// bits mean nothing there.
func secureDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("cache: directory %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("cache: %s is not a directory: set FEDTOKEN_CACHE_DIR to a directory", dir)
	}
	return nil
}

// syncDir is a no-op: Windows cannot open a directory for syncing.
func syncDir(string) {}

// tryLock takes an exclusive LockFileEx lock on the first byte of f without
// blocking; ok is false if another handle holds it.
func tryLock(f *os.File) (ok bool, err error) {
	ol := new(windows.Overlapped)
	err = windows.LockFileEx(windows.Handle(f.Fd()),
		windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, ol)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, windows.ERROR_LOCK_VIOLATION), errors.Is(err, windows.ERROR_IO_PENDING):
		return false, nil
	default:
		return false, fmt.Errorf("LockFileEx: %w", err)
	}
}

func unlockFile(f *os.File) {
	_ = windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, new(windows.Overlapped))
}
