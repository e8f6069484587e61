package sink

import (
	"fmt"
	"os"
	"path/filepath"
)

// File is a token file. The zero UID and GID mean root; use -1 to leave
// ownership to the process's own uid/gid.
type File struct {
	// Path is where the token is written.
	Path string
	// Mode is the file's permission bits (e.g. 0o640).
	Mode os.FileMode
	// UID and GID, when not -1, are applied with chown (the sidecar needs
	// CAP_CHOWN to give the file to another user; group ownership via a
	// pod fsGroup usually makes this unnecessary).
	UID, GID int
}

// Write atomically replaces the file's contents with data: it writes a
// temporary file in the same directory, sets its mode and owner, syncs it,
// renames it over Path and syncs the directory.
func (f File) Write(data []byte) (err error) {
	dir, base := filepath.Split(f.Path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("sink %s: %w", f.Path, err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(f.Mode.Perm()); err != nil {
		return fmt.Errorf("sink %s: chmod: %w", f.Path, err)
	}
	if f.UID != -1 || f.GID != -1 {
		if err := tmp.Chown(f.UID, f.GID); err != nil {
			return fmt.Errorf("sink %s: chown %d:%d: %w", f.Path, f.UID, f.GID, err)
		}
	}
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("sink %s: write: %w", f.Path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("sink %s: fsync: %w", f.Path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("sink %s: close: %w", f.Path, err)
	}
	if err := os.Rename(tmp.Name(), f.Path); err != nil {
		return fmt.Errorf("sink %s: rename: %w", f.Path, err)
	}
	syncDir(dir)
	return nil
}

// syncDir makes the rename durable. It is best effort: some file systems
// refuse to sync a directory, and the token is rewritten anyway.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}
