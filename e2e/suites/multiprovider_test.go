//go:build e2e

package suites

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/fedtoken/fedtoken/e2e/cluster"
	"github.com/fedtoken/fedtoken/e2e/harness"
	"github.com/fedtoken/fedtoken/e2e/idp/dex"
	"github.com/fedtoken/fedtoken/e2e/idp/keycloak"
	"github.com/fedtoken/fedtoken/e2e/internal/wait"
)

// Multi-provider: one pod, two projected tokens with different audiences at
// two paths, one sidecar serving two providers on two IdPs ("prod" at
// Keycloak, "staging" at Dex), an app per provider. Each provider uses only
// its own path (Keycloak logs only the prod token's jti as client
// assertion), and the staging token replayed to the prod IdP is refused.
func TestSidecarMultiProvider(t *testing.T) {
	e := requireKeycloak(t)
	if e.Dex == nil {
		t.Skip("dex not started (E2E_IDPS)")
	}
	sidecarImage, ok := e.Images["fedtoken-sidecar"]
	if !ok {
		t.Skip("needs image bin/images/fedtoken-sidecar.tar (make images)")
	}
	ctx := testContext(t, 6*time.Minute)
	c := e.Cluster.Client()
	prodAud := keycloak.RealmIssuer(e.Keycloak.URL(), keycloak.FederatedRealm)
	stagingAud := e.Dex.Issuer()
	const name = "multi-provider"
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
    clientSecret: %q
    baseURL: http://127.0.0.1:8081
    scopes: [openid, profile]
    authFlow: token_exchange
    subjectTokenSource:
      type: kubernetes_sa
      tokenPath: /var/run/secrets/tokens/staging/token
    tokenExchange:
      subjectTokenType: id_token
    extraParams:
      connector_id: %s
    allowInsecureHTTP: true
`, prodAud, keycloak.FederatedClientID, stagingAud, dex.ClientID, e.DexClientSecret, dex.ConnectorID)
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
					"--health-addr", ":9902", "--log-level", "debug"},
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

	// Each app gets access tokens from its own IdP, with no failed request.
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

	// Keycloak saw only the prod path's token as client assertion.
	prodDir, err := e.Cluster.PodVolumeDir(running, "prod-token")
	if err != nil {
		t.Skipf("cannot read the node's volumes from the host: %v", err)
	}
	stagingDir, err := e.Cluster.PodVolumeDir(running, "staging-token")
	if err != nil {
		t.Fatal(err)
	}
	_, prodTok := readProjected(t, prodDir)
	_, stagingTok := readProjected(t, stagingDir)
	prodJTI, _ := claims(t, prodTok)["jti"].(string)
	stagingJTI, _ := claims(t, stagingTok)["jti"].(string)
	if a := audiences(claims(t, stagingTok)); len(a) != 1 || a[0] != stagingAud {
		t.Fatalf("staging token aud = %v, want [%s]", a, stagingAud)
	}
	kcLog, err := os.ReadFile(e.Keycloak.LogPath())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(kcLog), `client_assertion_id="`+prodJTI+`"`) {
		t.Errorf("keycloak never logged the prod token (jti %s) as client assertion", prodJTI)
	}
	if strings.Contains(string(kcLog), `client_assertion_id="`+stagingJTI+`"`) {
		t.Errorf("keycloak received the staging token (jti %s): a provider read the other's path", stagingJTI)
	}

	// The staging token replayed to the prod IdP is refused.
	resp := postToken(t, ctx, keycloak.TokenEndpoint(e.Keycloak.URL(), keycloak.FederatedRealm), url.Values{
		"grant_type": {"client_credentials"}, "client_assertion_type": {clientAssertionTypeJWT}, "client_assertion": {stagingTok},
	}, "", "")
	if resp.Status == http.StatusOK || resp.str("error") != "invalid_client" {
		t.Errorf("staging token replayed to prod: %s, want invalid_client", errorBody(resp))
	}
}
