package modproxy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Session is a proxy of the working tree plus a private module cache, for
// running the go command on one module at a time with GOWORK=off. The
// private cache matters: the working tree is published under versions (e.g.
// core v0.1.0) that must never land in the user's module cache, where a
// later run would find them stale.
type Session struct {
	Dir       string // temporary directory
	Proxy     string // the file proxy (Dir/proxy)
	ModCache  string // the private GOMODCACHE
	Published Published
	Modules   []Module
	goEnv     map[string]string
	unlock    func()
}

// Start publishes the workspace of goWork into a new temporary proxy (see
// Write for version).
//
// With persistent true the private module cache is kept between sessions
// of the same workspace (in the user's cache directory, locked while in
// use, our own modules removed at the start), so the build cache keeps
// hitting for third-party packages; otherwise it is temporary.
func Start(goWork, version string, persistent bool) (*Session, error) {
	mods, err := Workspace(goWork)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "fedtoken-modproxy-")
	if err != nil {
		return nil, fmt.Errorf("modproxy: %w", err)
	}
	s := &Session{Dir: dir, Proxy: filepath.Join(dir, "proxy"), ModCache: filepath.Join(dir, "modcache"), Modules: mods, unlock: func() {}}
	if s.goEnv, err = goEnv("GOPROXY", "GOMODCACHE", "GOFLAGS", "GONOSUMDB"); err != nil {
		s.Close()
		return nil, err
	}
	if persistent {
		if err := s.persistentCache(goWork); err != nil {
			s.Close()
			return nil, err
		}
	}
	// The time in .info files; fixed so the proxy is the same for the same tree.
	if s.Published, err = Write(s.Proxy, mods, version, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Ours reports whether path is a module of the workspace.
func (s *Session) Ours(path string) bool {
	return slices.ContainsFunc(s.Modules, func(m Module) bool { return m.Path == path })
}

// GOPROXY is the proxy list: the working tree first, then the modules
// already in the user's module cache (no network), then the user's own
// GOPROXY for anything else.
func (s *Session) GOPROXY() string {
	list := []string{"file://" + filepath.ToSlash(s.Proxy)}
	if mc := s.goEnv["GOMODCACHE"]; mc != "" {
		list = append(list, "file://"+filepath.ToSlash(filepath.Join(mc, "cache", "download")))
	}
	if p := s.goEnv["GOPROXY"]; p != "" && p != "off" {
		list = append(list, p)
	}
	return strings.Join(list, ",")
}

// Env returns base with the variables that make the go command resolve our
// modules from the proxy: GOWORK=off, GOPROXY, GOMODCACHE, GONOSUMDB (our
// modules are not in the checksum database; their go.sum lines come from
// the proxy), GOFLAGS plus extraFlags, and GODEBUG with goindex=0: the go
// command indexes a module-cache directory once, by its path, as if its
// contents could never change, while a persistent session cache holds our
// modules at the same path and version with new contents each time (a
// package added to core was "not found" by the next session).
func (s *Session) Env(base []string, extraFlags ...string) []string {
	nosum := s.Modules[0].Path
	for _, m := range s.Modules[1:] {
		nosum = commonPrefix(nosum, m.Path)
	}
	if v := s.goEnv["GONOSUMDB"]; v != "" {
		nosum = v + "," + nosum
	}
	flags := strings.TrimSpace(strings.Join(append([]string{s.goEnv["GOFLAGS"], "-modcacherw"}, extraFlags...), " "))
	godebug := "goindex=0"
	for _, kv := range base {
		if v, ok := strings.CutPrefix(kv, "GODEBUG="); ok && v != "" {
			godebug = v + "," + godebug
		}
	}
	env := slices.DeleteFunc(slices.Clone(base), func(kv string) bool {
		k, _, _ := strings.Cut(kv, "=")
		return slices.Contains([]string{"GOWORK", "GOPROXY", "GOMODCACHE", "GONOSUMDB", "GOFLAGS", "GODEBUG"}, k)
	})
	return append(env, "GOWORK=off", "GOPROXY="+s.GOPROXY(), "GOMODCACHE="+s.ModCache, "GONOSUMDB="+nosum, "GOFLAGS="+flags, "GODEBUG="+godebug)
}

// ModFile writes a copy of m's go.mod and go.sum, the go.sum completed with
// the lines of our published modules, into the session and returns the
// copy's go.mod path, for `go … -modfile`: the module is checked exactly as
// committed (-mod=readonly) without writing into the working tree.
func (s *Session) ModFile(m Module) (string, error) {
	dir := filepath.Join(s.Dir, "modfiles", filepath.Base(m.Dir))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("modproxy: %w", err)
	}
	gomod, err := os.ReadFile(filepath.Join(m.Dir, "go.mod"))
	if err != nil {
		return "", fmt.Errorf("modproxy: %w", err)
	}
	gosum, err := os.ReadFile(filepath.Join(m.Dir, "go.sum"))
	if err != nil && !os.IsNotExist(err) {
		return "", fmt.Errorf("modproxy: %w", err)
	}
	sum := string(gosum) + strings.Join(s.Published.Sums, "\n") + "\n"
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), gomod, 0o644); err != nil {
		return "", fmt.Errorf("modproxy: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.sum"), []byte(sum), 0o644); err != nil {
		return "", fmt.Errorf("modproxy: %w", err)
	}
	return filepath.Join(dir, "go.mod"), nil
}

