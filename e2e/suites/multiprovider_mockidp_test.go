//go:build e2e

package suites

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/fedtoken/fedtoken/e2e/cluster"
	"github.com/fedtoken/fedtoken/e2e/harness"
	"github.com/fedtoken/fedtoken/e2e/idp/mockidp"
	"github.com/fedtoken/fedtoken/e2e/internal/wait"
)

// Multi-provider against mockidp's two issuers in one process: one pod, two
// projected tokens (audiences: the prod and the staging issuer) at two
// paths, one sidecar serving "prod" (federated client_credentials) and
// "staging" (jwt_bearer). Each app gets access tokens only from its own
// issuer; every request mockidp saw from the pod was accepted — each issuer
// pins the audience to itself, so a provider reading the other's path
// would have been refused; and the staging token replayed to prod is
// refused with the failed check named.
func TestSidecarMultiProviderMockIdP(t *testing.T) {
	e := requireMockIdP(t)
	sidecarImage, ok := e.Images["fedtoken-sidecar"]
	if !ok {
		t.Skip("needs image bin/images/fedtoken-sidecar.tar (make images)")
	}
	ctx := testContext(t, 5*time.Minute)
	c := e.Cluster.Client()
	prod, staging := e.MockIdP.Issuer(mockidp.Prod), e.MockIdP.Issuer(mockidp.Staging)
	before, err := e.MockIdP.Requests()
	if err != nil {
		t.Fatal(err)
	}
	const name = "multi-provider-mockidp"
	config := fmt.Sprintf(`providers:
  prod:
    issuer: %s
    clientId: %s
    baseURL: http://127.0.0.1:8080
    authFlow: client_credentials
    clientAuth:
      method: federated
    subjectTokenSource:
      type: kubernetes_sa
      tokenPath: /var/run/secrets/tokens/prod/token
    allowInsecureHTTP: true
  staging:
    issuer: %s
    clientId: %s
    baseURL: http://127.0.0.1:8081
    authFlow: jwt_bearer
    clientAuth:
      method: none
    subjectTokenSource:
      type: kubernetes_sa
      tokenPath: /var/run/secrets/tokens/staging/token
    allowInsecureHTTP: true
`, prod, mockidp.FederatedClientID, staging, mockidp.JWTBearerClientID)
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
				Args: []string{"--config", "/etc/fedtoken/config.yaml",
					"--proxy", "prod=127.0.0.1:8181", "--proxy", "staging=127.0.0.1:8182",
					"--health-addr", ":9902"},
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
				cluster.ProjectedTokenVolume("prod-token", prod, "token", cluster.MinTokenSeconds),
				cluster.ProjectedTokenVolume("staging-token", staging, "token", cluster.MinTokenSeconds),
				{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: name}}}},
			},
		},
	}
	if _, err := c.CoreV1().Pods(harness.Namespace).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx := context.WithoutCancel(ctx)
		if t.Failed() {
			for _, ctr := range []string{"fedtoken-sidecar", "app-prod", "app-staging"} {
				if logs, err := cluster.PodLogs(ctx, c, harness.Namespace, name, ctr); err == nil {
					t.Logf("%s logs:\n%s", ctr, redactJWTs(tail(logs, 30)))
				}
			}
		}
		_ = cluster.DeletePodAndWait(ctx, c, harness.Namespace, name, time.Minute)
		_ = c.CoreV1().ConfigMaps(harness.Namespace).Delete(ctx, name, metav1.DeleteOptions{})
	})
	running, err := cluster.WaitPodRunning(ctx, c, harness.Namespace, name, 3*time.Minute)
	if err != nil {
		t.Fatal(err)
	}

	// Each app gets access tokens from its own issuer, with no failed request.
	for _, tt := range []struct{ container, issuer string }{
		{"app-prod", prod},
		{"app-staging", staging},
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

	// What mockidp saw from the pod: prod only client_credentials, staging
	// only jwt_bearer, every one accepted (its audience matched the issuer).
	after, err := e.MockIdP.Requests()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{mockidp.Prod: "client_credentials", mockidp.Staging: "jwt_bearer"}
	seen := map[string]int{}
	for _, r := range after[len(before):] {
		if r.Endpoint != "token" {
			continue
		}
		seen[r.Issuer]++
		if r.Grant != want[r.Issuer] || r.Outcome != "ok" {
			t.Errorf("mockidp %s: %s request answered %s (check %q: %s); want only accepted %s requests", r.Issuer, r.Grant, r.Outcome, r.Check, r.Description, want[r.Issuer])
		}
	}
	if seen[mockidp.Prod] == 0 || seen[mockidp.Staging] == 0 {
		t.Errorf("token requests per issuer: %v, want both", seen)
	}

	// The staging token replayed to prod is refused, as client assertion and
	// as jwt-bearer assertion, and mockidp says the audience check failed.
	stagingDir, err := e.Cluster.PodVolumeDir(running, "staging-token")
	if err != nil {
		t.Skipf("cannot read the node's volumes from the host: %v", err)
	}
	_, stagingTok := readProjected(t, stagingDir)
	if a := audiences(claims(t, stagingTok)); len(a) != 1 || a[0] != staging {
		t.Fatalf("staging token aud = %v, want [%s]", a, staging)
	}
	for grant, wantErr := range map[string]string{"client_credentials": "invalid_client", "jwt_bearer": "invalid_grant"} {
		resp := mockidpGrant(t, ctx, e, mockidp.Prod, grant, stagingTok)
		if resp.Status == http.StatusOK || resp.str("error") != wantErr || !strings.Contains(resp.str("error_description"), "audience ["+staging+"] not in allowed ["+prod) {
			t.Errorf("staging token replayed to prod (%s): %s, want %s naming the audience check", grant, errorBody(resp), wantErr)
		}
	}
	r := mockidpRejection(t, ctx, e, mockidp.Prod, "audience", staging)
	t.Logf("mockidp prod refused the replayed staging token: %s: %s", r.Outcome, r.Description)
}
