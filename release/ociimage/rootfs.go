package ociimage

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// DynamicOptions say what to pack into an image for a dynamically linked
// program (such as opencode's Bun-built binary): no base image can be
// pulled, so the program's ELF interpreter and shared libraries are taken
// from the host, at the paths the program looks for them.
type DynamicOptions struct {
	Ref  string // image reference
	Out  string // tarball path
	User string // numeric uid[:gid]
	// Files maps a path in the image (e.g. /usr/local/bin/opencode) to the
	// host file to copy there; ELF files among them bring their libraries.
	Files map[string]string
	// Entrypoint and Env of the image config; PATH defaults to
	// /usr/local/bin:/usr/bin:/bin:/.
	Entrypoint []string
	Env        []string
	// LibDirs are searched for DT_NEEDED libraries; default the Debian
	// multiarch and plain lib directories.
	LibDirs []string
}

// defaultLibDirs are where Debian keeps glibc for amd64 and arm64.
var defaultLibDirs = []string{
	"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
	"/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
	"/lib64", "/lib", "/usr/lib",
}

// BuildDynamic writes the image tarball: o.Files, every ELF interpreter
// and library they need (transitively), a world-writable /tmp.
func BuildDynamic(o DynamicOptions) error {
	if _, _, err := checkUser(o.User); err != nil {
		return err
	}
	ref, err := name.ParseReference(o.Ref)
	if err != nil {
		return fmt.Errorf("ociimage: ref %q: %w", o.Ref, err)
	}
	dirs := o.LibDirs
	if len(dirs) == 0 {
		dirs = defaultLibDirs
	}
	files := map[string]string{} // image path → host path
	for dst, src := range o.Files {
		files[path.Clean("/"+dst)] = src
	}
	// Resolve libraries breadth-first over every ELF file.
	queue := slices.Sorted(maps.Keys(files))
	for len(queue) > 0 {
		dst := queue[0]
		queue = queue[1:]
		deps, err := elfDeps(files[dst], dirs)
		if err != nil {
			return fmt.Errorf("ociimage: %s: %w", files[dst], err)
		}
		for ddst, dsrc := range deps {
			if _, ok := files[ddst]; !ok {
				files[ddst] = dsrc
				queue = append(queue, ddst)
			}
		}
	}
	layerTar, err := rootfsLayer(files)
	if err != nil {
		return err
	}
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(layerTar)), nil })
	if err != nil {
		return fmt.Errorf("ociimage: layer: %w", err)
	}
	img, err := mutate.Append(empty.Image, mutate.Addendum{Layer: l, History: v1.History{CreatedBy: "ociimage dynamic", Created: v1.Time{Time: epoch}}})
	if err != nil {
		return fmt.Errorf("ociimage: image: %w", err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return fmt.Errorf("ociimage: image config: %w", err)
	}
	cfg = cfg.DeepCopy()
	cfg.OS = "linux"
	cfg.Architecture = runtime.GOARCH
	cfg.Created = v1.Time{Time: epoch}
	cfg.Config.Entrypoint = o.Entrypoint
	cfg.Config.User = o.User
	cfg.Config.WorkingDir = "/"
	cfg.Config.Env = o.Env
	if !slices.ContainsFunc(o.Env, func(e string) bool { return strings.HasPrefix(e, "PATH=") }) {
		cfg.Config.Env = append([]string{"PATH=/usr/local/bin:/usr/bin:/bin:/"}, o.Env...)
	}
	img, err = mutate.ConfigFile(img, cfg)
	if err != nil {
		return fmt.Errorf("ociimage: image config: %w", err)
	}
	return writeTarball(o.Out, ref, img)
}

// elfDeps returns the interpreter and DT_NEEDED libraries of the ELF file
// at src (none when it is not ELF), as image path → host path. A library
// lands at <dir>/<soname> for the first lib dir holding it; the
// interpreter at its own absolute path.
func elfDeps(src string, dirs []string) (map[string]string, error) {
	f, err := elf.Open(src)
	if err != nil {
		return nil, nil // not ELF: a data file
	}
	defer f.Close()
	out := map[string]string{}
	for _, p := range f.Progs {
		if p.Type != elf.PT_INTERP {
			continue
		}
		b, err := io.ReadAll(p.Open())
		if err != nil {
			return nil, err
		}
		interp := strings.TrimRight(string(b), "\x00")
		out[interp] = interp
	}
	libs, err := f.ImportedLibraries()
	if err != nil {
		return nil, err
	}
	for _, lib := range libs {
		found := false
		for _, d := range dirs {
			p := filepath.Join(d, lib)
			if _, err := os.Stat(p); err == nil {
				out[path.Join(d, lib)] = p
				found = true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("needs %s, not found in %s", lib, strings.Join(dirs, ", "))
		}
	}
	return out, nil
}

// rootfsLayer tars files (symlinks followed: the content is copied) with
// their parent directories and a world-writable /tmp.
func rootfsLayer(files map[string]string) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{"tmp": true}
	if err := tw.WriteHeader(&tar.Header{Name: "tmp/", Typeflag: tar.TypeDir, Mode: 0o1777, ModTime: epoch}); err != nil {
		return nil, fmt.Errorf("ociimage: layer: %w", err)
	}
	for _, dst := range slices.Sorted(maps.Keys(files)) {
		rel := strings.TrimPrefix(dst, "/")
		var parents []string
		for d := path.Dir(rel); d != "." && !dirs[d]; d = path.Dir(d) {
			parents = append(parents, d)
			dirs[d] = true
		}
		for i := len(parents) - 1; i >= 0; i-- {
			if err := tw.WriteHeader(&tar.Header{Name: parents[i] + "/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: epoch}); err != nil {
				return nil, fmt.Errorf("ociimage: layer: %w", err)
			}
		}
		data, err := os.ReadFile(files[dst])
		if err != nil {
			return nil, fmt.Errorf("ociimage: %w", err)
		}
		if err := tw.WriteHeader(&tar.Header{Name: rel, Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(data)), ModTime: epoch}); err != nil {
			return nil, fmt.Errorf("ociimage: layer: %w", err)
		}
		if _, err := tw.Write(data); err != nil {
			return nil, fmt.Errorf("ociimage: layer: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("ociimage: layer: %w", err)
	}
	return buf.Bytes(), nil
}
