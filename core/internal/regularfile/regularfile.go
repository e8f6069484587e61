// Package regularfile reads small files that must be regular files
// (config, subject tokens, secrets) without ever blocking: a FIFO, a
// character device or a socket at the path is refused instead of opened
// for a read that may never end, and ReadContext gives up when its context
// ends even if the file system does not answer.
package regularfile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// ErrIsDir is matched (errors.Is) when the path names a directory.
var ErrIsDir = errors.New("is a directory, not a file")

// ErrNotRegular is matched (errors.Is) when the path names a FIFO, a
// device, a socket or anything else that is not a regular file.
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge is matched when the file holds more than the limit.
var ErrTooLarge = errors.New("file too large")

// kindError says what the path is instead of a regular file.
type kindError struct{ kind string }

func (e *kindError) Error() string {
	return fmt.Sprintf("is a %s, not a regular file (refused: reading it could block forever)", e.kind)
}
func (e *kindError) Is(target error) bool { return target == ErrNotRegular }

// Open opens path for reading without blocking on a FIFO and returns it
// only if it is a regular file (after following symlinks). Its errors are
// those of os.Open (*fs.PathError), ErrIsDir, or one matching
// ErrNotRegular that names the kind of file.
func Open(path string) (*os.File, error) {
	f, err := openNonblock(path)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if err := checkMode(fi.Mode()); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func checkMode(m fs.FileMode) error {
	switch {
	case m.IsRegular():
		return nil
	case m.IsDir():
		return ErrIsDir
	case m&fs.ModeNamedPipe != 0:
		return &kindError{"FIFO (named pipe)"}
	case m&fs.ModeSocket != 0:
		return &kindError{"socket"}
	case m&fs.ModeCharDevice != 0:
		return &kindError{"character device"}
	case m&fs.ModeDevice != 0:
		return &kindError{"block device"}
	}
	return &kindError{"special file (" + m.Type().String() + ")"}
}

// Read returns at most limit bytes of the regular file at path; a larger
// file is an error matching ErrTooLarge.
func Read(path string, limit int64) ([]byte, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrTooLarge, limit)
	}
	return b, nil
}

// ReadContext is Read that returns ctx.Err() as soon as ctx ends, even if
// the read itself is stuck (a hung network file system): the read is
// left to finish on its own goroutine and its result dropped.
func ReadContext(ctx context.Context, path string, limit int64) ([]byte, error) {
	if ctx.Done() == nil {
		return Read(path, limit)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	type result struct {
		b   []byte
		err error
	}
	ch := make(chan result, 1)
	go func() {
		b, err := Read(path, limit)
		ch <- result{b, err}
	}()
	select {
	case r := <-ch:
		return r.b, r.err
	case <-ctx.Done():
		return nil, fmt.Errorf("read did not finish: %w", ctx.Err())
	}
}
