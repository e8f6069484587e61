//go:build e2e

package suites

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"github.com/fedtoken/fedtoken/e2e/cluster"
	"github.com/fedtoken/fedtoken/e2e/harness"
	"github.com/fedtoken/fedtoken/e2e/internal/wait"
)

// runTwoProviderPod runs the multi-provider pod of the seed: two projected
// tokens (audiences prodAud and stagingAud) at /var/run/secrets/tokens/prod
// and …/staging, one native sidecar serving the providers "prod" and
// "staging" of config on 127.0.0.1:8181 and :8182, and an app per provider
// calling through its proxy. It waits until each app has received an access
// token, checks that each token came from its own issuer (prodAud,
// stagingAud) and that no app request failed, and returns the running pod.
// The pod and its ConfigMap are deleted when the test ends (logs first, if
// it failed).
func runTwoProviderPod(t *testing.T, ctx context.Context, e *harness.Env, name, config, prodAud, stagingAud, sidecarImage string, sidecarArgs ...string) *corev1.Pod {
	t.Helper()
	c := e.Cluster.Client()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: harness.Namespace}, Data: map[string]string{"config.yaml": config}}
	if _, err := c.CoreV1().ConfigMaps(harness.Namespace).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	always := corev1.ContainerRestartPolicyAlways
	app := func(name, target, upstream string) corev1.Container {
		return corev1.Container{
			Name: name, Image: e.Images[harness.ProbeImage], ImagePullPolicy: corev1.PullNever,
			Args: []string{"-target", target, "-upstream-addr", upstream, "-interval", "250ms", "-summary", "2s"},
		}
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: harness.Namespace},
		Spec: corev1.PodSpec{
			ServiceAccountName:           harness.ServiceAccount,
			AutomountServiceAccountToken: new(false),
			InitContainers: []corev1.Container{{
				Name: "fedtoken-sidecar", Image: sidecarImage, ImagePullPolicy: corev1.PullNever, RestartPolicy: &always,
				Args: append([]string{"--config", "/etc/fedtoken/config.yaml",
					"--proxy", "prod=127.0.0.1:8181", "--proxy", "staging=127.0.0.1:8182",
					"--health-addr", ":9902"}, sidecarArgs...),
				Env: []corev1.EnvVar{{Name: "FEDTOKEN_CACHE_DIR", Value: "/tmp/fedtoken-cache"}},
				StartupProbe: &corev1.Probe{
					ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/readyz", Port: intstr.FromInt32(9902)}},
					PeriodSeconds: 1, FailureThreshold: 120,
				},
				VolumeMounts: []corev1.VolumeMount{
					{Name: "prod-token", MountPath: "/var/run/secrets/tokens/prod", ReadOnly: true},
					{Name: "staging-token", MountPath: "/var/run/secrets/tokens/staging", ReadOnly: true},
					{Name: "config", MountPath: "/etc/fedtoken", ReadOnly: true},
				},
			}},
			Containers: []corev1.Container{
				app("app-prod", "http://127.0.0.1:8181/v1/models", "127.0.0.1:8080"),
				app("app-staging", "http://127.0.0.1:8182/v1/models", "127.0.0.1:8081"),
			},
			Volumes: []corev1.Volume{
				cluster.ProjectedTokenVolume("prod-token", prodAud, "token", cluster.MinTokenSeconds),
				cluster.ProjectedTokenVolume("staging-token", stagingAud, "token", cluster.MinTokenSeconds),
				{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: name}}}},
			},
		},
	}
	if _, err := c.CoreV1().Pods(harness.Namespace).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	deletePodWhenDone(t, ctx, c, name, 30, "fedtoken-sidecar", "app-prod", "app-staging")
	running, err := cluster.WaitPodRunning(ctx, c, harness.Namespace, name, 3*time.Minute)
	if err != nil {
		t.Fatal(err)
	}

	// Each app gets access tokens from its own issuer, with no failed request.
	for _, tt := range []struct{ container, issuer string }{
		{"app-prod", prodAud},
		{"app-staging", stagingAud},
	} {
		var got []probeEvent
		err := wait.Until(ctx, tt.container+" to call with an access token from "+tt.issuer, time.Minute, time.Second, func(ctx context.Context) (bool, error) {
			logs, err := cluster.PodLogs(ctx, c, harness.Namespace, name, tt.container)
			if err != nil {
				return false, wait.NotYet("%v", err)
			}
			got = probeEvents(logs)
			for _, ev := range got {
				if ev.Event == "token" {
					return true, nil
				}
			}
			return false, wait.NotYet("no token yet")
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range got {
			if ev.Event == "token" && ev.Issuer != tt.issuer {
				t.Errorf("%s got an access token from %q, want %q", tt.container, ev.Issuer, tt.issuer)
			}
			if ev.Event == "failure" || ev.Failures > 0 {
				t.Errorf("%s: failed request %+v", tt.container, ev)
			}
		}
	}
	return running
}

// deletePodWhenDone deletes the pod name and the ConfigMap of the same name
// when the test ends; if the test failed it first logs the last logLines
// lines of each of containers (JWTs redacted).
func deletePodWhenDone(t *testing.T, ctx context.Context, c kubernetes.Interface, name string, logLines int, containers ...string) {
	t.Cleanup(func() {
		ctx := context.WithoutCancel(ctx)
		if t.Failed() {
			for _, ctr := range containers {
				if logs, err := cluster.PodLogs(ctx, c, harness.Namespace, name, ctr); err == nil {
					t.Logf("%s logs:\n%s", ctr, redactJWTs(tail(logs, logLines)))
				}
			}
		}
		_ = cluster.DeletePodAndWait(ctx, c, harness.Namespace, name, time.Minute)
		_ = c.CoreV1().ConfigMaps(harness.Namespace).Delete(ctx, name, metav1.DeleteOptions{})
	})
}
