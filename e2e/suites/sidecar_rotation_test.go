//go:build e2e

package suites

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/fedtoken/fedtoken/e2e/cluster"
	"github.com/fedtoken/fedtoken/e2e/harness"
	"github.com/fedtoken/fedtoken/e2e/idp/keycloak"
	"github.com/fedtoken/fedtoken/e2e/internal/wait"
)

// probeEvent is one line of e2eprobe's output.
type probeEvent struct {
	Event    string `json:"event"`
	JTI      string `json:"jti"`
	IAT      int64  `json:"iat"`
	Issuer   string `json:"iss"`
	Status   int    `json:"status"`
	Error    string `json:"error"`
	Body     string `json:"body"`
	BaseURL  string `json:"base_url"`
	Requests int    `json:"requests"`
	Failures int    `json:"failures"`
	Tokens   int    `json:"tokens"`
}

func probeEvents(logs string) []probeEvent {
	var out []probeEvent
	sc := bufio.NewScanner(strings.NewReader(logs))
	for sc.Scan() {
		var e probeEvent
		if json.Unmarshal(sc.Bytes(), &e) == nil && e.Event != "" {
			out = append(out, e)
		}
	}
	return out
}

// Rotation: a pod with a projected token (expirationSeconds 600), the
// sidecar as a native sidecar (federated client_credentials at Keycloak,
// access tokens of 60 s) and an app calling a loopback upstream through the
// sidecar every 250 ms. The kubelet rotates the token (forced by a kubelet
// restart: ..data is swapped); Keycloak's log shows the next access token
// was obtained with the new service-account token (its jti as
// client_assertion_id); the app sees the new access token and no request
// fails throughout.
func TestSidecarRotation(t *testing.T) { sidecarRotation(t, false) }

