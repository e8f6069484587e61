//go:build e2e

package suites

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fedtoken/fedtoken/e2e/cluster"
	"github.com/fedtoken/fedtoken/e2e/harness"
	"github.com/fedtoken/fedtoken/e2e/idp/keycloak"
	"github.com/fedtoken/fedtoken/e2e/idp/mockidp"
	"github.com/fedtoken/fedtoken/e2e/internal/wait"
)

// wrongAudience is an audience no IdP of the run expects.
const wrongAudience = "https://wrong-audience.e2e.invalid"

// sidecarLogLine is one JSON line of fedtoken-sidecar's log.
type sidecarLogLine struct {
	Level    string `json:"level"`
	Msg      string `json:"msg"`
	Provider string `json:"provider"`
	Err      string `json:"err"`
}

func sidecarLog(logs string) []sidecarLogLine {
	var out []sidecarLogLine
	sc := bufio.NewScanner(strings.NewReader(logs))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var l sidecarLogLine
		if json.Unmarshal(sc.Bytes(), &l) == nil && l.Msg != "" {
			out = append(out, l)
		}
	}
	return out
}

// Audience pinning in the sidecar: one pod, two providers whose projected
// tokens are for the wrong audience — Keycloak's (an unrelated audience)
// and mockidp prod's (the staging issuer's audience, a token mockidp would
// accept at staging). Both IdPs refuse; the sidecar's log, its proxy's 503
// and its token endpoint name the audience the token carried, /readyz
// fails for both providers, and mockidp logs the failed check "audience".
func TestSidecarReportsWrongAudience(t *testing.T) {
	e := requireKeycloak(t)
	if e.MockIdP == nil {
		t.Skip("mockidp not started: " + e.MockIdPMissing)
	}
	sidecarImage, ok := e.Images["fedtoken-sidecar"]
	if !ok {
		t.Skip("needs image bin/images/fedtoken-sidecar.tar (make images)")
	}
	ctx := testContext(t, 4*time.Minute)
	c := e.Cluster.Client()
	kcIssuer := keycloak.RealmIssuer(e.Keycloak.URL(), keycloak.FederatedRealm)
	prod, staging := e.MockIdP.Issuer(mockidp.Prod), e.MockIdP.Issuer(mockidp.Staging)
	const name = "audience-pinning"
	config := "providers:\n" +
		federatedProvider("keycloak", kcIssuer, keycloak.FederatedClientID, "http://127.0.0.1:8080", "/var/run/secrets/tokens/keycloak/token") +
		federatedProvider("mockidp", prod, mockidp.FederatedClientID, "http://127.0.0.1:8081", "/var/run/secrets/tokens/mockidp/token")
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: harness.Namespace}, Data: map[string]string{"config.yaml": config}}
	if _, err := c.CoreV1().ConfigMaps(harness.Namespace).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	app := func(name, target string, extra ...string) corev1.Container {
		return corev1.Container{
			Name: name, Image: e.Images[harness.ProbeImage], ImagePullPolicy: corev1.PullNever,
			Args: append([]string{"-target", target, "-upstream-addr", "127.0.0.1:0", "-interval", "1s", "-summary", "5s"}, extra...),
		}
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: harness.Namespace},
		Spec: corev1.PodSpec{
			ServiceAccountName:           harness.ServiceAccount,
			AutomountServiceAccountToken: new(false),
			Containers: []corev1.Container{
				{
					Name: "fedtoken-sidecar", Image: sidecarImage, ImagePullPolicy: corev1.PullNever,
					Args: []string{"--config", "/etc/fedtoken/config.yaml",
						"--proxy", "keycloak=127.0.0.1:8181", "--proxy", "mockidp=127.0.0.1:8182",
						"--health-addr", ":9902"},
					Env: []corev1.EnvVar{{Name: "FEDTOKEN_CACHE_DIR", Value: "/tmp/fedtoken-cache"}},
					VolumeMounts: []corev1.VolumeMount{
						{Name: "keycloak-token", MountPath: "/var/run/secrets/tokens/keycloak", ReadOnly: true},
						{Name: "mockidp-token", MountPath: "/var/run/secrets/tokens/mockidp", ReadOnly: true},
						{Name: "config", MountPath: "/etc/fedtoken", ReadOnly: true},
					},
				},
				app("app-keycloak", "http://127.0.0.1:8181/v1/models"),
				app("app-mockidp", "http://127.0.0.1:8182/v1/models"),
				app("token-endpoint", "http://127.0.0.1:9901/v1/token/mockidp", "-header", "Fedtoken-Request: true"),
			},
			Volumes: []corev1.Volume{
				cluster.ProjectedTokenVolume("keycloak-token", wrongAudience, "token", cluster.MinTokenSeconds),
				cluster.ProjectedTokenVolume("mockidp-token", staging, "token", cluster.MinTokenSeconds),
				{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: name}}}},
			},
		},
	}
	if _, err := c.CoreV1().Pods(harness.Namespace).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	deletePodWhenDone(t, ctx, c, name, 20, "fedtoken-sidecar", "app-keycloak", "app-mockidp", "token-endpoint")
	running, err := cluster.WaitPodRunning(ctx, c, harness.Namespace, name, 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}

	// The sidecar's log: a failed acquisition per provider naming the
	// audience the presented token has.
	wantAud := map[string]string{"keycloak": wrongAudience, "mockidp": staging}
	for provider, aud := range wantAud {
		var line sidecarLogLine
		err := wait.Until(ctx, "fedtoken-sidecar to log the failed acquisition of "+provider, time.Minute, time.Second, func(ctx context.Context) (bool, error) {
			logs, err := cluster.PodLogs(ctx, c, harness.Namespace, name, "fedtoken-sidecar")
			if err != nil {
				return false, wait.NotYet("%v", err)
			}
			for _, l := range sidecarLog(logs) {
				if l.Provider == provider && l.Msg == "token acquisition failed" {
					line = l
					return true, nil
				}
			}
			return false, wait.NotYet("no failed acquisition of %s logged yet", provider)
		})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(line.Err, "invalid_client") || !strings.Contains(line.Err, "aud=["+aud+"]") {
			t.Errorf("sidecar log for %s: %q, want invalid_client and aud=[%s]", provider, line.Err, aud)
		}
		if provider == "mockidp" && !strings.Contains(line.Err, "audience ["+aud+"] not in allowed ["+prod) {
			t.Errorf("sidecar log for mockidp: %q, want mockidp's description of the failed audience check", line.Err)
		}
		t.Logf("sidecar, provider %s: %s", provider, line.Err)
	}

	// The app sees a 503 naming the audience; so does the token endpoint.
	for _, tt := range []struct{ container, aud string }{
		{"app-keycloak", wrongAudience}, {"app-mockidp", staging}, {"token-endpoint", staging},
	} {
		err := wait.Until(ctx, tt.container+" to get a 503 naming aud "+tt.aud, time.Minute, time.Second, func(ctx context.Context) (bool, error) {
			logs, err := cluster.PodLogs(ctx, c, harness.Namespace, name, tt.container)
			if err != nil {
				return false, wait.NotYet("%v", err)
			}
			var last probeEvent
			for _, ev := range probeEvents(logs) {
				if ev.Event == "token" {
					return false, fmt.Errorf("%s got an access token (iss %s) with a token for the wrong audience", tt.container, ev.Issuer)
				}
				if ev.Event == "failure" {
					last = ev
					if ev.Status == http.StatusServiceUnavailable && strings.Contains(ev.Body, "aud=["+tt.aud+"]") {
						return true, nil
					}
				}
			}
			return false, wait.NotYet("last failure: %+v", last)
		})
		if err != nil {
			t.Error(err)
		}
	}

	// /readyz (probe listener, reached over the harness bridge) fails and
	// names both providers.
	readyz := "http://" + net.JoinHostPort(running.Status.PodIP, "9902") + "/readyz"
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, readyz, nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "keycloak: no valid token") || !strings.Contains(string(body), "mockidp: no valid token") {
		t.Errorf("GET %s: %d %q, want 503 naming both providers", readyz, resp.StatusCode, body)
	}

	// mockidp logged which check failed.
	r := mockidpRejection(t, ctx, e, mockidp.Prod, "", "audience", staging)
	if r.Outcome != "invalid_client" || r.Grant != "client_credentials" {
		t.Errorf("mockidp logged %+v, want an invalid_client rejection of client_credentials", r)
	}
}

