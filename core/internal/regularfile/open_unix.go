//go:build unix

package regularfile

import (
	"os"
	"syscall"
)

// openNonblock opens path read-only with O_NONBLOCK, so that opening a
// FIFO without a writer returns at once instead of blocking; reads of a
// regular file are unaffected by the flag.
func openNonblock(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}
