//go:build e2e

package suites

import (
	"context"
	"flag"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/fedtoken/fedtoken/e2e/cluster"
	"github.com/fedtoken/fedtoken/e2e/harness"
)

// env is the environment every test shares; skipReason is set instead when
// this machine cannot run the selected cluster backend.
var (
	env        *harness.Env
	skipReason string
)

func TestMain(m *testing.M) {
	flag.Parse()
	// The local backend runs this binary again inside a network namespace
	// of its own; this process only waits for it and watches the host's.
	code, ran, err := harness.Isolate(logf)
	if ran {
		os.Exit(code)
	}
	os.Exit(run(m, err))
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

// run sets up the environment and runs the tests; isolateErr is
// harness.Isolate's error, if any.
func run(m *testing.M, isolateErr error) int {
	if reason, ok := cluster.IsUnavailable(isolateErr); ok {
		skipReason = reason
		logf("e2e: every suite skips: %s", reason)
		return m.Run()
	}
	if isolateErr != nil {
		logf("e2e: %v", isolateErr)
		return 1
	}
	// Start-up deadline: a cold first Keycloak start augments its
	// distribution, which takes minutes on two busy cores.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	e, err := harness.Setup(ctx, logf, startNaturalRotation)
	if reason, ok := cluster.IsUnavailable(err); ok {
		skipReason = reason
		logf("e2e: every suite skips: %s", reason)
		return m.Run()
	}
	if err != nil {
		logf("e2e: setup failed: %v", err)
		if e != nil {
			logf("e2e: logs of every component are in %s", e.Artifacts)
		}
		return 1
	}
	env = e
	watchNaturalRotation(ctx, e)
	code := m.Run()
	env.Teardown(context.Background(), code != 0)
	return code
}

// requireEnv skips the test when the environment could not run here.
func requireEnv(t *testing.T) *harness.Env {
	t.Helper()
	if env == nil {
		t.Skip(skipReason)
	}
	return env
}

// requireKeycloak and requireDex skip when E2E_IDPS left that IdP out.
func requireKeycloak(t *testing.T) *harness.Env {
	t.Helper()
	e := requireEnv(t)
	if e.Keycloak == nil {
		t.Skip("keycloak not started (E2E_IDPS=" + os.Getenv("E2E_IDPS") + ")")
	}
	return e
}

func requireDex(t *testing.T) *harness.Env {
	t.Helper()
	e := requireEnv(t)
	if e.Dex == nil {
		t.Skip("dex not started (E2E_IDPS=" + os.Getenv("E2E_IDPS") + ")")
	}
	return e
}

// testContext is a per-test context bounded by deadline.
func testContext(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

// requestToken gets a TokenRequest token for the e2e workload.
func requestToken(t *testing.T, ctx context.Context, audience string) string {
	t.Helper()
	e := requireEnv(t)
	tok, err := cluster.RequestToken(ctx, e.Cluster.Client(), harness.Namespace, harness.ServiceAccount, audience, cluster.MinTokenSeconds)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// requireMockIdP skips when fedtoken-mockidp was not started, with why.
func requireMockIdP(t *testing.T) *harness.Env {
	t.Helper()
	e := requireEnv(t)
	if e.MockIdP == nil {
		t.Skip("mockidp not started: " + e.MockIdPMissing)
	}
	return e
}
