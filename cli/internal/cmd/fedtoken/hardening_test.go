package fedtoken_test

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fedtoken/fedtoken/cli/internal/exitcode"
)

// hangUp listens on loopback and closes every connection once the request
// has arrived, as a crashing IdP or a middlebox would.
func hangUp(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				buf := make([]byte, 4096)
				c.Read(buf)
				c.Close()
			}()
		}
	}()
	return ln.Addr().String()
}

// TestDroppedConnectionIsANetworkFailure: docs/cli.md says a connection
// problem exits 6; an IdP that drops the connection used to exit 1.
func TestDroppedConnectionIsANetworkFailure(t *testing.T) {
	h := newHarness(t)
	cfg := h.writeConfig(`providers:
  drop:
    tokenEndpoint: http://` + hangUp(t) + `/token
    clientId: k8s-runner
    authFlow: jwt_bearer
    subjectTokenSource: {type: kubernetes_sa, tokenPath: {{TOKEN}}}
`)
	r := h.runArgs("--cache-dir", h.cacheDir, "--config", cfg, "token", "drop")
	if r.code != exitcode.Network {
		t.Fatalf("exit %d, want %d (network); stderr %q", r.code, exitcode.Network, r.stderr)
	}
}

// TestUnusableCacheDirIsReported: a token cache that cannot be written
// costs an IdP request on every run; say so instead of staying silent.
func TestUnusableCacheDirIsReported(t *testing.T) {
	h := newHarness(t)
	notADir := filepath.Join(h.dir, "not-a-dir")
	if err := os.WriteFile(notADir, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := h.runArgs("--cache-dir", notADir, "--config", h.config, "token", "jb")
	if r.code != exitcode.OK {
		t.Fatalf("exit %d: %s (a cache failure must not cost the token)", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "token cache") || !strings.Contains(r.stderr, notADir) {
		t.Fatalf("stderr = %q, want a warning naming the unusable cache directory", r.stderr)
	}
}
