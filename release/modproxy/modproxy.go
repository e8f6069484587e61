// Package modproxy publishes the modules of this workspace, as they are in
// the working tree, into a file-based Go module proxy (a directory that
// GOPROXY=file://… serves), the way the public proxy would serve them once
// they are tagged. It is how the project builds and tidies each module on
// its own (GOWORK=off) without `replace` directives, and how the `go
// install …@version` test installs the commands exactly as a user would.
package modproxy

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	"golang.org/x/mod/sumdb/dirhash"
	modzip "golang.org/x/mod/zip"
)

// Module is one module of the workspace.
type Module struct {
	Path string // module path, e.g. github.com/fedtoken/fedtoken/core
	Dir  string // absolute directory holding its go.mod
	mod  *modfile.File
}

// Workspace reads the go.work file at goWork and the go.mod of every module
// it uses.
func Workspace(goWork string) ([]Module, error) {
	data, err := os.ReadFile(goWork)
	if err != nil {
		return nil, fmt.Errorf("modproxy: %w", err)
	}
	wf, err := modfile.ParseWork(goWork, data, nil)
	if err != nil {
		return nil, fmt.Errorf("modproxy: %w", err)
	}
	root := filepath.Dir(goWork)
	var mods []Module
	for _, u := range wf.Use {
		dir := filepath.Join(root, u.Path)
		m, err := readModule(dir)
		if err != nil {
			return nil, err
		}
		mods = append(mods, m)
	}
	return mods, nil
}

func readModule(dir string) (Module, error) {
	gomod := filepath.Join(dir, "go.mod")
	data, err := os.ReadFile(gomod)
	if err != nil {
		return Module{}, fmt.Errorf("modproxy: %w", err)
	}
	f, err := modfile.Parse(gomod, data, nil)
	if err != nil {
		return Module{}, fmt.Errorf("modproxy: %w", err)
	}
	if f.Module == nil {
		return Module{}, fmt.Errorf("modproxy: %s has no module line", gomod)
	}
	if len(f.Replace) > 0 {
		return Module{}, fmt.Errorf("modproxy: %s has replace directives; this project resolves its own modules through go.work (docs/releasing.md): remove them", gomod)
	}
	return Module{Path: f.Module.Mod.Path, Dir: dir, mod: f}, nil
}

// Published is what Write put into the proxy.
type Published struct {
	// Versions maps each module path to the versions published.
	Versions map[string][]string
	// Sums are the go.sum lines of everything published, sorted.
	Sums []string
}

// Write publishes the workspace modules into the proxy directory dir.
//
// With version "" each module is published at every version another
// workspace module requires of it: the working tree stands in for what
// those requirements name (GOWORK=off builds and `go mod tidy`).
//
// With a version (a pretend release, e.g. v0.9.0), every module is
// published at that version, and its requirements on other workspace
// modules are set to that version first — the edit `make release-prepare`
// commits before the tags are pushed (docs/releasing.md).
func Write(dir string, mods []Module, version string, at time.Time) (Published, error) {
	if version != "" && (!semver.IsValid(version) || semver.Build(version) != "") {
		return Published{}, fmt.Errorf("modproxy: version %q: want a semantic version such as v1.2.3", version)
	}
	ours := map[string]bool{}
	for _, m := range mods {
		ours[m.Path] = true
	}
	want := map[string][]string{} // path → versions
	for _, m := range mods {
		if version != "" {
			want[m.Path] = []string{version}
			continue
		}
		for _, r := range m.mod.Require {
			if ours[r.Mod.Path] && !slices.Contains(want[r.Mod.Path], r.Mod.Version) {
				want[r.Mod.Path] = append(want[r.Mod.Path], r.Mod.Version)
			}
		}
	}
	pub := Published{Versions: map[string][]string{}}
	for _, m := range mods {
		vs := want[m.Path]
		semver.Sort(vs)
		for _, v := range vs {
			gomod, err := PinOurs(m, ours, version)
			if err != nil {
				return Published{}, err
			}
			sums, err := publish(dir, m, v, gomod, at)
			if err != nil {
				return Published{}, err
			}
			pub.Versions[m.Path] = append(pub.Versions[m.Path], v)
			pub.Sums = append(pub.Sums, sums...)
		}
	}
	sort.Strings(pub.Sums)
	return pub, nil
}

// PinOurs returns m's go.mod with every requirement on a module in ours set
// to version ("" leaves the file as it is).
func PinOurs(m Module, ours map[string]bool, version string) ([]byte, error) {
	data, err := os.ReadFile(filepath.Join(m.Dir, "go.mod"))
	if err != nil {
		return nil, fmt.Errorf("modproxy: %w", err)
	}
	if version == "" {
		return data, nil
	}
	f, err := modfile.Parse(filepath.Join(m.Dir, "go.mod"), data, nil)
	if err != nil {
		return nil, fmt.Errorf("modproxy: %w", err)
	}
	for _, r := range f.Require {
		if ours[r.Mod.Path] {
			if err := f.AddRequire(r.Mod.Path, version); err != nil {
				return nil, fmt.Errorf("modproxy: %s: %w", m.Path, err)
			}
		}
	}
	f.Cleanup()
	return f.Format()
}