// StripSums removes the lines of our own modules from m's go.sum: they
// change with every edit of the working tree, and go.work needs none.
func (s *Session) StripSums(m Module) error {
	p := filepath.Join(m.Dir, "go.sum")
	data, err := os.ReadFile(p)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("modproxy: %w", err)
	}
	var keep []string
	for _, line := range strings.SplitAfter(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 0 && s.Ours(f[0]) {
			continue
		}
		keep = append(keep, line)
	}
	out := strings.Join(keep, "")
	if out == string(data) {
		return nil
	}
	if out == "" {
		return os.Remove(p)
	}
	return os.WriteFile(p, []byte(out), 0o644)
}

// persistentCache points ModCache at the workspace's own cache directory,
// locks it and removes our modules from it.
func (s *Session) persistentCache(goWork string) error {
	base, err := os.UserCacheDir()
	if err != nil {
		return fmt.Errorf("modproxy: %w", err)
	}
	abs, err := filepath.Abs(goWork)
	if err != nil {
		return fmt.Errorf("modproxy: %w", err)
	}
	sum := sha256.Sum256([]byte(abs))
	s.ModCache = filepath.Join(base, "fedtoken", "gowork-off-modcache-"+hex.EncodeToString(sum[:6]))
	if err := os.MkdirAll(s.ModCache, 0o755); err != nil {
		return fmt.Errorf("modproxy: %w", err)
	}
	if s.unlock, err = lock(s.ModCache + ".lock"); err != nil {
		return fmt.Errorf("modproxy: lock %s: %w", s.ModCache, err)
	}
	for _, m := range s.Modules {
		esc := filepath.FromSlash(strings.ToLower(m.Path)) // fine for our lower-case paths
		for _, d := range []string{filepath.Join(s.ModCache, esc+"@*"), filepath.Join(s.ModCache, "cache", "download", esc, "@v")} {
			matches, _ := filepath.Glob(d)
			for _, p := range matches {
				if err := removeAll(p); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func removeAll(p string) error {
	_ = filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(q, 0o755)
		}
		return nil
	})
	if err := os.RemoveAll(p); err != nil {
		return fmt.Errorf("modproxy: %w", err)
	}
	return nil
}

// Close removes the temporary directory.
func (s *Session) Close() error {
	defer s.unlock()
	// Module caches are read-only unless -modcacherw was in effect.
	return removeAll(s.Dir)
}

func goEnv(keys ...string) (map[string]string, error) {
	out, err := exec.Command("go", append([]string{"env"}, keys...)...).Output()
	if err != nil {
		return nil, fmt.Errorf("modproxy: go env: %w", err)
	}
	lines := strings.Split(string(bytes.TrimRight(out, "\n")), "\n")
	env := map[string]string{}
	for i, k := range keys {
		if i < len(lines) {
			env[k] = lines[i]
		}
	}
	return env, nil
}

// commonPrefix is the longest common path prefix (whole elements) of a and b.
func commonPrefix(a, b string) string {
	as, bs := strings.Split(a, "/"), strings.Split(b, "/")
	n := 0
	for n < len(as) && n < len(bs) && as[n] == bs[n] {
		n++
	}
	return strings.Join(as[:n], "/")
}
