//go:build e2e

package suites

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fedtoken/fedtoken/core/jwt"
	"github.com/fedtoken/fedtoken/e2e/idp/mockidp"
	"github.com/fedtoken/fedtoken/e2e/internal/issued"
)

// TestJWTBearerKeyMockIdP: the fedtoken CLI (bin/fedtoken) with authFlow
// jwt_bearer_key gets a token from the harness's mockidp: it signs an
// RFC 7523 assertion with the key client's private key file (iss = sub =
// the client id, aud = the discovered token endpoint) and mockidp verifies
// it with the client's registered public key. The same key with
// assertion.audience naming the other issuer is refused for its audience,
// with the failed check in mockidp's log and fedtoken's hint.
func TestJWTBearerKeyMockIdP(t *testing.T) {
	e := requireMockIdP(t)
	ctx := testContext(t, 2*time.Minute)
	cli := filepath.Join(e.RepoRoot, "bin", "fedtoken")
	if _, err := os.Stat(cli); err != nil {
		t.Skipf("needs %s (make build)", cli)
	}
	dir := t.TempDir()
	keyPEM, err := os.ReadFile(e.MockIdP.KeyClientKeyFile())
	if err != nil {
		t.Fatal(err)
	}
	// The secret scan after the run looks for the key in every log.
	for _, line := range strings.Split(string(keyPEM), "\n") {
		if !strings.HasPrefix(line, "-----") {
			issued.Record(line)
		}
	}
	config := filepath.Join(dir, "fedtoken.yaml")
	write := func(audience string) {
		t.Helper()
		aud := ""
		if audience != "" {
			aud = ", audience: " + audience
		}
		cfg := "providers:\n"
		for _, issuer := range mockidp.Issuers {
			cfg += "  " + issuer + ":\n" +
				"    issuer: " + e.MockIdP.Issuer(issuer) + "\n" +
				"    clientId: " + mockidp.KeyClientID + "\n" +
				"    authFlow: jwt_bearer_key\n" +
				"    allowInsecureHTTP: true\n" +
				"    assertion: {privateKeyFile: " + e.MockIdP.KeyClientKeyFile() + aud + "}\n"
		}
		if err := os.WriteFile(config, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	run := func(args ...string) (stdout, stderr string, err error) {
		cmd := exec.CommandContext(ctx, cli, append([]string{"--config", config, "--cache-dir", filepath.Join(dir, "cache")}, args...)...)
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		err = cmd.Run()
		if strings.Contains(o.String()+e.String(), strings.Split(string(keyPEM), "\n")[1]) {
			t.Errorf("fedtoken %v printed the private key", args)
		}
		return o.String(), e.String(), err
	}

	write("")
	for _, issuer := range mockidp.Issuers {
		t.Run(issuer, func(t *testing.T) {
			out, errOut, err := run("token", issuer)
			if err != nil {
				t.Fatalf("fedtoken token %s: %v\n%s", issuer, err, errOut)
			}
			issued.Record(strings.TrimSpace(out))
			_, c, err := jwt.Decode(strings.TrimSpace(out))
			if err != nil {
				t.Fatal(err)
			}
			if c.Issuer != e.MockIdP.Issuer(issuer) || c.Subject != mockidp.KeyClientID || c.Raw["client_id"] != mockidp.KeyClientID {
				t.Errorf("access token iss=%s sub=%s client_id=%v, want %s and %s", c.Issuer, c.Subject, c.Raw["client_id"], e.MockIdP.Issuer(issuer), mockidp.KeyClientID)
			}
		})
	}

	// An assertion for prod's audience presented to staging (with an empty
	// cache: the token above stays valid whatever the next assertion says).
	if err := os.RemoveAll(filepath.Join(dir, "cache")); err != nil {
		t.Fatal(err)
	}
	write(e.MockIdP.Issuer(mockidp.Prod))
	_, errOut, err := run("token", mockidp.Staging)
	if code, ok := err.(*exec.ExitError); !ok || code.ExitCode() != 5 {
		t.Fatalf("fedtoken token staging with prod's audience: %v, want exit 5 (rejected)\n%s", err, errOut)
	}
	for _, want := range []string{"invalid_grant", "audience", "assertion.audience"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	r := mockidpRejection(t, ctx, e, mockidp.Staging, "", "audience", e.MockIdP.Issuer(mockidp.Prod))
	if r.Outcome != "invalid_grant" || r.Client != mockidp.KeyClientID {
		t.Errorf("mockidp logged %+v, want an invalid_grant of client %s", r, mockidp.KeyClientID)
	}
}