// Audience pinning with the CLI against mockidp: a projected token for the
// staging issuer presented to prod makes `fedtoken token` exit 5 naming
// that audience and mockidp's failed check; `doctor --offline` flags it
// without any request to the IdP; with the right audience both pass.
func TestCLIInPodMockIdPAudience(t *testing.T) {
	e := requireMockIdP(t)
	ctx := testContext(t, 4*time.Minute)
	prod, staging := e.MockIdP.Issuer(mockidp.Prod), e.MockIdP.Issuer(mockidp.Staging)
	config := fmt.Sprintf(`providers:
  mockidp:
    issuer: %s
    clientId: %s
    authFlow: client_credentials
    clientAuth:
      method: federated
    subjectTokenSource:
      type: kubernetes_sa
    allowInsecureHTTP: true
`, prod, mockidp.FederatedClientID)

	t.Run("token", func(t *testing.T) {
		code, out := cliRun(t, ctx, "cli-mock-token", config, prod, "token", "-o", "json")
		if code != 0 {
			t.Fatalf("fedtoken token exited %d:\n%s", code, redactJWTs(out))
		}
		at := claims(t, tokenJSON(t, out)["access_token"].(string))
		if at["iss"] != prod || at["client_id"] != mockidp.FederatedClientID {
			t.Errorf("access token iss=%v client_id=%v, want %s and %s", at["iss"], at["client_id"], prod, mockidp.FederatedClientID)
		}
	})

	t.Run("wrong audience", func(t *testing.T) {
		before, err := e.MockIdP.Requests()
		if err != nil {
			t.Fatal(err)
		}
		code, out := cliRun(t, ctx, "cli-mock-wrong-aud", config, staging, "token")
		if code != 5 {
			t.Errorf("fedtoken token exited %d with a token for %s, want 5 (rejected by the IdP):\n%s", code, staging, redactJWTs(out))
		}
		if !strings.Contains(out, "aud=["+staging+"]") || !strings.Contains(out, "audience ["+staging+"] not in allowed") {
			t.Errorf("output does not name the audience %s and mockidp's failed check:\n%s", staging, redactJWTs(out))
		}
		after, err := e.MockIdP.Requests()
		if err != nil {
			t.Fatal(err)
		}
		var rejected bool
		for _, r := range after[len(before):] {
			rejected = rejected || (r.Issuer == mockidp.Prod && r.Check == "audience")
		}
		if !rejected {
			t.Errorf("mockidp logged no audience rejection at prod for this run")
		}
		t.Logf("fedtoken token (exit %d) said: %s", code, redactJWTs(out))
	})

	t.Run("doctor passes", func(t *testing.T) {
		code, out := cliRun(t, ctx, "cli-mock-doctor", config, prod, "doctor")
		if code != 0 || !strings.Contains(out, "✓") {
			t.Fatalf("fedtoken doctor exited %d:\n%s", code, redactJWTs(out))
		}
	})

	// --offline: no request reaches mockidp, and the audience check fails.
	t.Run("doctor flags the wrong audience offline", func(t *testing.T) {
		before, err := e.MockIdP.Requests()
		if err != nil {
			t.Fatal(err)
		}
		code, out := cliRun(t, ctx, "cli-mock-doctor-aud", config, staging, "doctor", "--offline")
		if code == 0 {
			t.Fatalf("fedtoken doctor --offline passed with a token for %s:\n%s", staging, redactJWTs(out))
		}
		if !strings.Contains(out, staging) || !strings.Contains(out, prod) || !strings.Contains(out, "✗") {
			t.Errorf("doctor output does not flag the audience %s (want %s):\n%s", staging, prod, redactJWTs(out))
		}
		after, err := e.MockIdP.Requests()
		if err != nil {
			t.Fatal(err)
		}
		if n := len(after) - len(before); n != 0 {
			t.Errorf("doctor --offline made %d requests to mockidp: %+v", n, after[len(before):])
		}
		t.Logf("fedtoken doctor --offline (exit %d) said: %s", code, redactJWTs(out))
	})
}
