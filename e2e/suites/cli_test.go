//go:build e2e

package suites

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fedtoken/fedtoken/e2e/cluster"
	"github.com/fedtoken/fedtoken/e2e/harness"
	"github.com/fedtoken/fedtoken/e2e/idp/dex"
	"github.com/fedtoken/fedtoken/e2e/idp/keycloak"
)

// cliRun runs `fedtoken <args>` in a pod of the workload's service account
// with config at /etc/fedtoken/config.yaml and a projected token for
// audience at /var/run/secrets/tokens/oauth2/token. It returns the exit code
// and the container's output (stdout and stderr interleaved, as logged).
func cliRun(t *testing.T, ctx context.Context, name, config, audience string, args ...string) (int, string) {
	t.Helper()
	e := requireEnv(t)
	image, ok := e.Images["fedtoken"]
	if !ok {
		t.Skip("needs image bin/images/fedtoken.tar (make images)")
	}
	c := e.Cluster.Client()
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: harness.Namespace},
		Data:       map[string]string{"config.yaml": config},
	}
	if _, err := c.CoreV1().ConfigMaps(harness.Namespace).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: harness.Namespace},
		Spec: corev1.PodSpec{
			ServiceAccountName:           harness.ServiceAccount,
			AutomountServiceAccountToken: new(false),
			RestartPolicy:                corev1.RestartPolicyNever,
			Containers: []corev1.Container{{
				Name:            "fedtoken",
				Image:           image,
				ImagePullPolicy: corev1.PullNever,
				Args:            append(args, "--config", "/etc/fedtoken/config.yaml"),
				Env:             []corev1.EnvVar{{Name: "FEDTOKEN_CACHE_DIR", Value: "/tmp/fedtoken-cache"}},
				VolumeMounts: []corev1.VolumeMount{
					{Name: "oauth2-token", MountPath: "/var/run/secrets/tokens/oauth2", ReadOnly: true},
					{Name: "config", MountPath: "/etc/fedtoken", ReadOnly: true},
				},
			}},
			Volumes: []corev1.Volume{
				cluster.ProjectedTokenVolume("oauth2-token", audience, "token", cluster.MinTokenSeconds),
				{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
					LocalObjectReference: corev1.LocalObjectReference{Name: name},
				}}},
			},
		},
	}
	if _, err := c.CoreV1().Pods(harness.Namespace).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx := context.WithoutCancel(ctx)
		_ = cluster.DeletePodAndWait(ctx, c, harness.Namespace, name, time.Minute)
		_ = c.CoreV1().ConfigMaps(harness.Namespace).Delete(ctx, name, metav1.DeleteOptions{})
	})
	done, err := cluster.WaitPodDone(ctx, c, harness.Namespace, name, 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	logs, err := cluster.PodLogs(ctx, c, harness.Namespace, name, "fedtoken")
	if err != nil {
		t.Fatal(err)
	}
	return cluster.ExitCode(done, "fedtoken"), logs
}

// tokenJSON finds the `fedtoken token -o json` object in a pod's output.
func tokenJSON(t *testing.T, out string) map[string]any {
	t.Helper()
	for i := strings.Index(out, "{"); i >= 0; {
		var m map[string]any
		if json.NewDecoder(strings.NewReader(out[i:])).Decode(&m) == nil && m["access_token"] != nil {
			return m
		}
		j := strings.Index(out[i+1:], "{")
		if j < 0 {
			break
		}
		i += 1 + j
	}
	t.Fatalf("no JSON token object in the output:\n%s", redactJWTs(out))
	return nil
}

// redactJWTs keeps test output free of tokens.
func redactJWTs(s string) string {
	var out []string
	for _, f := range strings.Fields(s) {
		if strings.Count(f, ".") == 2 && strings.HasPrefix(strings.Trim(f, `"{:`), "ey") {
			f = "[JWT]"
		}
		out = append(out, f)
	}
	return strings.Join(out, " ")
}

