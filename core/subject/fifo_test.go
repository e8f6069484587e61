//go:build unix

package subject

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestNonRegularSubjectFileIsRefused is W4: a FIFO at the subject path
// used to block os.Open forever, ignoring the context; it must be refused
// at once with an error that says what is wrong.
func TestNonRegularSubjectFileIsRefused(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "token")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	t.Cleanup(func() {
		// Unblock a reader stuck in open on the unfixed code.
		if f, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
	})
	for _, src := range []Source{File{Path: fifo}, KubernetesSA{Path: fifo}, File{Path: "/dev/zero"}} {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		done := make(chan error, 1)
		go func() {
			_, err := src.SubjectToken(ctx)
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "not a regular file") {
				t.Errorf("%s: err = %v, want a refusal naming a non-regular file", src, err)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("%s: SubjectToken blocked past its context", src)
		}
		cancel()
	}
}
