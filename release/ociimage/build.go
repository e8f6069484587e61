// Package ociimage packs one static binary into an image tarball without a
// container daemon: an empty base, the binary at /<name>, a numeric non-root
// user, the binary as entrypoint, fixed timestamps (same binary, same
// digest). The tarball loads with `ctr -n k8s.io images import`,
// `docker load` and `kind load image-archive`.
package ociimage

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Options say what to pack.
type Options struct {
	Binary string // path of the static binary
	Ref    string // image reference, e.g. fedtoken.local/fedtoken:e2e
	Out    string // tarball path
	User   string // numeric uid[:gid]
	Arch   string // "" = runtime.GOARCH
	// Extra are more static binaries, each at /<base name> (on PATH=/),
	// e.g. a command for the entrypoint to run.
	Extra []string
}

// epoch makes the image reproducible: same binary → same digest.
var epoch = time.Unix(0, 0).UTC()

// Build writes the image tarball.
func Build(o Options) error {
	if err := checkUser(o.User); err != nil {
		return err
	}
	ref, err := name.ParseReference(o.Ref)
	if err != nil {
		return fmt.Errorf("ociimage: ref %q: %w", o.Ref, err)
	}
	bin, err := os.ReadFile(o.Binary)
	if err != nil {
		return fmt.Errorf("ociimage: binary: %w", err)
	}
	if err := checkStatic(bin); err != nil {
		return fmt.Errorf("ociimage: binary %s: %w", o.Binary, err)
	}
	base := filepath.Base(o.Binary)
	files := []file{{base, bin}}
	for _, x := range o.Extra {
		data, err := os.ReadFile(x)
		if err != nil {
			return fmt.Errorf("ociimage: extra binary: %w", err)
		}
		if err := checkStatic(data); err != nil {
			return fmt.Errorf("ociimage: binary %s: %w", x, err)
		}
		for _, f := range files {
			if f.name == filepath.Base(x) {
				return fmt.Errorf("ociimage: extra binary %s: /%s is already in the image", x, f.name)
			}
		}
		files = append(files, file{filepath.Base(x), data})
	}
	layerTar, err := layer(files)
	if err != nil {
		return err
	}
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(layerTar)), nil })
	if err != nil {
		return fmt.Errorf("ociimage: layer: %w", err)
	}
	img, err := mutate.Append(empty.Image, mutate.Addendum{Layer: l, History: v1.History{CreatedBy: "ocibuild " + base, Created: v1.Time{Time: epoch}}})
	if err != nil {
		return fmt.Errorf("ociimage: image: %w", err)
	}
	arch := o.Arch
	if arch == "" {
		arch = runtime.GOARCH
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return fmt.Errorf("ociimage: image config: %w", err)
	}
	cfg = cfg.DeepCopy()
	cfg.OS = "linux"
	cfg.Architecture = arch
	cfg.Created = v1.Time{Time: epoch}
	cfg.Config.Entrypoint = []string{"/" + base}
	cfg.Config.User = o.User
	cfg.Config.WorkingDir = "/"
	cfg.Config.Env = []string{"PATH=/"}
	cfg.Config.Labels = map[string]string{"org.opencontainers.image.title": base}
	img, err = mutate.ConfigFile(img, cfg)
	if err != nil {
		return fmt.Errorf("ociimage: image config: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(o.Out), 0o755); err != nil {
		return fmt.Errorf("ociimage: out: %w", err)
	}
	tmp := o.Out + ".tmp"
	if err := tarball.WriteToFile(tmp, ref, img); err != nil {
		return fmt.Errorf("ociimage: write %s: %w", o.Out, err)
	}
	return os.Rename(tmp, o.Out)
}

// file is one binary of the image's layer.
type file struct {
	name string
	data []byte
}

// layer is a tar with a world-writable /tmp and each file at /<name>
// (0755, root-owned).
func layer(files []file) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: "tmp/", Typeflag: tar.TypeDir, Mode: 0o1777, ModTime: epoch}); err != nil {
		return nil, fmt.Errorf("ociimage: layer: %w", err)
	}
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(f.data)), ModTime: epoch}); err != nil {
			return nil, fmt.Errorf("ociimage: layer: %w", err)
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, fmt.Errorf("ociimage: layer: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("ociimage: layer: %w", err)
	}
	return buf.Bytes(), nil
}

// checkUser accepts "uid" or "uid:gid", numeric and non-zero: an empty base
// has no /etc/passwd to resolve names, and images run as non-root.
func checkUser(u string) error {
	uid, gid, hasGID := strings.Cut(u, ":")
	parts := []string{uid}
	if hasGID {
		parts = append(parts, gid)
	}
	for _, part := range parts {
		n, err := strconv.Atoi(part)
		if err != nil || n <= 0 {
			return fmt.Errorf("ociimage: user %q: want a numeric non-root uid[:gid], e.g. 65532:65532", u)
		}
	}
	return nil
}

// checkStatic refuses ELF binaries with a program interpreter: they need a
// libc the empty base does not have (build with CGO_ENABLED=0).
func checkStatic(bin []byte) error {
	f, err := elf.NewFile(bytes.NewReader(bin))
	if err != nil {
		return fmt.Errorf("not an ELF binary: %w", err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("dynamically linked (has an ELF interpreter); build it with CGO_ENABLED=0")
		}
	}
	return nil
}
