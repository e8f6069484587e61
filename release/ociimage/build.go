// Package ociimage packs static binaries into images without a container
// daemon — the one builder of the project's images, for the e2e (`make
// images`: a single-platform tarball) and for releases (`make
// release-snapshot`: a multi-arch index in an OCI layout, pushed by the
// release workflow). An image is: an empty base, the binary at /<name> as
// entrypoint, a CA bundle at /etc/ssl/certs/ca-certificates.crt (where Go
// looks first on Linux), /etc/passwd and /etc/group naming the non-root
// user, a world-writable /tmp, OCI labels, and fixed timestamps — the same
// inputs give the same digest. The tarball loads with `ctr -n k8s.io images
// import`, `docker load` and `kind load image-archive`. The Dockerfiles in
// cli/ and sidecar/ build the same file system.
package ociimage

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// CABundlePath is where the image holds its root certificates.
const CABundlePath = "/etc/ssl/certs/ca-certificates.crt"

// Options say what to pack.
type Options struct {
	Binary string // path of the static binary
	Name   string // its name in the image, /<Name> ("" = the file's base name)
	Ref    string // image reference, e.g. fedtoken.local/fedtoken:e2e (Build only)
	Out    string // tarball path (Build only)
	User   string // numeric uid[:gid]
	Arch   string // "" = the binary's own (from its ELF header)
	// Extra are more static binaries, each at /<base name> (on PATH=/),
	// e.g. a command for the entrypoint to run.
	Extra []string
	// CABundle is a PEM file of root certificates put at CABundlePath
	// ("" = none: only for images that never make a TLS connection).
	CABundle string
	// Labels are added to the image config (org.opencontainers.image.title
	// is always the binary's name).
	Labels map[string]string
	// Env is added to PATH=/.
	Env []string
	// Created is the time recorded in the image (zero = the Unix epoch);
	// release builds use the commit time.
	Created time.Time
}

// epoch makes the image reproducible: same binary → same digest.
var epoch = time.Unix(0, 0).UTC()

// Build writes the image tarball o.Out tagged o.Ref.
func Build(o Options) error {
	ref, err := name.ParseReference(o.Ref)
	if err != nil {
		return fmt.Errorf("ociimage: ref %q: %w", o.Ref, err)
	}
	img, err := Image(o)
	if err != nil {
		return err
	}
	return writeTarball(o.Out, ref, img)
}

// writeTarball writes img as a docker-archive tarball tagged ref, atomically
// (a reader never sees a half-written file at out).
func writeTarball(out string, ref name.Reference, img v1.Image) error {
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return fmt.Errorf("ociimage: out: %w", err)
	}
	tmp := out + ".tmp"
	if err := tarball.WriteToFile(tmp, ref, img); err != nil {
		return fmt.Errorf("ociimage: write %s: %w", out, err)
	}
	return os.Rename(tmp, out)
}

