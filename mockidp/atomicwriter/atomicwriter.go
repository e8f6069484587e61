// Package atomicwriter updates a directory of files the way the kubelet
// updates a projected volume (pkg/volume/util/atomic_writer.go), so tests
// and demos see exactly what a pod sees when its service-account token is
// rotated.
//
// Layout after a write of {"token": …}:
//
//	dir/token      -> ..data/token                   (created once, never rewritten)
//	dir/..data     -> ..2026_11_26_16_33_01.1234567  (swapped atomically)
//	dir/..2026_11_26_16_33_01.1234567/token
//
// An update writes a new timestamped directory, points the symlink
// ..data_tmp at it, renames ..data_tmp over ..data (atomic), and removes
// superseded timestamped directories. A reader that opens dir/token by path
// sees either the old or the new content, never a partial file; a reader
// that keeps the file open keeps reading the old one. Watchers should watch
// the directory for the ..data event: dir/token itself is never written.
//
// One difference from the kubelet, on purpose: the kubelet removes the
// previous directory right after the swap, so a reader whose open() read
// the old ..data target just before the swap can fail with ENOENT (measured:
// a reader looping on the file hit it within a few hundred rotations; keeping
// only the previous directory until the next write still failed under load,
// when a reader was descheduled inside open() across a whole write). This
// Writer keeps a superseded directory for Linger and removes it on a later
// write, so readers never see a missing file; set KubeletExact to reproduce
// the kubelet, and that race, exactly.
package atomicwriter

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Names of the kubelet's atomic-writer symlinks.
const (
	DataDirName    = "..data"
	newDataDirName = "..data_tmp"
)

// Writer writes payloads into Dir. It is safe for concurrent use; writes
// are serialised. Only one Writer (or kubelet) may own a directory.
type Writer struct {
	// Dir is the volume directory; it is created if missing.
	Dir string
	// Mode is the permission of the files written (default 0644).
	Mode os.FileMode
	// Linger is how long a superseded payload directory is kept; a later
	// write removes it (default DefaultLinger).
	Linger time.Duration
	// KubeletExact removes the previous payload directory right after the
	// swap, as the kubelet does, ignoring Linger.
	KubeletExact bool

	mu         sync.Mutex
	superseded map[string]time.Time // payload dir → when ..data left it
}

// DefaultLinger is how long superseded payload directories are kept.
const DefaultLinger = 2 * time.Second

// Write replaces the volume's content with files (name → content). Names
// must be plain file names. Files of the previous payload that are not in
// files disappear.
func (w *Writer) Write(files map[string][]byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(files) == 0 {
		return errors.New("atomicwriter: empty payload")
	}
	for name := range files {
		if name == "" || strings.ContainsRune(name, '/') || strings.HasPrefix(name, "..") || name == "." {
			return fmt.Errorf("atomicwriter: %q is not a plain file name", name)
		}
	}
	mode := w.Mode
	if mode == 0 {
		mode = 0o644
	}
	if err := os.MkdirAll(w.Dir, 0o755); err != nil {
		return fmt.Errorf("atomicwriter: %w", err)
	}
	dataLink := filepath.Join(w.Dir, DataDirName)
	oldTs, err := os.Readlink(dataLink)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("atomicwriter: %w", err)
	}
	var oldNames []string
	if oldTs != "" {
		entries, err := os.ReadDir(filepath.Join(w.Dir, oldTs))
		if err == nil {
			for _, e := range entries {
				oldNames = append(oldNames, e.Name())
			}
		}
	}

	tsDir, err := os.MkdirTemp(w.Dir, time.Now().UTC().Format("..2006_01_02_15_04_05."))
	if err != nil {
		return fmt.Errorf("atomicwriter: %w", err)
	}
	if err := w.fill(tsDir, files, mode); err != nil {
		_ = os.RemoveAll(tsDir)
		return err
	}

	tmpLink := filepath.Join(w.Dir, newDataDirName)
	if err := os.Remove(tmpLink); err != nil && !errors.Is(err, os.ErrNotExist) {
		_ = os.RemoveAll(tsDir)
		return fmt.Errorf("atomicwriter: %w", err)
	}
	if err := os.Symlink(filepath.Base(tsDir), tmpLink); err != nil {
		_ = os.RemoveAll(tsDir)
		return fmt.Errorf("atomicwriter: %w", err)
	}
	if err := os.Rename(tmpLink, dataLink); err != nil {
		_ = os.Remove(tmpLink)
		_ = os.RemoveAll(tsDir)
		return fmt.Errorf("atomicwriter: swap %s: %w", DataDirName, err)
	}

	for _, name := range slices.Sorted(maps.Keys(files)) {
		visible := filepath.Join(w.Dir, name)
		if _, err := os.Lstat(visible); errors.Is(err, os.ErrNotExist) {
			if err := os.Symlink(filepath.Join(DataDirName, name), visible); err != nil {
				return fmt.Errorf("atomicwriter: %w", err)
			}
		} else if err != nil {
			return fmt.Errorf("atomicwriter: %w", err)
		}
	}
	for _, name := range oldNames {
		if _, still := files[name]; !still {
			if err := os.Remove(filepath.Join(w.Dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("atomicwriter: %w", err)
			}
		}
	}
	return w.removeSuperseded(filepath.Base(tsDir), oldTs)
}

// removeSuperseded removes payload directories other than current that were
// superseded at least Linger ago (all of them with KubeletExact). A
// directory this Writer does not know, left by an earlier process, counts
// as superseded now.
func (w *Writer) removeSuperseded(current, previous string) error {
	now := time.Now()
	if w.superseded == nil {
		w.superseded = map[string]time.Time{}
	}
	if previous != "" {
		w.superseded[previous] = now
	}
	linger := w.Linger
	if linger <= 0 {
		linger = DefaultLinger
	}
	entries, err := os.ReadDir(w.Dir)
	if err != nil {
		return fmt.Errorf("atomicwriter: %w", err)
	}
	for _, e := range entries {
		n := e.Name()
		if !e.IsDir() || !strings.HasPrefix(n, "..") || n == current {
			continue
		}
		since, known := w.superseded[n]
		if !known {
			w.superseded[n], since = now, now
		}
		if !w.KubeletExact && now.Sub(since) < linger {
			continue
		}
		if err := os.RemoveAll(filepath.Join(w.Dir, n)); err != nil {
			return fmt.Errorf("atomicwriter: remove old payload: %w", err)
		}
		delete(w.superseded, n)
	}
	return nil
}

func (w *Writer) fill(tsDir string, files map[string][]byte, mode os.FileMode) error {
	if err := os.Chmod(tsDir, 0o755); err != nil {
		return fmt.Errorf("atomicwriter: %w", err)
	}
	for name, content := range files {
		p := filepath.Join(tsDir, name)
		if err := os.WriteFile(p, content, mode); err != nil {
			return fmt.Errorf("atomicwriter: %w", err)
		}
		if err := os.Chmod(p, mode); err != nil { // WriteFile's mode is masked by umask
			return fmt.Errorf("atomicwriter: %w", err)
		}
	}
	return nil
}
