//go:build e2e

package suites

import (
	"context"
	"flag"
	"fmt"
	"os"
	"regexp"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fedtoken/fedtoken/e2e/cluster"
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
// TestMain creates the pod while the IdPs start (startNaturalRotation, from
// harness.Setup's hook) and this test checks the outcome at the end.
//
// A kubelet restart would rotate the token by force. On a backend with a
// quiet node (kind: a worker tainted for this one pod; RestartKubelet
// restarts only the control plane's kubelet) nothing the other suites do
// reaches the pod, so this test is parallel: go test runs it after every
// other (sequential) test, and the run ends shortly after the kubelet's
// swap. On a backend without one (local, E2E_NATURAL_ROTATION=1) it is
// sequential and runs in file order: this file's name sorts before
// rotation_test.go and sidecar_rotation_test.go, the suites that restart
// the kubelet, and nothing before it restarts the kubelet.
func TestSidecarNaturalRotation(t *testing.T) {
	e := requireEnv(t)
	if !naturalRotationOn(e.Cluster.Backend()) {
		t.Skipf("takes about 9 minutes: off on the local backend unless %s=1 (on by default on kind)", NaturalRotationEnv)
	}
	if quietNode(e) != nil {
		t.Parallel()
	}
	sidecarRotation(t, true)
}

// quietPlacement pins a pod to a backend's quiet node.
type quietPlacement struct {
	node        string
	tolerations []corev1.Toleration
}

// quietNoder is a backend with a node kept for one pod that must not see
// kubelet restarts (kind.Cluster.QuietNode).
type quietNoder interface {
	QuietNode() (string, []corev1.Toleration)
}

// quietNode is the backend's quiet node, or nil when it has none.
func quietNode(e *harness.Env) *quietPlacement {
	q, ok := e.Cluster.(quietNoder)
	if !ok {
		return nil
	}
	node, tol := q.QuietNode()
	if node == "" {
		return nil
	}
	return &quietPlacement{node: node, tolerations: tol}
}

// naturalEarly is the natural rotation pod TestMain created, if it did.
var naturalEarly struct {
	started     bool
	created     time.Time
	keycloakURL string        // the pod's configuration and token audience use it
	done        chan struct{} // closed once first or err is set
	first       projection
	err         error
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

// startNaturalRotation creates the natural rotation suite's pod, when that
// suite is going to run, as soon as the cluster is up and the images are
// loaded: harness.Setup calls it before it starts the IdPs, with Keycloak's
// URL already known (KeycloakPlannedURL). The kubelet projects the pod's
// token at once and its clock runs from there; the sidecar retries (with
// backoff) until Keycloak answers, and the app starts after it.
func startNaturalRotation(ctx context.Context, e *harness.Env) {
	if !naturalRotationOn(e.Cluster.Backend()) || !selected("TestSidecarNaturalRotation") || e.KeycloakPlannedURL == "" {
		return
	}
	image, ok := e.Images["fedtoken-sidecar"]
	if !ok {
		return // the test skips and says why
	}
	naturalEarly.started, naturalEarly.done = true, make(chan struct{})
	naturalEarly.created, naturalEarly.keycloakURL = time.Now(), e.KeycloakPlannedURL
	if err := createRotationPod(ctx, e, naturalRotationName, image, naturalEarly.keycloakURL, quietNode(e)); err != nil {
		naturalEarly.err = err
		close(naturalEarly.done)
		return
	}
	where := ""
	if q := quietNode(e); q != nil {
		where = " on the quiet node " + q.node
	}
	logf("e2e: created pod %s%s for TestSidecarNaturalRotation: the kubelet rotates its token in about 8 minutes, while the other suites run", naturalRotationName, where)
}

// watchNaturalRotation, once setup is done, reads in the background the
// token the kubelet first projected into the natural rotation pod. Should
// Keycloak have started on another port than planned (someone took it),
// the pod is created again with the right URL first.
func watchNaturalRotation(ctx context.Context, e *harness.Env) {
	if !naturalEarly.started || naturalEarly.err != nil {
		return
	}
	if e.Keycloak == nil || e.Keycloak.URL() != naturalEarly.keycloakURL {
		c := e.Cluster.Client()
		got := "not started"
		if e.Keycloak != nil {
			got = e.Keycloak.URL()
		}
		logf("e2e: keycloak is at %s, not %s as planned: creating pod %s again", got, naturalEarly.keycloakURL, naturalRotationName)
		err := cluster.DeletePodAndWait(ctx, c, harness.Namespace, naturalRotationName, time.Minute)
		if err == nil {
			err = c.CoreV1().ConfigMaps(harness.Namespace).Delete(ctx, naturalRotationName, metav1.DeleteOptions{})
		}
		if err == nil && e.Keycloak == nil {
			err = fmt.Errorf("keycloak did not start")
		}
		if err == nil {
			naturalEarly.created, naturalEarly.keycloakURL = time.Now(), e.Keycloak.URL()
			err = createRotationPod(ctx, e, naturalRotationName, e.Images["fedtoken-sidecar"], naturalEarly.keycloakURL, quietNode(e))
		}
		if err != nil {
			naturalEarly.err = err
			close(naturalEarly.done)
			return
		}
	}
	go func() {
		defer close(naturalEarly.done)
		// The sidecar may have backed off while Keycloak started: it and
		// then the app start within a couple of minutes of setup.
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
