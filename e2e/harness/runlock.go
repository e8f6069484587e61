//go:build e2e

package harness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/fedtoken/fedtoken/e2e/internal/wait"
)

// runLock serialises the runs of one backend on a host: they share fixed
// names (the kind cluster and its docker network, the local bridge) and
// each removes what an earlier run left, which must never be a live run's.
// The kernel drops the lock when the holder exits, kill -9 included.
type runLock struct{ f *os.File }

// lockRun takes the host-wide lock of backend, waiting (and saying so)
// while another run holds it.
func lockRun(ctx context.Context, backend string, logf func(string, ...any)) (*runLock, error) {
	dir := "/run/lock"
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		dir = os.TempDir()
	}
	path := filepath.Join(dir, "fedtoken-e2e-run-"+backend+".lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("harness: run lock %s: %w", path, err)
	}
	try := func() (bool, error) {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return false, nil
		}
		return err == nil, err
	}
	ok, err := try()
	if err == nil && !ok {
		holder, _ := os.ReadFile(path)
		logf("harness: another %s e2e run (pid %s) holds %s; waiting for it to end", backend, strings.TrimSpace(string(holder)), path)
		err = wait.Until(ctx, "the other "+backend+" e2e run to end ("+path+")", 24*time.Hour, time.Second, func(context.Context) (bool, error) {
			ok, err := try()
			if err == nil && !ok {
				return false, wait.NotYet("still held")
			}
			return ok, err
		})
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("harness: run lock %s: %w", path, err)
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return &runLock{f: f}, nil
}

// release lets the next run start.
func (l *runLock) release() {
	if l != nil && l.f != nil {
		_ = l.f.Close()
		l.f = nil
	}
}
