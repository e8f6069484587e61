// Package nodeimage builds what the kind node image carries besides its
// Debian root filesystem: the images of the control-plane components that
// kubeadm runs as static pods (kube-apiserver, kube-controller-manager,
// kube-scheduler, etcd), written without a container daemon.
//
// The Kubernetes and etcd binaries of the e2e cache are linked against the
// build machine's C library (the Kubernetes build uses cgo), so each image
// carries the binary at /usr/local/bin/<name> plus the shared objects ldd
// names for it (the node's Debian is the same release as the build host's),
// runs as root as kubeadm's static pods expect, and has the binary's
// directory on PATH: kubeadm's manifests start the command by name.
package nodeimage

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// epoch keeps images reproducible: same inputs, same digest.
var epoch = time.Unix(0, 0).UTC()

// ComponentOptions say what to pack.
type ComponentOptions struct {
	Binary string // the component's binary; its base name is the command
	Ref    string // e.g. registry.k8s.io/kube-apiserver:v1.34.3
	Out    string // image tarball to write
}

// BinDir is where the component's binary lives in the image (on PATH).
const BinDir = "/usr/local/bin"

// BuildComponent writes the image tarball for one control-plane component.
func BuildComponent(o ComponentOptions) error {
	ref, err := name.ParseReference(o.Ref)
	if err != nil {
		return fmt.Errorf("nodeimage: ref %q: %w", o.Ref, err)
	}
	libs, err := SharedLibraries(o.Binary)
	if err != nil {
		return err
	}
	base := filepath.Base(o.Binary)
	files := map[string]string{path.Join(BinDir, base)[1:]: o.Binary}
	for _, l := range libs {
		files[strings.TrimPrefix(l, "/")] = l
	}
	layerTar, err := layer(files)
	if err != nil {
		return err
	}
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(layerTar)), nil })
	if err != nil {
		return fmt.Errorf("nodeimage: layer: %w", err)
	}
	img, err := mutate.Append(empty.Image, mutate.Addendum{Layer: l, History: v1.History{CreatedBy: "nodeimage " + base, Created: v1.Time{Time: epoch}}})
	if err != nil {
		return fmt.Errorf("nodeimage: image: %w", err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return fmt.Errorf("nodeimage: config: %w", err)
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture, cfg.Created = "linux", runtime.GOARCH, v1.Time{Time: epoch}
	cfg.Config.Cmd = []string{base}
	cfg.Config.User = "0"
	cfg.Config.WorkingDir = "/"
	cfg.Config.Env = []string{"PATH=" + BinDir + ":/usr/bin:/bin"}
	cfg.Config.Labels = map[string]string{"org.opencontainers.image.title": base}
	if img, err = mutate.ConfigFile(img, cfg); err != nil {
		return fmt.Errorf("nodeimage: config: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(o.Out), 0o755); err != nil {
		return fmt.Errorf("nodeimage: out: %w", err)
	}
	tmp := o.Out + ".tmp"
	if err := tarball.WriteToFile(tmp, ref, img); err != nil {
		return fmt.Errorf("nodeimage: write %s: %w", o.Out, err)
	}
	return os.Rename(tmp, o.Out)
}

var lddPath = regexp.MustCompile(`(?:=>\s*)?(/\S+)\s+\(0x[0-9a-f]+\)`)

// SharedLibraries lists the shared objects (and the ELF interpreter) a
// dynamically linked binary loads, as ldd resolves them; none for a static
// binary.
func SharedLibraries(binary string) ([]string, error) {
	out, err := exec.Command("ldd", binary).CombinedOutput()
	if err != nil {
		if strings.Contains(string(out), "not a dynamic executable") {
			return nil, nil
		}
		return nil, fmt.Errorf("nodeimage: ldd %s: %w: %s", binary, err, out)
	}
	return parseLdd(string(out))
}

func parseLdd(out string) ([]string, error) {
	var libs []string
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "not found") {
			return nil, fmt.Errorf("nodeimage: ldd: %s", strings.TrimSpace(line))
		}
		if m := lddPath.FindStringSubmatch(line); m != nil && !slices.Contains(libs, m[1]) {
			libs = append(libs, m[1])
		}
	}
	return libs, nil
}

// layer is a tar of files (path in the image → source path), with the
// parent directories and a world-writable /tmp, in a fixed order.
func layer(files map[string]string) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{"tmp": true}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
		for d := path.Dir(n); d != "." && d != "/"; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	dirList := make([]string, 0, len(dirs))
	for d := range dirs {
		dirList = append(dirList, d)
	}
	slices.Sort(dirList)
	slices.Sort(names)
	for _, d := range dirList {
		mode := int64(0o755)
		if d == "tmp" {
			mode = 0o1777
		}
		if err := tw.WriteHeader(&tar.Header{Name: d + "/", Typeflag: tar.TypeDir, Mode: mode, ModTime: epoch}); err != nil {
			return nil, fmt.Errorf("nodeimage: layer: %w", err)
		}
	}
	for _, n := range names {
		data, err := os.ReadFile(files[n])
		if err != nil {
			return nil, fmt.Errorf("nodeimage: %w", err)
		}
		if err := tw.WriteHeader(&tar.Header{Name: n, Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(data)), ModTime: epoch}); err != nil {
			return nil, fmt.Errorf("nodeimage: layer: %w", err)
		}
		if _, err := tw.Write(data); err != nil {
			return nil, fmt.Errorf("nodeimage: layer: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("nodeimage: layer: %w", err)
	}
	return buf.Bytes(), nil
}
