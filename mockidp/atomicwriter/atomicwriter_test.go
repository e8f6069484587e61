package atomicwriter_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fedtoken/fedtoken/mockidp/atomicwriter"
)

var tsDirRE = regexp.MustCompile(`^\.\.\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}\.\d+$`)

// layout returns the target of ..data and the timestamped directories.
func layout(t *testing.T, dir string) (data string, tsDirs []string) {
	t.Helper()
	data, err := os.Readlink(filepath.Join(dir, atomicwriter.DataDirName))
	if err != nil {
		t.Fatalf("..data: %v", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		switch {
		case tsDirRE.MatchString(e.Name()):
			tsDirs = append(tsDirs, e.Name())
		case e.Name() == "..data_tmp":
			t.Fatalf("..data_tmp left behind")
		}
	}
	return data, tsDirs
}

func TestWriteLayout(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tokens")
	w := &atomicwriter.Writer{Dir: dir, Linger: time.Nanosecond}
	if err := w.Write(map[string][]byte{"token": []byte("one"), "ca.crt": []byte("ca")}); err != nil {
		t.Fatal(err)
	}
	data1, ts := layout(t, dir)
	if len(ts) != 1 || ts[0] != data1 {
		t.Fatalf("..data -> %q, timestamped dirs %v", data1, ts)
	}
	for name, want := range map[string]string{"token": "one", "ca.crt": "ca"} {
		target, err := os.Readlink(filepath.Join(dir, name))
		if err != nil || target != filepath.Join("..data", name) {
			t.Fatalf("%s -> %q (%v), want ..data/%s", name, target, err, name)
		}
		if got, _ := os.ReadFile(filepath.Join(dir, name)); string(got) != want {
			t.Fatalf("%s = %q", name, got)
		}
	}
	fi, err := os.Stat(filepath.Join(dir, "token"))
	if err != nil || fi.Mode().Perm() != 0o644 {
		t.Fatalf("mode = %v (%v)", fi.Mode(), err)
	}

	// An update swaps ..data, keeps the visible symlinks, drops files no
	// longer in the payload and removes the old directory.
	tokenLink, _ := os.Lstat(filepath.Join(dir, "token"))
	if err := w.Write(map[string][]byte{"token": []byte("two"), "namespace": []byte("ai-jobs")}); err != nil {
		t.Fatal(err)
	}
	data2, ts := layout(t, dir)
	if data2 == data1 || len(ts) != 2 {
		t.Fatalf("after update: ..data -> %q (was %q), dirs %v; want the new and the previous one", data2, data1, ts)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "token")); string(got) != "two" {
		t.Fatalf("token = %q", got)
	}
	if after, _ := os.Lstat(filepath.Join(dir, "token")); !os.SameFile(tokenLink, after) {
		t.Fatal("the visible token symlink was rewritten; the kubelet never touches it")
	}
	if _, err := os.Lstat(filepath.Join(dir, "ca.crt")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("ca.crt should be gone: %v", err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "namespace")); string(got) != "ai-jobs" {
		t.Fatalf("namespace = %q", got)
	}
	if err := w.Write(map[string][]byte{"token": []byte("three")}); err != nil {
		t.Fatal(err)
	}
	data3, ts := layout(t, dir)
	if len(ts) != 2 || !slices.Contains(ts, data2) || !slices.Contains(ts, data3) {
		t.Fatalf("after a third write: dirs %v, want %s and %s", ts, data2, data3)
	}
	if _, err := os.Stat(filepath.Join(dir, data1)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("payload dir %s of two writes ago still there: %v", data1, err)
	}
}

func TestKubeletExactRemovesAtOnce(t *testing.T) {
	dir := t.TempDir()
	w := &atomicwriter.Writer{Dir: dir, KubeletExact: true}
	for _, c := range []string{"one", "two", "three"} {
		if err := w.Write(map[string][]byte{"token": []byte(c)}); err != nil {
			t.Fatal(err)
		}
		if data, ts := layout(t, dir); len(ts) != 1 || ts[0] != data {
			t.Fatalf("after %s: ..data -> %s, dirs %v", c, data, ts)
		}
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "token")); string(got) != "three" {
		t.Fatalf("token = %q", got)
	}
}

func TestWriteRejectsBadNames(t *testing.T) {
	w := &atomicwriter.Writer{Dir: t.TempDir()}
	for _, name := range []string{"", "a/b", "..data", ".."} {
		if err := w.Write(map[string][]byte{name: []byte("x")}); err == nil || !strings.Contains(err.Error(), "not a plain file name") {
			t.Errorf("%q: err = %v", name, err)
		}
	}
	if err := w.Write(nil); err == nil {
		t.Error("empty payload accepted")
	}
}

// TestReaderNeverSeesPartialToken loops a reader on the visible path while
// the writer rotates; every read must be one complete payload.
func TestReaderNeverSeesPartialToken(t *testing.T) {
	dir := t.TempDir()
	w := &atomicwriter.Writer{Dir: dir}
	payload := func(gen int) []byte {
		head := fmt.Sprintf("gen-%06d:", gen)
		return []byte(head + strings.Repeat("x", 16<<10) + ":end")
	}
	if err := w.Write(map[string][]byte{"token": payload(0)}); err != nil {
		t.Fatal(err)
	}
	const rotations = 300
	done := make(chan struct{})
	var reads int
	var readErr error
	var wg sync.WaitGroup
	wg.Go(func() {
		last := -1
		for {
			select {
			case <-done:
				return
			default:
			}
			b, err := os.ReadFile(filepath.Join(dir, "token"))
			if err != nil {
				readErr = fmt.Errorf("read %d: %w", reads, err)
				return
			}
			var gen int
			if len(b) != len(payload(0)) || !bytes.HasSuffix(b, []byte(":end")) || !bytes.Equal(bytes.Trim(b[11:len(b)-4], "x"), nil) {
				readErr = fmt.Errorf("read %d: partial payload of %d bytes", reads, len(b))
				return
			}
			if _, err := fmt.Sscanf(string(b[:10]), "gen-%06d", &gen); err != nil || gen < last {
				readErr = fmt.Errorf("read %d: generation %d after %d (%v)", reads, gen, last, err)
				return
			}
			last = gen
			reads++
		}
	})
	for i := 1; i <= rotations; i++ {
		if err := w.Write(map[string][]byte{"token": payload(i)}); err != nil {
			close(done)
			wg.Wait()
			t.Fatal(err)
		}
	}
	close(done)
	wg.Wait()
	if readErr != nil {
		t.Fatal(readErr)
	}
	if reads == 0 {
		t.Fatal("the reader never read")
	}
	if data, ts := layout(t, dir); !slices.Contains(ts, data) {
		t.Fatalf("..data -> %s, not one of %v", data, ts)
	}
	t.Logf("%d reads during %d rotations", reads, rotations)
}
