//go:build !unix && !windows

package cache

import (
	"errors"
	"fmt"
	"os"
)

// errLockUnsupported is returned by FileStore.Lock where there is no file
// locking; Source then acquires without the cross-process lock.
var errLockUnsupported = errors.New("file locking is not supported on this platform")

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

func syncDir(string) {}

func tryLock(*os.File) (bool, error) { return false, errLockUnsupported }

func unlockFile(*os.File) {}