// Image builds the image in memory.
func Image(o Options) (v1.Image, error) {
	uid, gid, err := checkUser(o.User)
	if err != nil {
		return nil, err
	}
	bin, err := os.ReadFile(o.Binary)
	if err != nil {
		return nil, fmt.Errorf("ociimage: binary: %w", err)
	}
	binArch, err := checkStatic(bin)
	if err != nil {
		return nil, fmt.Errorf("ociimage: binary %s: %w", o.Binary, err)
	}
	arch := o.Arch
	if arch == "" {
		arch = binArch
	}
	if arch != binArch {
		return nil, fmt.Errorf("ociimage: binary %s is for %s, not %s", o.Binary, binArch, arch)
	}
	base := o.Name
	if base == "" {
		base = filepath.Base(o.Binary)
	}
	files := []file{{name: base, data: bin, mode: 0o755}}
	for _, x := range o.Extra {
		data, err := os.ReadFile(x)
		if err != nil {
			return nil, fmt.Errorf("ociimage: extra binary: %w", err)
		}
		if xa, err := checkStatic(data); err != nil || xa != arch {
			if err == nil {
				err = fmt.Errorf("is for %s, not %s", xa, arch)
			}
			return nil, fmt.Errorf("ociimage: binary %s: %w", x, err)
		}
		for _, f := range files {
			if f.name == filepath.Base(x) {
				return nil, fmt.Errorf("ociimage: extra binary %s: /%s is already in the image", x, f.name)
			}
		}
		files = append(files, file{name: filepath.Base(x), data: data, mode: 0o755})
	}
	if o.CABundle != "" {
		pem, err := os.ReadFile(o.CABundle)
		if err != nil {
			return nil, fmt.Errorf("ociimage: CA bundle: %w", err)
		}
		if !bytes.Contains(pem, []byte("-----BEGIN CERTIFICATE-----")) {
			return nil, fmt.Errorf("ociimage: CA bundle %s holds no PEM certificate", o.CABundle)
		}
		files = append(files, file{name: strings.TrimPrefix(CABundlePath, "/"), data: pem, mode: 0o644})
	}
	files = append(files,
		file{name: "etc/passwd", data: fmt.Appendf(nil, "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%d:%d:nonroot:/tmp:/sbin/nologin\n", uid, gid), mode: 0o644},
		file{name: "etc/group", data: fmt.Appendf(nil, "root:x:0:\nnonroot:x:%d:\n", gid), mode: 0o644},
	)
	layerTar, err := layer(files)
	if err != nil {
		return nil, err
	}
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(layerTar)), nil },
		tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("ociimage: layer: %w", err)
	}
	created := epoch
	if !o.Created.IsZero() {
		created = o.Created.UTC()
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.Append(img, mutate.Addendum{Layer: l, MediaType: types.OCILayer, History: v1.History{CreatedBy: "ocibuild " + base, Created: v1.Time{Time: created}}})
	if err != nil {
		return nil, fmt.Errorf("ociimage: image: %w", err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("ociimage: image config: %w", err)
	}
	cfg = cfg.DeepCopy()
	cfg.OS = "linux"
	cfg.Architecture = arch
	cfg.Created = v1.Time{Time: created}
	cfg.Config.Entrypoint = []string{"/" + base}
	cfg.Config.User = o.User
	cfg.Config.WorkingDir = "/"
	cfg.Config.Env = append([]string{"PATH=/"}, o.Env...)
	labels := maps.Clone(o.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels["org.opencontainers.image.title"] = base
	cfg.Config.Labels = labels
	img, err = mutate.ConfigFile(img, cfg)
	if err != nil {
		return nil, fmt.Errorf("ociimage: image config: %w", err)
	}
	return img, nil
}

// Index is a multi-platform image index over imgs (linux/<arch> each, in
// the order given), annotated with the first image's labels.
func Index(imgs []v1.Image) (v1.ImageIndex, error) {
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	var adds []mutate.IndexAddendum
	for _, img := range imgs {
		cfg, err := img.ConfigFile()
		if err != nil {
			return nil, fmt.Errorf("ociimage: index: %w", err)
		}
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{
			MediaType: types.OCIManifestSchema1,
			Platform:  &v1.Platform{OS: cfg.OS, Architecture: cfg.Architecture},
		}})
	}
	idx = mutate.AppendManifests(idx, adds...)
	if len(imgs) > 0 {
		cfg, err := imgs[0].ConfigFile()
		if err != nil {
			return nil, fmt.Errorf("ociimage: index: %w", err)
		}
		idx = mutate.Annotations(idx, cfg.Config.Labels).(v1.ImageIndex)
	}
	return idx, nil
}

// WriteLayout writes idx as an OCI image layout into dir (replaced).
func WriteLayout(dir string, idx v1.ImageIndex) error {
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("ociimage: layout: %w", err)
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return fmt.Errorf("ociimage: layout %s: %w", dir, err)
	}
	if err := p.AppendIndex(idx); err != nil {
		return fmt.Errorf("ociimage: layout %s: %w", dir, err)
	}
	return nil
}

