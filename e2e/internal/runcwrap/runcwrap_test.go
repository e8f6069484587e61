package runcwrap

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestCapBndHas(t *testing.T) {
	for _, tc := range []struct {
		status  string
		has, ok bool
	}{
		{"Name:\tx\nCapBnd:\t000001fffeffffff\n", false, true},
		{"CapBnd:\t000001ffffffffff\n", true, true},
		{"Name:\tx\n", false, false},
		{"CapBnd:\tzz\n", false, false},
	} {
		has, ok := capBndHas(tc.status, capSysResourceBit)
		if has != tc.has || ok != tc.ok {
			t.Errorf("capBndHas(%q) = %v, %v; want %v, %v", tc.status, has, ok, tc.has, tc.ok)
		}
	}
}

func TestRewriteBundleAndProcess(t *testing.T) {
	dir := t.TempDir()
	caps := map[string]any{
		"bounding":  []any{"CAP_CHOWN", "CAP_SYS_RESOURCE", "CAP_SYS_ADMIN"},
		"effective": []any{"CAP_SYS_RESOURCE"},
		"permitted": []any{"CAP_CHOWN"},
	}
	write := func(name string, v any) string {
		p := filepath.Join(dir, name)
		b, _ := json.Marshal(v)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	read := func(p string) map[string]any {
		var m map[string]any
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	cfg := write("config.json", map[string]any{"ociVersion": "1.2.0", "process": map[string]any{"capabilities": caps, "cwd": "/"}})
	if err := Rewrite([]string{"--root", "/run/x", "--log", "/l", "create", "--bundle", dir, "--pid-file", "p", "id"}); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"ociVersion": "1.2.0", "process": map[string]any{"cwd": "/", "capabilities": map[string]any{
		"bounding": []any{"CAP_CHOWN", "CAP_SYS_ADMIN"}, "effective": []any{}, "permitted": []any{"CAP_CHOWN"},
	}}}
	if got := read(cfg); !reflect.DeepEqual(want, got) {
		t.Errorf("config.json = %v, want %v", got, want)
	}
	proc := write("process.json", map[string]any{"args": []any{"sh"}, "capabilities": caps})
	if err := Rewrite([]string{"--root", "/run/x", "exec", "--process=" + proc, "--detach", "id"}); err != nil {
		t.Fatal(err)
	}
	if got := read(proc)["capabilities"].(map[string]any)["bounding"]; !reflect.DeepEqual([]any{"CAP_CHOWN", "CAP_SYS_ADMIN"}, got) {
		t.Errorf("process.json bounding = %v", got)
	}
	// Other commands touch nothing; a missing bundle is an error naming it.
	if err := Rewrite([]string{"state", "id"}); err != nil {
		t.Errorf("state: %v", err)
	}
	if err := Rewrite([]string{"run", "-b", filepath.Join(dir, "nope"), "id"}); err == nil {
		t.Error("run with a missing bundle: no error")
	}
}
