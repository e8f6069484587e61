package subject

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// atomicWriter reproduces the kubelet's projected-volume layout
// (pkg/volume/util/atomic_writer.go):
//
//	token     -> ..data/token
//	..data    -> ..2026_11_26_10_00_00.001/
//	..2026_11_26_10_00_00.001/token
//
// An update writes a new timestamped directory, points a `..data_tmp`
// symlink at it, renames `..data_tmp` onto `..data` (atomic) and removes
// the previous directory. The visible file is never written in place.
type atomicWriter struct {
	dir     string
	seq     int
	current string // name of the live ..<timestamp> directory
}

func newAtomicWriter(t *testing.T, token string) *atomicWriter {
	t.Helper()
	w := &atomicWriter{dir: t.TempDir()}
	if err := w.update(token); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join("..data", "token"), w.path()); err != nil {
		t.Fatal(err)
	}
	return w
}

// path is what the pod reads.
func (w *atomicWriter) path() string { return filepath.Join(w.dir, "token") }

// update publishes token the way the kubelet does. It returns errors
// rather than failing the test so it can run in a goroutine.
func (w *atomicWriter) update(token string) error {
	w.seq++
	ts := fmt.Sprintf("..2026_11_26_10_00_00.%06d", w.seq)
	if err := os.Mkdir(filepath.Join(w.dir, ts), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(w.dir, ts, "token"), []byte(token), 0o600); err != nil {
		return err
	}
	tmp := filepath.Join(w.dir, "..data_tmp")
	if err := os.Symlink(ts, tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(w.dir, "..data")); err != nil {
		return err
	}
	if w.current != "" {
		if err := os.RemoveAll(filepath.Join(w.dir, w.current)); err != nil {
			return err
		}
	}
	w.current = ts
	return nil
}

func TestKubernetesRotation(t *testing.T) {
	first := jwtExpiring(testNow.Add(10 * time.Minute))
	second := jwtExpiring(testNow.Add(70 * time.Minute))
	w := newAtomicWriter(t, first)
	src := KubernetesSA{Path: w.path(), Now: fixedNow}

	if fi, err := os.Lstat(w.path()); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("layout: %s is not a symlink (%v)", w.path(), err)
	}
	got, err := src.SubjectToken(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got != first {
		t.Fatal("first read did not return the first token")
	}

	if err := w.update(second); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(w.dir, "..2026_11_26_10_00_00.000001")); !os.IsNotExist(err) {
		t.Fatalf("the old timestamped directory still exists (%v): the swap is not the kubelet's", err)
	}
	got, err = src.SubjectToken(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got != second {
		t.Fatal("the read after the ..data swap did not return the new token")
	}
}

func TestKubernetesRotationRecoversFromExpiry(t *testing.T) {
	w := newAtomicWriter(t, expiredJWT)
	src := KubernetesSA{Path: w.path(), Now: fixedNow}

	_, err := src.SubjectToken(context.Background())
	assertErr(t, err, nil, "token expired at 2026-11-26T09:55:00Z", "the kubelet should have rotated it")

	if err := w.update(freshJWT); err != nil {
		t.Fatal(err)
	}
	got, err := src.SubjectToken(context.Background())
	if err != nil {
		t.Fatalf("after the kubelet rotated the token: %v", err)
	}
	if got != freshJWT {
		t.Fatal("the read after rotation did not return the fresh token")
	}
}

// TestKubernetesRotationConcurrent swaps ..data continuously while
// readers loop: every read must return one complete published token,
// never an error, an empty or a partial token, and never an older token
// than the reader saw before.
func TestKubernetesRotationConcurrent(t *testing.T) {
	const swaps = 150
	tokens := make([]string, swaps+1)
	index := make(map[string]int, len(tokens))
	for i := range tokens {
		// Distinct, 1 KiB tokens so a torn read could not match any of them.
		tokens[i] = testJWT(fmt.Sprintf(`{"exp":%d,"jti":"%06d","pad":"%s"}`, testNow.Add(time.Hour).Unix(), i, strings.Repeat("p", 1000)))
		index[tokens[i]] = i
	}
	w := newAtomicWriter(t, tokens[0])
	src := KubernetesSA{Path: w.path(), Now: fixedNow}

	done := make(chan struct{})
	var writeErr error
	go func() {
		defer close(done)
		for i := 1; i <= swaps; i++ {
			if writeErr = w.update(tokens[i]); writeErr != nil {
				return
			}
		}
	}()

	const readers = 2
	var wg sync.WaitGroup
	errs := make(chan error, readers)
	reads := make([]int, readers)
	for r := range readers {
		wg.Go(func() {
			last := -1
			for {
				select {
				case <-done:
					return
				default:
				}
				tok, err := src.SubjectToken(context.Background())
				if err != nil {
					errs <- fmt.Errorf("reader %d, read %d: %w", r, reads[r], err)
					return
				}
				i, ok := index[tok]
				if !ok {
					errs <- fmt.Errorf("reader %d read a token of %d bytes that was never published (torn or partial read)", r, len(tok))
					return
				}
				if i < last {
					errs <- fmt.Errorf("reader %d went back from token %d to %d", r, last, i)
					return
				}
				last = i
				reads[r]++
			}
		})
	}
	wg.Wait()
	<-done
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if writeErr != nil {
		t.Fatal(writeErr)
	}
	got, err := src.SubjectToken(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if index[got] != swaps {
		t.Errorf("after the last swap the source returned token %d, want %d", index[got], swaps)
	}
	t.Logf("%d swaps, reads per reader: %v", swaps, reads)
}