// sidecarRotation runs the rotation suite; natural leaves the rotation to
// the kubelet's own schedule instead of restarting it.
func sidecarRotation(t *testing.T, natural bool) {
	e := requireKeycloak(t)
	sidecarImage, ok := e.Images["fedtoken-sidecar"]
	if !ok {
		t.Skip("needs image bin/images/fedtoken-sidecar.tar (make images)")
	}
	restarter, ok := e.Cluster.(kubeletRestarter)
	if !ok && !natural {
		t.Skipf("the %s backend cannot restart the kubelet to force a rotation", e.Cluster.Backend())
	}
	timeout, swapWithin := 8*time.Minute, 2*time.Minute
	name := "sidecar-rotation"
	if natural {
		// ~80 % of 600 s plus the kubelet's jitter, plus start-up and the checks after.
		timeout, swapWithin, name = 18*time.Minute, 11*time.Minute, naturalRotationName
	}
	ctx := testContext(t, timeout)
	c := e.Cluster.Client()
	var first projection
	if natural && naturalEarly.started {
		// TestMain created the pod while the IdPs started (see
		// rotation_natural_test.go): the kubelet's clock has been running.
		deletePodWhenDone(t, ctx, c, name, 40, "fedtoken-sidecar", "app")
		select {
		case <-naturalEarly.done:
		case <-ctx.Done():
			t.Fatalf("the pod TestMain created: %v", ctx.Err())
		}
		if naturalEarly.err != nil {
			t.Fatal(naturalEarly.err)
		}
		first = naturalEarly.first
		t.Logf("pod created by TestMain %s ago (on node %s); its first token was projected into ..data %s", time.Since(naturalEarly.created).Round(time.Second), first.node, first.data)
	} else {
		if err := createRotationPod(ctx, e, name, sidecarImage, e.Keycloak.URL(), nil); err != nil {
			t.Fatal(err)
		}
		deletePodWhenDone(t, ctx, c, name, 40, "fedtoken-sidecar", "app")
		var err error
		if first, err = firstProjection(ctx, e, name); err != nil {
			t.Fatal(err)
		}
	}
	dir, data1, sa1 := first.dir, first.data, first.token

	appEvents := func(ctx context.Context) ([]probeEvent, error) {
		logs, err := cluster.PodLogs(ctx, c, harness.Namespace, name, "app")
		if err != nil {
			return nil, err
		}
		return probeEvents(logs), nil
	}
	// Traffic flows through the sidecar before the rotation.
	if err := wait.Until(ctx, "the app's first successful calls through the sidecar", time.Minute, time.Second, func(ctx context.Context) (bool, error) {
		evs, err := appEvents(ctx)
		if err != nil {
			return false, wait.NotYet("%v", err)
		}
		for _, ev := range evs {
			if ev.Event == "token" {
				return true, nil
			}
		}
		return false, wait.NotYet("%d events, no token yet", len(evs))
	}); err != nil {
		t.Fatal(err)
	}

	// Rotate: the restarted kubelet re-projects the token (or, natural,
	// the kubelet does so on its own schedule).
	if !natural {
		if err := wait.Until(ctx, "the clock to pass the first token's iat", 5*time.Second, 100*time.Millisecond, func(context.Context) (bool, error) {
			return float64(time.Now().Unix()) > claims(t, sa1)["iat"].(float64), nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := restarter.RestartKubelet(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var data2, sa2 string
	if err := wait.Until(ctx, "the kubelet to swap ..data of "+dir, swapWithin, 250*time.Millisecond, func(context.Context) (bool, error) {
		data2, sa2 = readProjected(t, dir)
		if data2 == data1 {
			return false, wait.NotYet("..data still -> %s", data1)
		}
		return true, nil
	}); err != nil {
		t.Fatal(err)
	}
	jti2, _ := claims(t, sa2)["jti"].(string)
	rotatedAt := int64(claims(t, sa2)["iat"].(float64))
	t.Logf("kubelet rotated the token: ..data %s -> %s, jti %v -> %s", data1, data2, claims(t, sa1)["jti"], jti2)
	if natural && naturalEarly.started {
		t.Logf("the kubelet requested the new token %s after TestMain created the pod (its iat; ..data's new name is the time it wrote it)",
			time.Unix(rotatedAt, 0).Sub(naturalEarly.created).Round(time.Second))
	}

	// Keycloak's event log: a client_credentials login whose client
	// assertion is the new service-account token.
	loginLine := `client_assertion_id="` + jti2 + `"`
	if err := wait.Until(ctx, "keycloak to log a CLIENT_LOGIN with the rotated token ("+loginLine+")", 3*keycloak.AccessTokenLifespan*time.Second, time.Second, func(ctx context.Context) (bool, error) {
		data, err := e.Keycloak.ReadLog(ctx)
		if err != nil {
			return false, err
		}
		for _, line := range strings.Split(string(data), "\n") {
			if strings.Contains(line, `type="CLIENT_LOGIN"`) && strings.Contains(line, loginLine) {
				return true, nil
			}
		}
		return false, wait.NotYet("not in %s yet", e.Keycloak.LogPath())
	}); err != nil {
		t.Fatal(err)
	}

	// The app receives an access token issued after the rotation, the
	// sidecar keeps refreshing (at least three access tokens in all), and not
	// one request fails.
	const wantTokens = 3
	var last probeEvent
	if err := wait.Until(ctx, fmt.Sprintf("the app to see %d access tokens, one issued after the rotation", wantTokens), 4*keycloak.AccessTokenLifespan*time.Second, time.Second, func(ctx context.Context) (bool, error) {
		evs, err := appEvents(ctx)
		if err != nil {
			return false, wait.NotYet("%v", err)
		}
		tokens, afterRotation := 0, false
		for _, ev := range evs {
			switch ev.Event {
			case "summary":
				last = ev
			case "token":
				tokens++
				afterRotation = afterRotation || ev.IAT >= rotatedAt
			}
		}
		if !afterRotation || tokens < wantTokens {
			return false, wait.NotYet("%d access tokens, one issued at or after %d: %v (last summary %+v)", tokens, rotatedAt, afterRotation, last)
		}
		return true, nil
	}); err != nil {
		t.Fatal(err)
	}
	evs, err := appEvents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var failures []probeEvent
	tokens := 0
	for _, ev := range evs {
		switch ev.Event {
		case "failure":
			failures = append(failures, ev)
		case "summary":
			last = ev
		case "token":
			tokens++
		}
	}
	if len(failures) > 0 || last.Failures > 0 {
		t.Errorf("%d app requests failed through the sidecar, e.g. %+v", max(len(failures), last.Failures), failures[:min(len(failures), 3)])
	}
	t.Logf("app: %d access tokens, %d failed requests; last summary: %d requests, %d failures", tokens, len(failures), last.Requests, last.Failures)
}

// createRotationPod creates the rotation suites' ConfigMap and pod: the
// sidecar (federated client_credentials at the Keycloak at keycloakURL) as a
// native sidecar and the app calling through it every 250 ms. A non-nil
// quiet pins the pod to that node (quietNode).
func createRotationPod(ctx context.Context, e *harness.Env, name, sidecarImage, keycloakURL string, quiet *quietPlacement) error {
	c := e.Cluster.Client()
	realmIssuer := keycloak.RealmIssuer(keycloakURL, keycloak.FederatedRealm)
	config := "providers:\n" + federatedProvider("keycloak", realmIssuer, keycloak.FederatedClientID, "http://127.0.0.1:8080", "")
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: harness.Namespace}, Data: map[string]string{"config.yaml": config}}
	if _, err := c.CoreV1().ConfigMaps(harness.Namespace).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		return err
	}
	always := corev1.ContainerRestartPolicyAlways
	tokenMount := corev1.VolumeMount{Name: "oauth2-token", MountPath: "/var/run/secrets/tokens/oauth2", ReadOnly: true}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: harness.Namespace},
		Spec: corev1.PodSpec{
			ServiceAccountName:           harness.ServiceAccount,
			AutomountServiceAccountToken: new(false),
			InitContainers: []corev1.Container{{
				Name:            "fedtoken-sidecar",
				Image:           sidecarImage,
				ImagePullPolicy: corev1.PullNever,
				RestartPolicy:   &always,
				Args: []string{"--config", "/etc/fedtoken/config.yaml", "--proxy", "keycloak=127.0.0.1:8181",
					"--health-addr", ":9902", "--log-level", "debug"},
				Env: []corev1.EnvVar{{Name: "FEDTOKEN_CACHE_DIR", Value: "/tmp/fedtoken-cache"}},
				StartupProbe: &corev1.Probe{
					ProbeHandler:     corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/readyz", Port: intstr.FromInt32(9902)}},
					PeriodSeconds:    1,
					FailureThreshold: 120,
				},
				VolumeMounts: []corev1.VolumeMount{tokenMount, {Name: "config", MountPath: "/etc/fedtoken", ReadOnly: true}},
			}},
			Containers: []corev1.Container{{
				Name:            "app",
				Image:           e.Images[harness.ProbeImage],
				ImagePullPolicy: corev1.PullNever,
				Args:            []string{"-target", "http://127.0.0.1:8181/v1/models", "-upstream-addr", "127.0.0.1:8080", "-interval", "250ms", "-summary", "2s"},
			}},
			Volumes: []corev1.Volume{
				cluster.ProjectedTokenVolume("oauth2-token", realmIssuer, "token", cluster.MinTokenSeconds),
				{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: name}}}},
			},
		},
	}
	if quiet != nil {
		pod.Spec.NodeName, pod.Spec.Tolerations = quiet.node, quiet.tolerations
	}
	_, err := c.CoreV1().Pods(harness.Namespace).Create(ctx, pod, metav1.CreateOptions{})
	return err
}

// projection is what the kubelet first projected into a pod's token volume.
type projection struct {
	node, dir, data, token string
}

// firstProjection waits for the rotation pod to run and reads its token
// volume from the node.
func firstProjection(ctx context.Context, e *harness.Env, name string) (projection, error) {
	running, err := cluster.WaitPodRunning(ctx, e.Cluster.Client(), harness.Namespace, name, 3*time.Minute)
	if err != nil {
		return projection{}, err
	}
	dir, err := e.Cluster.PodVolumeDir(running, "oauth2-token")
	if err != nil {
		return projection{}, fmt.Errorf("cannot read the node's volume from the host: %w", err)
	}
	data, token, err := projected(dir)
	return projection{node: running.Spec.NodeName, dir: dir, data: data, token: token}, err
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
