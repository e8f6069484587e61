package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFind(t *testing.T) {
	dir := t.TempDir()
	write := func(rel string) string {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("{}"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	explicit := write("explicit.yaml")
	fromEnv := write("env.yaml")
	opencode := write("etc/opencode/opencode.json")
	userYAML := write("home/.config/fedtoken/config.yaml")
	userOpencode := write("home2/.config/opencode/opencode.json")

	tests := []struct {
		name    string
		flag    string
		env     map[string]string
		want    string
		wantErr string
	}{
		{name: "flag wins", flag: explicit, env: map[string]string{"FEDTOKEN_CONFIG": fromEnv, "OPENCODE_CONFIG_DIR": filepath.Dir(opencode)}, want: explicit},
		{name: "FEDTOKEN_CONFIG next", env: map[string]string{"FEDTOKEN_CONFIG": fromEnv, "OPENCODE_CONFIG_DIR": filepath.Dir(opencode)}, want: fromEnv},
		{name: "OPENCODE_CONFIG_DIR next", env: map[string]string{"OPENCODE_CONFIG_DIR": filepath.Dir(opencode), "HOME": filepath.Join(dir, "home")}, want: opencode},
		{name: "user fedtoken config", env: map[string]string{"HOME": filepath.Join(dir, "home")}, want: userYAML},
		{name: "XDG_CONFIG_HOME", env: map[string]string{"XDG_CONFIG_HOME": filepath.Join(dir, "home", ".config"), "HOME": "/nonexistent"}, want: userYAML},
		{name: "user opencode config last", env: map[string]string{"HOME": filepath.Join(dir, "home2")}, want: userOpencode},
		{name: "OPENCODE_CONFIG_DIR without the file falls through", env: map[string]string{"OPENCODE_CONFIG_DIR": dir, "HOME": filepath.Join(dir, "home")}, want: userYAML},
		{name: "missing flag file", flag: filepath.Join(dir, "nope.yaml"), wantErr: "nope.yaml (from --config): no such file"},
		{name: "missing env file", env: map[string]string{"FEDTOKEN_CONFIG": filepath.Join(dir, "nope.yaml")}, wantErr: "(from $FEDTOKEN_CONFIG)"},
		{name: "nothing", env: map[string]string{"HOME": filepath.Join(dir, "empty")}, wantErr: "no configuration file found: tried " + filepath.Join(dir, "empty", ".config", "fedtoken", "config.yaml")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := SearchEnv{Getenv: func(k string) string { return tt.env[k] }, GOOS: "linux"}
			got, err := Find(tt.flag, env)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Find() error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Find() error = %v", err)
			}
			if got != tt.want {
				t.Errorf("Find() = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestFindNotFoundIsMatchable(t *testing.T) {
	env := SearchEnv{Getenv: func(string) string { return "" }, Stat: func(string) (fs.FileInfo, error) { return nil, fs.ErrNotExist }}
	if _, err := Find("", env); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Find() error = %v, want ErrNotFound", err)
	}
}
