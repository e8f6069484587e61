package ociimage

import (
	"archive/tar"
	"bytes"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

// TestDynamicLibraries: a dynamically linked host program brings its ELF
// interpreter and every library it needs, at the paths it looks for them.
func TestDynamicLibraries(t *testing.T) {
	bin, err := exec.LookPath("ls")
	if err != nil {
		t.Skip("no ls on PATH")
	}
	bin, _ = filepath.EvalSymlinks(bin)
	deps, err := elfDeps(bin, defaultLibDirs)
	if err != nil {
		t.Fatal(err)
	}
	if len(deps) == 0 {
		t.Skipf("%s is static", bin)
	}
	out := filepath.Join(t.TempDir(), "img.tar")
	if err := BuildDynamic(DynamicOptions{Ref: "fedtoken.local/ls:test", Out: out, User: "65532", Files: map[string]string{"/usr/local/bin/ls": bin}, Entrypoint: []string{"ls"}}); err != nil {
		t.Fatal(err)
	}
	// Read the layer back: every dependency (and libc's own) is in it.
	layer, err := rootfsLayer(map[string]string{"/usr/local/bin/ls": bin})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	tr := tar.NewReader(bytes.NewReader(layer))
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
	if !slices.Contains(names, "usr/local/bin/ls") || !slices.Contains(names, "usr/local/bin/") {
		t.Errorf("layer lacks the binary or its directory: %v", names)
	}
	var libc bool
	for dst := range deps {
		if filepath.Base(dst) == "libc.so.6" {
			libc = true
		}
	}
	if !libc {
		t.Errorf("deps of %s lack libc.so.6: %v", bin, deps)
	}
}
