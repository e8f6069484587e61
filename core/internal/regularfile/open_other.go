//go:build !unix

package regularfile

import (
	"io/fs"
	"os"
)

// openNonblock checks the path before opening it where O_NONBLOCK does not
// exist; the type is checked again on the open file.
func openNonblock(path string) (*os.File, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if err := checkMode(fi.Mode()); err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return os.Open(path)
}
