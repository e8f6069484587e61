//go:build e2e

package suites

import (
	"context"
	"flag"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/fedtoken/fedtoken/e2e/harness"
)

// NaturalRotationEnv turns TestSidecarNaturalRotation on ("1") or off
// ("0"). Unset, it runs on the kind backend and not on the local one.
const NaturalRotationEnv = "E2E_NATURAL_ROTATION"

// naturalRotationName names the natural rotation suite's pod and ConfigMap.
const naturalRotationName = "sidecar-natural-rotation"

// The same as TestSidecarRotation, but nothing forces the rotation: the
// kubelet itself rewrites the 600 s token when it is about 80 % through its
// life (about 8 minutes after the pod starts), under the same steady traffic.
//
// Those 8 minutes are spent waiting, so the wait overlaps the other suites:
// TestMain creates the pod right after setup (startNaturalRotation) and this
// test, which sorts after every suite but those that restart the kubelet
// (this file's name sorts before rotation_test.go; a restart would rotate
// the token by force), checks the outcome. Nothing before it restarts the
// kubelet.
func TestSidecarNaturalRotation(t *testing.T) {
	if !naturalRotationOn(requireEnv(t).Cluster.Backend()) {
		t.Skipf("takes about 9 minutes: off on the local backend unless %s=1 (on by default on kind)", NaturalRotationEnv)
	}
	sidecarRotation(t, true)
}

// naturalEarly is the natural rotation pod TestMain created, if it did.
var naturalEarly struct {
	started bool
	created time.Time
	done    chan struct{} // closed once first or err is set
	first   projection
	err     error
}

// naturalRotationOn says whether the natural rotation suite runs on backend.
func naturalRotationOn(backend string) bool {
	switch os.Getenv(NaturalRotationEnv) {
	case "1":
		return true
	case "0":
		return false
	}
	return backend == "kind"
}

// startNaturalRotation creates the natural rotation suite's pod right after
// setup, when that suite is going to run, and reads the token the kubelet
// first projects into it in the background.
func startNaturalRotation(ctx context.Context, e *harness.Env) {
	if !naturalRotationOn(e.Cluster.Backend()) || !selected("TestSidecarNaturalRotation") || e.Keycloak == nil {
		return
	}
	image, ok := e.Images["fedtoken-sidecar"]
	if !ok {
		return // the test skips and says why
	}
	naturalEarly.started, naturalEarly.created, naturalEarly.done = true, time.Now(), make(chan struct{})
	if err := createRotationPod(ctx, e, naturalRotationName, image); err != nil {
		naturalEarly.err = err
		close(naturalEarly.done)
		return
	}
	logf("e2e: created pod %s for TestSidecarNaturalRotation: the kubelet rotates its token in about 8 minutes, while the other suites run", naturalRotationName)
	go func() {
		defer close(naturalEarly.done)
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 4*time.Minute)
		defer cancel()
		naturalEarly.first, naturalEarly.err = firstProjection(ctx, e, naturalRotationName)
	}()
}

// selected reports whether -test.run and -test.skip let the top-level test
// name run (matched against their first '/'-separated element, as go test
// matches top-level tests).
func selected(name string) bool {
	match := func(flagName string, empty bool) bool {
		f := flag.Lookup(flagName)
		if f == nil || f.Value.String() == "" {
			return empty
		}
		re, err := regexp.Compile(topLevel(f.Value.String()))
		return err == nil && re.MatchString(name)
	}
	return match("test.run", true) && !match("test.skip", false)
}

// topLevel returns the first '/'-separated element of a -run pattern
// (outside brackets and parentheses).
func topLevel(pattern string) string {
	depth := 0
	for i, r := range pattern {
		switch r {
		case '(', '[':
			depth++
		case ')', ']':
			depth--
		case '/':
			if depth == 0 {
				return pattern[:i]
			}
		}
	}
	return pattern
}
