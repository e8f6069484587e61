package app

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// pluginConfig.oauth2ModelSync.logLevel sets the sidecar's log level (trace
// is debug); FEDTOKEN_LOG_LEVEL and --log-level still win. jwksUri, the one
// upstream key fedtoken does not act on, is reported at start-up.
func TestPluginLogLevelAndUnusedKeys(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "opencode.json")
	if err := os.WriteFile(cfg, []byte(`{
  "pluginConfig": {"oauth2ModelSync": {"logLevel": "trace"}},
  "provider": {"p": {"options": {"baseURL": "https://api.example.com/v1", "oauth2": {
    "issuer": "https://idp.example.com", "clientId": "c", "authFlow": "jwt_bearer",
    "jwksUri": "https://idp.example.com/jwks", "subjectTokenSource": {"type": "kubernetes_sa"}}}}}
}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		env   map[string]string
		debug bool
	}{
		{map[string]string{"FEDTOKEN_CONFIG": cfg}, true},
		{map[string]string{"FEDTOKEN_CONFIG": cfg, "FEDTOKEN_LOG_LEVEL": "warn"}, false},
	} {
		var logs strings.Builder
		_, logger, err := Build(Env{Stdout: io.Discard, Stderr: &logs, Getenv: func(k string) string { return c.env[k] }}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := logger.Enabled(context.Background(), slog.LevelDebug); got != c.debug {
			t.Errorf("env %v: debug enabled %v, want %v", c.env, got, c.debug)
		}
		if n := strings.Count(logs.String(), "jwksUri: accepted from the plugin but not used"); n != 1 {
			t.Errorf("jwksUri reported %d times, want once:\n%s", n, logs.String())
		}
	}
}
