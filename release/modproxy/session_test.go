package modproxy

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestPersistentSessionSeesNewPackages: a package added to a module of the
// workspace is found by the next persistent session, although our module
// sits in the kept module cache at the same path and version as before
// (the go command's module index would answer from the first session).
func TestPersistentSessionSeesNewPackages(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	work := workspace(t, "")
	root := filepath.Dir(work)
	build := func(step string) {
		t.Helper()
		s, err := Start(work, "", true)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if err := os.WriteFile(filepath.Join(root, "a", "go.sum"), []byte(strings.Join(s.Published.Sums, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		c := exec.Command("go", "build", "./...")
		c.Dir, c.Env = filepath.Join(root, "a"), s.Env(os.Environ())
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("%s: go build: %v\n%s", step, err, out)
		}
	}
	build("first session")

	if err := os.MkdirAll(filepath.Join(root, "b", "added"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{
		"b/added/added.go": "package added\n",
		"a/a.go":           "package a\n\nimport (\n\t_ \"example.com/x/b\"\n\t_ \"example.com/x/b/added\"\n)\n",
	} {
		if err := os.WriteFile(filepath.Join(root, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	build("after adding package b/added")
}