func TestCLIInPodKeycloakFederated(t *testing.T) {
	e := requireKeycloak(t)
	ctx := testContext(t, 4*time.Minute)
	realmIssuer := keycloak.RealmIssuer(e.Keycloak.URL(), keycloak.FederatedRealm)
	config := fmt.Sprintf(`providers:
  keycloak:
    issuer: %s
    clientId: %s
    authFlow: client_credentials
    clientAuth:
      method: federated
    subjectTokenSource:
      type: kubernetes_sa
    allowInsecureHTTP: true
`, realmIssuer, keycloak.FederatedClientID)

	t.Run("token", func(t *testing.T) {
		code, out := cliRun(t, ctx, "cli-kc-token", config, realmIssuer, "token", "-o", "json")
		if code != 0 {
			t.Fatalf("fedtoken token exited %d:\n%s", code, redactJWTs(out))
		}
		tok := tokenJSON(t, out)
		at := claims(t, tok["access_token"].(string))
		if at["iss"] != realmIssuer || at["azp"] != keycloak.FederatedClientID {
			t.Errorf("access token iss=%v azp=%v", at["iss"], at["azp"])
		}
	})

	// Audience pinning seen by a user: the projected token is for the wrong
	// audience; Keycloak refuses it and the CLI says which audience it sent.
	t.Run("wrong audience", func(t *testing.T) {
		const wrong = "https://wrong-audience.e2e.invalid"
		code, out := cliRun(t, ctx, "cli-kc-wrong-aud", config, wrong, "token")
		if code == 0 {
			t.Fatalf("fedtoken token succeeded with a token for %s", wrong)
		}
		if code != 5 {
			t.Errorf("exit code %d, want 5 (rejected by the IdP)", code)
		}
		if !strings.Contains(out, wrong) {
			t.Errorf("output does not name the wrong audience %s:\n%s", wrong, redactJWTs(out))
		}
		t.Logf("fedtoken token (exit %d) said: %s", code, redactJWTs(out))
	})

	t.Run("doctor passes", func(t *testing.T) {
		code, out := cliRun(t, ctx, "cli-kc-doctor", config, realmIssuer, "doctor")
		if code != 0 || !strings.Contains(out, "✓") {
			t.Fatalf("fedtoken doctor exited %d:\n%s", code, redactJWTs(out))
		}
	})

	// doctor checks the projected audience before any request to the IdP:
	// --offline makes no request at all, and still fails.
	t.Run("doctor flags the wrong audience offline", func(t *testing.T) {
		const wrong = "https://wrong-audience.e2e.invalid"
		code, out := cliRun(t, ctx, "cli-kc-doctor-aud", config, wrong, "doctor", "--offline")
		if code == 0 {
			t.Fatalf("fedtoken doctor --offline passed with a token for %s:\n%s", wrong, redactJWTs(out))
		}
		if !strings.Contains(out, wrong) || !strings.Contains(out, "✗") {
			t.Errorf("doctor output does not flag the audience %s:\n%s", wrong, redactJWTs(out))
		}
		t.Logf("fedtoken doctor --offline (exit %d) said: %s", code, redactJWTs(out))
	})
}

func TestCLIInPodDexTokenExchange(t *testing.T) {
	e := requireDex(t)
	ctx := testContext(t, 4*time.Minute)
	config := fmt.Sprintf(`providers:
  dex:
    issuer: %s
    clientId: %s
    clientSecret: %q
    scopes: [openid, profile]
    authFlow: token_exchange
    subjectTokenSource:
      type: kubernetes_sa
    tokenExchange:
      subjectTokenType: id_token
    extraParams:
      connector_id: %s
    allowInsecureHTTP: true
`, e.Dex.Issuer(), dex.ClientID, e.DexClientSecret, dex.ConnectorID)
	code, out := cliRun(t, ctx, "cli-dex-token", config, e.Dex.Issuer(), "token", "-o", "json")
	if code != 0 {
		t.Fatalf("fedtoken token exited %d:\n%s", code, redactJWTs(out))
	}
	at := claims(t, tokenJSON(t, out)["access_token"].(string))
	if at["iss"] != e.Dex.Issuer() || at["name"] != "system:serviceaccount:"+harness.Namespace+":"+harness.ServiceAccount {
		t.Errorf("access token iss=%v name=%v", at["iss"], at["name"])
	}
}
