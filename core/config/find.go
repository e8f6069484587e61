package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// SearchEnv is what Find reads from the process environment.
type SearchEnv struct {
	// Getenv reads an environment variable.
	Getenv func(string) string
	// Stat reports whether a file exists; nil means os.Stat.
	Stat func(string) (fs.FileInfo, error)
	// GOOS selects the user config directory layout; "" means runtime.GOOS.
	GOOS string
}

// ErrNotFound is matched by the error Find returns when no file exists.
var ErrNotFound = errors.New("no configuration file found")

// Find returns the path of the configuration file to read, looking where
// the fedtoken CLI and the sidecar both look, in this order:
//
//  1. flag, the value of a --config flag ("" when not given);
//  2. $FEDTOKEN_CONFIG;
//  3. $OPENCODE_CONFIG_DIR/opencode.json (the upstream plugin's ConfigMap
//     mount, e.g. /etc/opencode);
//  4. the user config directory: fedtoken/config.yaml, fedtoken/config.yml,
//     fedtoken/config.json, then opencode/opencode.json.
//
// A file named by the flag or $FEDTOKEN_CONFIG must exist; the others are
// skipped when absent.
func Find(flag string, env SearchEnv) (string, error) {
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
	tried := strings.Join(candidates, ", ")
	if tried == "" {
		tried = "nothing (neither OPENCODE_CONFIG_DIR nor HOME is set)"
	}
	return "", fmt.Errorf("%w: tried %s; pass --config FILE or set FEDTOKEN_CONFIG (see docs/configuration.md)",
		ErrNotFound, tried)
}

// Candidates lists the files tried when neither --config nor
// $FEDTOKEN_CONFIG is set, in order.
func Candidates(env SearchEnv) []string {
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

func mustExist(path, from string, env SearchEnv) (string, error) {
	if _, err := stat(env)(path); err != nil {
		return "", fmt.Errorf("config file %s (from %s): %w", path, from, errors.Unwrap(err))
	}
	return path, nil
}

func isFile(path string, env SearchEnv) bool {
	fi, err := stat(env)(path)
	return err == nil && !fi.IsDir()
}

func stat(env SearchEnv) func(string) (fs.FileInfo, error) {
	if env.Stat != nil {
		return env.Stat
	}
	return os.Stat
}

// userConfigDir is os.UserConfigDir reading the injected environment.
func userConfigDir(env SearchEnv) string {
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