// ReadLayout returns the image index that WriteLayout wrote into dir.
func ReadLayout(dir string) (v1.ImageIndex, error) {
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("ociimage: layout %s: %w", dir, err)
	}
	outer, err := p.ImageIndex()
	if err != nil {
		return nil, fmt.Errorf("ociimage: layout %s: %w", dir, err)
	}
	m, err := outer.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("ociimage: layout %s: %w", dir, err)
	}
	if len(m.Manifests) != 1 || !m.Manifests[0].MediaType.IsIndex() {
		return nil, fmt.Errorf("ociimage: layout %s: want one image index, found %d entries", dir, len(m.Manifests))
	}
	return outer.ImageIndex(m.Manifests[0].Digest)
}

// Files returns the regular files of img's file system by path (without
// the leading slash).
func Files(img v1.Image) (map[string][]byte, error) {
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	files := map[string][]byte{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files, nil
		}
		if err != nil {
			return nil, fmt.Errorf("ociimage: read image: %w", err)
		}
		if h.Typeflag == tar.TypeReg {
			data, err := io.ReadAll(tr)
			if err != nil {
				return nil, fmt.Errorf("ociimage: read image: %w", err)
			}
			files[strings.TrimPrefix(h.Name, "/")] = data
		}
	}
}

// file is one binary of the image's layer.
type file struct {
	name string // relative to /
	data []byte
	mode int64
}

// layer is a tar with a world-writable /tmp and each file at /<name>
// (root-owned), parent directories first, sorted: the same files give the
// same bytes.
func layer(files []file) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: "tmp/", Typeflag: tar.TypeDir, Mode: 0o1777, ModTime: epoch}); err != nil {
		return nil, fmt.Errorf("ociimage: layer: %w", err)
	}
	slices.SortFunc(files, func(a, b file) int { return strings.Compare(a.name, b.name) })
	dirs := map[string]bool{}
	for _, f := range files {
		var parents []string
		for d := filepath.Dir(f.name); d != "." && !dirs[d]; d = filepath.Dir(d) {
			parents = append(parents, d)
			dirs[d] = true
		}
		slices.Reverse(parents)
		for _, d := range parents {
			if err := tw.WriteHeader(&tar.Header{Name: d + "/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: epoch}); err != nil {
				return nil, fmt.Errorf("ociimage: layer: %w", err)
			}
		}
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Typeflag: tar.TypeReg, Mode: f.mode, Size: int64(len(f.data)), ModTime: epoch}); err != nil {
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

// checkUser accepts "uid" or "uid:gid", numeric and non-zero (images run
// as non-root; numeric so runtimes need not resolve a name), and returns
// uid and gid (= uid when absent).
func checkUser(u string) (uid, gid int, err error) {
	us, gs, hasGID := strings.Cut(u, ":")
	if !hasGID {
		gs = us
	}
	uid, err1 := strconv.Atoi(us)
	gid, err2 := strconv.Atoi(gs)
	if err1 != nil || err2 != nil || uid <= 0 || gid <= 0 {
		return 0, 0, fmt.Errorf("ociimage: user %q: want a numeric non-root uid[:gid], e.g. 65532:65532", u)
	}
	return uid, gid, nil
}

// checkStatic refuses ELF binaries with a program interpreter: they need a
// libc the empty base does not have (build with CGO_ENABLED=0). It returns
// the binary's architecture.
func checkStatic(bin []byte) (string, error) {
	f, err := elf.NewFile(bytes.NewReader(bin))
	if err != nil {
		return "", fmt.Errorf("not an ELF binary: %w", err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return "", fmt.Errorf("dynamically linked (has an ELF interpreter); build it with CGO_ENABLED=0")
		}
	}
	return ELFArch(f.Machine)
}

// ELFArch is the Go architecture name of an ELF machine.
func ELFArch(m elf.Machine) (string, error) {
	switch m {
	case elf.EM_X86_64:
		return "amd64", nil
	case elf.EM_AARCH64:
		return "arm64", nil
	}
	return "", fmt.Errorf("ELF machine %v: only amd64 and arm64 images are built", m)
}
