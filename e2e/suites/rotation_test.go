//go:build e2e

package suites

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fedtoken/fedtoken/e2e/idp/keycloak"
	"github.com/fedtoken/fedtoken/e2e/internal/issued"
	"github.com/fedtoken/fedtoken/e2e/internal/wait"
)

// kubeletRestarter is implemented by backends that can restart the kubelet.
type kubeletRestarter interface {
	RestartKubelet(ctx context.Context) error
}

// The kubelet rotates a projected token by swapping ..data to a new
// timestamped directory; the token file itself is never rewritten. A kubelet
// restart forces the rotation that otherwise comes at ~80 % of the TTL.
// The rotated token is a different, newer token, and Keycloak accepts it.
func TestKubeletRotatesProjectedToken(t *testing.T) {
	e := requireKeycloak(t)
	restarter, ok := e.Cluster.(kubeletRestarter)
	if !ok {
		t.Skipf("the %s backend cannot restart the kubelet", e.Cluster.Backend())
	}
	ctx := testContext(t, 5*time.Minute)
	audience := keycloak.RealmIssuer(e.Keycloak.URL(), keycloak.FederatedRealm)
	_, dir := projectedTokenPod(t, ctx, e, "rotation", audience)
	data1, tok1 := readProjected(t, dir)

	// Claims have one-second resolution: make sure the next token's iat differs.
	if err := wait.Until(ctx, "the clock to pass the first token's iat", 5*time.Second, 100*time.Millisecond, func(context.Context) (bool, error) {
		return float64(time.Now().Unix()) > claims(t, tok1)["iat"].(float64), nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := restarter.RestartKubelet(ctx); err != nil {
		t.Fatal(err)
	}
	var data2, tok2 string
	if err := wait.Until(ctx, "the kubelet to swap ..data of "+dir, 2*time.Minute, 250*time.Millisecond, func(context.Context) (bool, error) {
		data2, tok2 = readProjected(t, dir)
		if data2 == data1 {
			return false, wait.NotYet("..data still -> %s", data1)
		}
		return true, nil
	}); err != nil {
		t.Fatal(err)
	}
	if tok2 == tok1 {
		t.Fatal("..data was swapped but the token is the same")
	}
	c1, c2 := claims(t, tok1), claims(t, tok2)
	if c2["iat"].(float64) <= c1["iat"].(float64) || c2["jti"] == c1["jti"] {
		t.Errorf("rotated token iat=%v jti=%v, previous iat=%v jti=%v: want a newer token", c2["iat"], c2["jti"], c1["iat"], c1["jti"])
	}
	if _, err := os.Stat(filepath.Join(dir, data1)); !os.IsNotExist(err) {
		t.Errorf("old ..data target %s still exists (err %v): the atomic writer removes it", data1, err)
	}
	t.Logf("..data: %s -> %s", data1, data2)

	resp := postToken(t, ctx, keycloak.TokenEndpoint(e.Keycloak.URL(), keycloak.FederatedRealm), url.Values{
		"grant_type": {"client_credentials"}, "client_assertion_type": {clientAssertionTypeJWT}, "client_assertion": {tok2},
	}, "", "")
	if resp.Status != http.StatusOK {
		t.Fatalf("client_credentials with the rotated token: %s", errorBody(resp))
	}
}

// readProjected returns the ..data target and the token, checking that the
// token path is still the symlink into ..data.
func readProjected(t *testing.T, dir string) (dataTarget, token string) {
	t.Helper()
	dataTarget, token, err := projected(dir)
	if err != nil {
		t.Fatal(err)
	}
	return dataTarget, token
}

// projected is readProjected for callers without a *testing.T.
func projected(dir string) (dataTarget, token string, err error) {
	link, err := os.Readlink(filepath.Join(dir, "token"))
	if err != nil || link != "..data/token" {
		return "", "", fmt.Errorf("%s/token -> %q (%v), want ..data/token", dir, link, err)
	}
	if dataTarget, err = os.Readlink(filepath.Join(dir, "..data")); err != nil {
		return "", "", err
	}
	raw, err := os.ReadFile(filepath.Join(dir, "token"))
	if err != nil {
		return "", "", err
	}
	issued.Record(string(raw))
	return dataTarget, strings.TrimSpace(string(raw)), nil
}
