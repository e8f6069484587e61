package modproxy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// workspace writes a go.work with modules a (requires b v0.1.0) and b.
func workspace(t *testing.T, replace string) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"go.work":   "go 1.26.0\n\nuse (\n\t./a\n\t./b\n)\n\nreplace example.com/x/b v0.1.0 => ./b\n",
		"a/go.mod":  "module example.com/x/a\n\ngo 1.26.0\n\nrequire example.com/x/b v0.1.0\n" + replace,
		"a/go.sum":  "example.com/x/b v0.1.0 h1:stale=\nexample.com/x/b v0.1.0/go.mod h1:stale=\ngolang.org/x/text v0.1.0 h1:keep=\n",
		"a/a.go":    "package a\n\nimport _ \"example.com/x/b\"\n",
		"b/go.mod":  "module example.com/x/b\n\ngo 1.26.0\n",
		"b/b.go":    "package b\n",
		"b/sub/x.x": "nested file\n",
	}
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "go.work")
}

func TestWritePublishesRequiredVersions(t *testing.T) {
	mods, err := Workspace(workspace(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	proxy := t.TempDir()
	pub, err := Write(proxy, mods, "", time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if got := pub.Versions; len(got) != 1 || len(got["example.com/x/b"]) != 1 || got["example.com/x/b"][0] != "v0.1.0" {
		t.Errorf("published %v, want only b at v0.1.0 (what a requires)", got)
	}
	for _, f := range []string{"list", "v0.1.0.info", "v0.1.0.mod", "v0.1.0.zip"} {
		if _, err := os.Stat(filepath.Join(proxy, "example.com", "x", "b", "@v", f)); err != nil {
			t.Error(err)
		}
	}
	if len(pub.Sums) != 2 || !strings.HasPrefix(pub.Sums[0], "example.com/x/b v0.1.0 h1:") || !strings.HasPrefix(pub.Sums[1], "example.com/x/b v0.1.0/go.mod h1:") {
		t.Errorf("sums = %q", pub.Sums)
	}

	// A pretend release publishes both, a's requirement pinned to it.
	pub, err = Write(t.TempDir(), mods, "v0.2.0-rc.1", time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if len(pub.Versions) != 2 || pub.Versions["example.com/x/a"][0] != "v0.2.0-rc.1" {
		t.Errorf("published %v", pub.Versions)
	}
	if _, err := Write(t.TempDir(), mods, "latest", time.Unix(0, 0)); err == nil {
		t.Error("version latest accepted")
	}
}

func TestWorkspaceRefusesReplace(t *testing.T) {
	_, err := Workspace(workspace(t, "\nreplace example.com/x/b => ../b\n"))
	if err == nil || !strings.Contains(err.Error(), "a/go.mod has replace directives") {
		t.Fatalf("err = %v, want the go.mod with replace named", err)
	}
}

func TestStripSumsKeepsOthers(t *testing.T) {
	work := workspace(t, "")
	mods, err := Workspace(work)
	if err != nil {
		t.Fatal(err)
	}
	s := &Session{Modules: mods}
	if err := s.StripSums(mods[0]); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(filepath.Dir(work), "a", "go.sum"))
	if string(got) != "golang.org/x/text v0.1.0 h1:keep=\n" {
		t.Errorf("go.sum = %q", got)
	}
}

func TestPrepare(t *testing.T) {
	work := workspace(t, "")
	if err := Prepare(work, "v0.2.0"); err != nil {
		t.Fatal(err)
	}
	amod, _ := os.ReadFile(filepath.Join(filepath.Dir(work), "a", "go.mod"))
	if !strings.Contains(string(amod), "require example.com/x/b v0.2.0") {
		t.Errorf("a/go.mod = %s", amod)
	}
	gowork, _ := os.ReadFile(work)
	if !strings.Contains(string(gowork), "replace example.com/x/b v0.2.0 => ./b") || strings.Contains(string(gowork), "v0.1.0") {
		t.Errorf("go.work = %s", gowork)
	}
}
