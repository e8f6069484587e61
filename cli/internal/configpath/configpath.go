// Package configpath finds the configuration file fedtoken reads.
//
// The order (docs/cli.md, "Configuration file"):
//
//  1. the --config flag;
//  2. $FEDTOKEN_CONFIG;
//  3. $OPENCODE_CONFIG_DIR/opencode.json (the upstream plugin's ConfigMap
//     mount, e.g. /etc/opencode);
//  4. the user config directory: fedtoken/config.yaml, fedtoken/config.yml,
//     fedtoken/config.json, then opencode/opencode.json.
//
// A file named by the flag or $FEDTOKEN_CONFIG must exist; the others are
// skipped when absent.
package configpath

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// Env is what Find reads from the process environment.
type Env struct {
	// Getenv reads an environment variable.
	Getenv func(string) string
	// Stat reports whether a file exists; nil means os.Stat.
	Stat func(string) (fs.FileInfo, error)
	// GOOS selects the user config directory layout; "" means runtime.GOOS.
	GOOS string
}

// ErrNotFound is matched by the error Find returns when no file exists.
var ErrNotFound = errors.New("no configuration file found")

// Find returns the path of the configuration file to read. flag is the
// value of --config ("" when not given).
func Find(flag string, env Env) (string, error) {
	if flag != "" {
		return mustExist(flag, "--config", env)
	}
	if p := env.Getenv("FEDTOKEN_CONFIG"); p != "" {
		return mustExist(p, "$FEDTOKEN_CONFIG", env)
	}
	candidates := Candidates(env)
	for _, c := range candidates {
		if isFile(c, env) {
			return c, nil
		}
	}
	return "", fmt.Errorf("%w: tried %s; pass --config FILE or set FEDTOKEN_CONFIG (see docs/configuration.md)",
		ErrNotFound, strings.Join(candidates, ", "))
}

// Candidates lists the files tried when neither --config nor
// $FEDTOKEN_CONFIG is set, in order.
func Candidates(env Env) []string {
	var out []string
	if d := env.Getenv("OPENCODE_CONFIG_DIR"); d != "" {
		out = append(out, filepath.Join(d, "opencode.json"))
	}
	if d := userConfigDir(env); d != "" {
		out = append(out,
			filepath.Join(d, "fedtoken", "config.yaml"),
			filepath.Join(d, "fedtoken", "config.yml"),
			filepath.Join(d, "fedtoken", "config.json"),
			filepath.Join(d, "opencode", "opencode.json"),
		)
	}
	return out
}

func mustExist(path, from string, env Env) (string, error) {
	if _, err := stat(env)(path); err != nil {
		return "", fmt.Errorf("config file %s (from %s): %w", path, from, errors.Unwrap(err))
	}
	return path, nil
}

func isFile(path string, env Env) bool {
	fi, err := stat(env)(path)
	return err == nil && !fi.IsDir()
}

func stat(env Env) func(string) (fs.FileInfo, error) {
	if env.Stat != nil {
		return env.Stat
	}
	return os.Stat
}

// userConfigDir is os.UserConfigDir reading the injected environment.
func userConfigDir(env Env) string {
	goos := env.GOOS
	if goos == "" {
		goos = runtime.GOOS
	}
	switch goos {
	case "windows":
		return env.Getenv("AppData")
	case "darwin", "ios":
		if h := env.Getenv("HOME"); h != "" {
			return filepath.Join(h, "Library", "Application Support")
		}
		return ""
	}
	if d := env.Getenv("XDG_CONFIG_HOME"); filepath.IsAbs(d) {
		return d
	}
	if h := env.Getenv("HOME"); h != "" {
		return filepath.Join(h, ".config")
	}
	return ""
}
