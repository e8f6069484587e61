//go:build unix

package regularfile

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func TestRefusesWhatIsNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	regular := filepath.Join(dir, "token")
	os.WriteFile(regular, []byte("abc"), 0o600)
	link := filepath.Join(dir, "link")
	os.Symlink(regular, link)
	tests := []struct {
		path string
		want error
	}{
		{fifo, ErrNotRegular},
		{"/dev/zero", ErrNotRegular},
		{dir, ErrIsDir},
		{regular, nil},
		{link, nil},
	}
	for _, tt := range tests {
		done := make(chan error, 1)
		go func() {
			_, err := ReadContext(context.Background(), tt.path, 10)
			done <- err
		}()
		select {
		case err := <-done:
			if !errors.Is(err, tt.want) && !(tt.want == nil && err == nil) {
				t.Errorf("%s: err = %v, want %v", tt.path, err, tt.want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: read blocked", tt.path)
		}
	}
}

func TestReadContextReturnsWhenTheContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ReadContext(ctx, "/dev/null", 10); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
