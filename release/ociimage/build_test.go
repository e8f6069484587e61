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
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// buildPause compiles the e2e pause command statically: a real static binary.
func buildPause(t *testing.T, cgo string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "pause")
	cmd := exec.Command("go", "build", "-o", out, "../../cmd/pause")
	cmd.Env = append(os.Environ(), "CGO_ENABLED="+cgo)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return out
}

func TestBuildWritesLoadableImage(t *testing.T) {
	bin := buildPause(t, "0")
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
	bin := buildPause(t, "0")
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
	if want := []string{"tmp/", "pause", "helper"}; !slices.Equal(names, want) {
		t.Errorf("layer holds %v, want %v", names, want)
	}
	// The same name twice is refused.
	if err := Build(Options{Binary: bin, Extra: []string{bin}, Ref: "example.local/two:e2e", Out: out, User: "65532"}); err == nil || !strings.Contains(err.Error(), "already in the image") {
		t.Errorf("duplicate binary: err = %v", err)
	}
}
