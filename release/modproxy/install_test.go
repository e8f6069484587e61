package modproxy_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fedtoken/fedtoken/release/modproxy"
)

// TestGoInstall installs the two commands the way docs/cli.md and
// docs/sidecar.md tell users to — `go install …@version`, outside any module,
// GOWORK=off — from a proxy holding the working tree at a pretend release
// version, and runs them.
func TestGoInstall(t *testing.T) {
	if testing.Short() {
		t.Skip("builds both commands from a fresh module cache")
	}
	const version = "v0.99.0"
	s, err := modproxy.Start(filepath.Join("..", "..", "go.work"), version, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })

	gobin := t.TempDir()
	outside := t.TempDir() // no go.mod, no go.work: a user's shell
	env := append(s.Env(os.Environ()), "GOBIN="+gobin)
	for _, pkg := range []string{"cli/cmd/fedtoken", "sidecar/cmd/fedtoken-sidecar"} {
		c := exec.Command("go", "install", "github.com/fedtoken/fedtoken/"+pkg+"@"+version)
		c.Dir, c.Env = outside, env
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("go install %s@%s: %v\n%s", pkg, version, err, out)
		}
	}

	for _, tc := range []struct{ bin, arg, want string }{
		{"fedtoken", "version", "fedtoken " + version + " "},
		{"fedtoken-sidecar", "--version", "fedtoken-sidecar " + version + "\n"},
	} {
		out, err := exec.Command(filepath.Join(gobin, tc.bin), tc.arg).CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", tc.bin, tc.arg, err, out)
		}
		if !strings.HasPrefix(string(out), tc.want) {
			t.Errorf("%s %s = %q, want it to start with %q", tc.bin, tc.arg, out, tc.want)
		}
	}

	// What the install pulled: no test IdP and none of its dependencies.
	pulled := downloaded(t, s.ModCache)
	t.Logf("go install downloaded %d files", len(pulled))
	for _, p := range pulled {
		if strings.Contains(p, "fedtoken/mockidp") || strings.Contains(p, "zitadel") {
			t.Errorf("go install of the commands downloaded %s; the test IdP must stay out of what users install", p)
		}
	}
	if !slices.ContainsFunc(pulled, func(p string) bool {
		return strings.HasPrefix(p, "github.com/fedtoken/fedtoken/core/@v/"+version+".zip")
	}) {
		t.Errorf("core %s was not downloaded from the proxy; downloaded: %v", version, pulled)
	}
}

// downloaded lists the files of the module cache's download directory.
func downloaded(t *testing.T, modCache string) []string {
	t.Helper()
	root := filepath.Join(modCache, "cache", "download")
	var files []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}
