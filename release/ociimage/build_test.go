package ociimage

import (
	"archive/tar"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// buildPause compiles testdata/hello, named pause, for GOARCH arch ("" =
// this machine's): a real static binary.
func buildPause(t *testing.T, arch string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "pause")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, "./testdata/hello")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if arch != "" {
		cmd.Env = append(cmd.Env, "GOARCH="+arch)
	}
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return out
}

func TestBuildWritesLoadableImage(t *testing.T) {
	bin := buildPause(t, "")
	out := filepath.Join(t.TempDir(), "img", "pause.tar")
	if err := Build(Options{Binary: bin, Ref: "registry.k8s.io/pause:3.10", Out: out, User: "65535"}); err != nil {
		t.Fatal(err)
	}
	tag, err := name.NewTag("registry.k8s.io/pause:3.10")
	if err != nil {
		t.Fatal(err)
	}
	img, err := tarball.ImageFromPath(out, &tag)
	if err != nil {
		t.Fatalf("tarball does not load: %v", err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Config.Entrypoint; len(got) != 1 || got[0] != "/pause" {
		t.Errorf("entrypoint = %v", got)
	}
	if cfg.Config.User != "65535" || cfg.OS != "linux" || cfg.Architecture == "" {
		t.Errorf("user/os/arch = %q/%q/%q", cfg.Config.User, cfg.OS, cfg.Architecture)
	}
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("layers = %d, %v; want 1", len(layers), err)
	}
	// Same input → same digest (reproducible build).
	out2 := filepath.Join(t.TempDir(), "again.tar")
	if err := Build(Options{Binary: bin, Ref: "registry.k8s.io/pause:3.10", Out: out2, User: "65535"}); err != nil {
		t.Fatal(err)
	}
	img2, err := tarball.ImageFromPath(out2, &tag)
	if err != nil {
		t.Fatal(err)
	}
	d1, _ := img.Digest()
	d2, _ := img2.Digest()
	if d1 != d2 {
		t.Errorf("digests differ: %s vs %s", d1, d2)
	}
}

func TestBuildRejects(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "script")
	if err := os.WriteFile(script, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		o       Options
		wantErr string
	}{
		{"root user", Options{Binary: script, Ref: "x/y:z", Out: filepath.Join(dir, "o"), User: "0"}, "non-root"},
		{"named user", Options{Binary: script, Ref: "x/y:z", Out: filepath.Join(dir, "o"), User: "nobody"}, "numeric"},
		{"bad gid", Options{Binary: script, Ref: "x/y:z", Out: filepath.Join(dir, "o"), User: "1:x"}, "numeric"},
		{"bad ref", Options{Binary: script, Ref: "UPPER//bad", Out: filepath.Join(dir, "o"), User: "1"}, "ref"},
		{"missing binary", Options{Binary: filepath.Join(dir, "nope"), Ref: "x/y:z", Out: filepath.Join(dir, "o"), User: "1"}, "binary"},
		{"not ELF", Options{Binary: script, Ref: "x/y:z", Out: filepath.Join(dir, "o"), User: "1"}, "not an ELF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Build(tt.o)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestBuildRejectsDynamicBinary(t *testing.T) {
	// Debian's /bin/sh is dynamically linked against libc.
	err := Build(Options{Binary: "/bin/sh", Ref: "x/y:z", Out: filepath.Join(t.TempDir(), "o"), User: "1"})
	if err == nil || !strings.Contains(err.Error(), "CGO_ENABLED=0") {
		t.Fatalf("err = %v, want the CGO_ENABLED=0 hint", err)
	}
}

func TestBuildExtraBinaries(t *testing.T) {
	bin := buildPause(t, "")
	extra := filepath.Join(t.TempDir(), "helper")
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(extra, data, 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "two.tar")
	if err := Build(Options{Binary: bin, Extra: []string{extra}, Ref: "example.local/two:e2e", Out: out, User: "65532:65532"}); err != nil {
		t.Fatal(err)
	}
	tag, _ := name.NewTag("example.local/two:e2e")
	img, err := tarball.ImageFromPath(out, &tag)
	if err != nil {
		t.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("layers = %d, %v; want 1", len(layers), err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var names []string
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
	}
	if want := []string{"tmp/", "etc/", "etc/group", "etc/passwd", "helper", "pause"}; !slices.Equal(names, want) {
		t.Errorf("layer holds %v, want %v", names, want)
	}
	// The same name twice is refused.
	if err := Build(Options{Binary: bin, Extra: []string{bin}, Ref: "example.local/two:e2e", Out: out, User: "65532"}); err == nil || !strings.Contains(err.Error(), "already in the image") {
		t.Errorf("duplicate binary: err = %v", err)
	}
}

func TestImageHoldsBundleUserAndLabels(t *testing.T) {
	bin := buildPause(t, "")
	bundle := filepath.Join(t.TempDir(), "ca.pem")
	pemData := "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
	if err := os.WriteFile(bundle, []byte(pemData), 0o644); err != nil {
		t.Fatal(err)
	}
	o := Options{Binary: bin, User: "65532:65532", CABundle: bundle, Env: []string{"A=b"},
		Labels: map[string]string{"org.opencontainers.image.version": "v1.2.3", "org.opencontainers.image.licenses": "Apache-2.0"}}
	img, err := Image(o)
	if err != nil {
		t.Fatal(err)
	}
	files, err := Files(img)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(files["etc/ssl/certs/ca-certificates.crt"]); got != pemData {
		t.Errorf("bundle in the image = %q, want %q", got, pemData)
	}
	if got := string(files["etc/passwd"]); !strings.Contains(got, "nonroot:x:65532:65532:") {
		t.Errorf("/etc/passwd = %q, want the nonroot user 65532", got)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Config.Labels["org.opencontainers.image.version"] != "v1.2.3" || cfg.Config.Labels["org.opencontainers.image.title"] != "pause" {
		t.Errorf("labels = %v", cfg.Config.Labels)
	}
	if !slices.Equal(cfg.Config.Env, []string{"PATH=/", "A=b"}) {
		t.Errorf("env = %v", cfg.Config.Env)
	}

	// Reproducible: the same inputs give the same digest; any input changed
	// (here the bundle) gives another.
	again, err := Image(o)
	if err != nil {
		t.Fatal(err)
	}
	d1, _ := img.Digest()
	d2, _ := again.Digest()
	if d1 != d2 {
		t.Errorf("same inputs, digests differ: %s vs %s", d1, d2)
	}
	if err := os.WriteFile(bundle, []byte(pemData+pemData), 0o644); err != nil {
		t.Fatal(err)
	}
	other, err := Image(o)
	if err != nil {
		t.Fatal(err)
	}
	if d3, _ := other.Digest(); d3 == d1 {
		t.Errorf("another bundle, same digest %s", d1)
	}

	if err := os.WriteFile(bundle, []byte("not PEM"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Image(o); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("bundle without certificates: err = %v", err)
	}
}

func TestIndexListsBothPlatforms(t *testing.T) {
	var imgs []v1.Image
	for _, arch := range []string{"amd64", "arm64"} {
		img, err := Image(Options{Binary: buildPause(t, arch), User: "65532", Labels: map[string]string{"org.opencontainers.image.version": "v9"}})
		if err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, img)
	}
	if _, err := Image(Options{Binary: buildPause(t, "arm64"), Arch: "amd64", User: "65532"}); err == nil || !strings.Contains(err.Error(), "is for arm64") {
		t.Errorf("arm64 binary as amd64: err = %v", err)
	}
	idx, err := Index(imgs)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "layout")
	if err := WriteLayout(dir, idx); err != nil {
		t.Fatal(err)
	}
	back, err := ReadLayout(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := back.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var platforms []string
	for _, d := range m.Manifests {
		platforms = append(platforms, d.Platform.String())
	}
	if !slices.Equal(platforms, []string{"linux/amd64", "linux/arm64"}) {
		t.Errorf("index platforms = %v", platforms)
	}
	if m.Annotations["org.opencontainers.image.version"] != "v9" {
		t.Errorf("index annotations = %v", m.Annotations)
	}
	d1, _ := idx.Digest()
	d2, _ := back.Digest()
	if d1 != d2 {
		t.Errorf("layout round trip changed the digest: %s vs %s", d1, d2)
	}
}