// publish writes list, .info, .mod and .zip of m at version v and returns
// their go.sum lines.
func publish(dir string, m Module, v string, gomod []byte, at time.Time) ([]string, error) {
	esc, err := module.EscapePath(m.Path)
	if err != nil {
		return nil, fmt.Errorf("modproxy: %w", err)
	}
	vdir := filepath.Join(dir, filepath.FromSlash(esc), "@v")
	if err := os.MkdirAll(vdir, 0o755); err != nil {
		return nil, fmt.Errorf("modproxy: %w", err)
	}
	mv := module.Version{Path: m.Path, Version: v}
	var raw bytes.Buffer
	if err := modzip.CreateFromDir(&raw, mv, m.Dir); err != nil {
		return nil, fmt.Errorf("modproxy: zip %s: %w", m.Dir, err)
	}
	zipped, err := withGoMod(raw.Bytes(), mv, gomod)
	if err != nil {
		return nil, err
	}
	info, _ := json.Marshal(struct {
		Version string
		Time    time.Time
	}{v, at.UTC()})
	files := map[string][]byte{v + ".info": info, v + ".mod": gomod, v + ".zip": zipped}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(vdir, name), data, 0o644); err != nil {
			return nil, fmt.Errorf("modproxy: %w", err)
		}
	}
	list := filepath.Join(vdir, "list")
	old, _ := os.ReadFile(list)
	vs := strings.Fields(string(old))
	if !slices.Contains(vs, v) {
		vs = append(vs, v)
	}
	semver.Sort(vs)
	if err := os.WriteFile(list, []byte(strings.Join(vs, "\n")+"\n"), 0o644); err != nil {
		return nil, fmt.Errorf("modproxy: %w", err)
	}
	zipFile := filepath.Join(vdir, v+".zip")
	h, err := dirhash.HashZip(zipFile, dirhash.Hash1)
	if err != nil {
		return nil, fmt.Errorf("modproxy: %w", err)
	}
	hm, err := dirhash.Hash1([]string{"go.mod"}, func(string) (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(gomod)), nil
	})
	if err != nil {
		return nil, fmt.Errorf("modproxy: %w", err)
	}
	return []string{
		fmt.Sprintf("%s %s %s", m.Path, v, h),
		fmt.Sprintf("%s %s/go.mod %s", m.Path, v, hm),
	}, nil
}

// withGoMod replaces the go.mod inside a module zip.
func withGoMod(zipped []byte, mv module.Version, gomod []byte) ([]byte, error) {
	zr, err := zip.NewReader(bytes.NewReader(zipped), int64(len(zipped)))
	if err != nil {
		return nil, fmt.Errorf("modproxy: %w", err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	name := mv.Path + "@" + mv.Version + "/go.mod"
	found := false
	for _, f := range zr.File {
		w, err := zw.Create(f.Name)
		if err != nil {
			return nil, fmt.Errorf("modproxy: %w", err)
		}
		if f.Name == name {
			found = true
			_, err = w.Write(gomod)
		} else {
			err = copyEntry(w, f)
		}
		if err != nil {
			return nil, fmt.Errorf("modproxy: %w", err)
		}
	}
	if !found {
		return nil, errors.New("modproxy: module zip has no go.mod")
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("modproxy: %w", err)
	}
	return out.Bytes(), nil
}

func copyEntry(w io.Writer, f *zip.File) error {
	r, err := f.Open()
	if err != nil {
		return err
	}
	defer r.Close()
	_, err = io.Copy(w, r)
	return err
}

// Prepare sets every requirement on a workspace module, in every go.mod of
// the workspace, and the version of every go.work replacement of one, to
// version — the commit that precedes a release's tags (docs/releasing.md).
func Prepare(goWork, version string) error {
	if !semver.IsValid(version) || semver.Build(version) != "" {
		return fmt.Errorf("modproxy: version %q: want a semantic version such as v1.2.3", version)
	}
	mods, err := Workspace(goWork)
	if err != nil {
		return err
	}
	ours := map[string]bool{}
	for _, m := range mods {
		ours[m.Path] = true
	}
	for _, m := range mods {
		data, err := PinOurs(m, ours, version)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(m.Dir, "go.mod"), data, 0o644); err != nil {
			return fmt.Errorf("modproxy: %w", err)
		}
	}
	data, err := os.ReadFile(goWork)
	if err != nil {
		return fmt.Errorf("modproxy: %w", err)
	}
	wf, err := modfile.ParseWork(goWork, data, nil)
	if err != nil {
		return fmt.Errorf("modproxy: %w", err)
	}
	var reps []modfile.Replace
	for _, r := range wf.Replace {
		if ours[r.Old.Path] {
			reps = append(reps, *r)
		}
	}
	for _, r := range reps {
		if err := wf.DropReplace(r.Old.Path, r.Old.Version); err != nil {
			return fmt.Errorf("modproxy: %w", err)
		}
		if err := wf.AddReplace(r.Old.Path, version, r.New.Path, r.New.Version); err != nil {
			return fmt.Errorf("modproxy: %w", err)
		}
	}
	wf.Cleanup()
	if err := os.WriteFile(goWork, modfile.Format(wf.Syntax), 0o644); err != nil {
		return fmt.Errorf("modproxy: %w", err)
	}
	return nil
}
