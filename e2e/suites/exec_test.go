//go:build e2e

package suites

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fedtoken/fedtoken/e2e/cluster"
	"github.com/fedtoken/fedtoken/e2e/harness"
	"github.com/fedtoken/fedtoken/e2e/idp/dex"
	"github.com/fedtoken/fedtoken/e2e/idp/keycloak"
	"github.com/fedtoken/fedtoken/e2e/idp/mockidp"
	"github.com/fedtoken/fedtoken/e2e/internal/wait"
)

// execBaseURL is the baseURL every exec suite provider has; fedtoken exec
// --base-url-env hands it to the command.
const execBaseURL = "http://127.0.0.1:8080/v1"

// execResult is how a `fedtoken exec` Job ended.
type execResult struct {
	Complete bool         // the Job's condition: Complete (true) or Failed
	Code     int          // the fedtoken container's exit status
	Logs     string       // its output (fedtoken's and the command's)
	Env      []probeEvent // the command's "env" lines: it ran and saw a token
}

// execJob runs, as a Job (backoffLimit 0) of the workload's service
// account, `fedtoken exec PROVIDER --base-url-env OPENAI_BASE_URL --
// e2eprobe -env OPENAI_API_KEY -base-url-env OPENAI_BASE_URL -exit EXIT`
// with config and a projected token for audience, and waits until the Job
// is Complete or Failed.
func execJob(t *testing.T, ctx context.Context, name, config, provider, audience string, exit int) execResult {
	t.Helper()
	e := requireEnv(t)
	image, ok := e.Images[harness.ExecImage]
	if !ok {
		t.Skip("needs bin/fedtoken (make build) for the " + harness.ExecImage + " image")
	}
	c := e.Cluster.Client()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: harness.Namespace}, Data: map[string]string{"config.yaml": config}}
	if _, err := c.CoreV1().ConfigMaps(harness.Namespace).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	backoff := int32(0)
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: harness.Namespace},
		Spec: batchv1.JobSpec{
			BackoffLimit: &backoff,
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
				ServiceAccountName:           harness.ServiceAccount,
				AutomountServiceAccountToken: new(false),
				RestartPolicy:                corev1.RestartPolicyNever,
				Containers: []corev1.Container{{
					Name: "fedtoken", Image: image, ImagePullPolicy: corev1.PullNever,
					Args: []string{"exec", provider, "--config", "/etc/fedtoken/config.yaml", "--base-url-env", "OPENAI_BASE_URL", "--",
						"e2eprobe", "-env", "OPENAI_API_KEY", "-base-url-env", "OPENAI_BASE_URL", "-exit", strconv.Itoa(exit)},
					Env: []corev1.EnvVar{{Name: "FEDTOKEN_CACHE_DIR", Value: "/tmp/fedtoken-cache"}, {Name: "CI", Value: "true"}},
					VolumeMounts: []corev1.VolumeMount{
						{Name: "oauth2-token", MountPath: "/var/run/secrets/tokens/oauth2", ReadOnly: true},
						{Name: "config", MountPath: "/etc/fedtoken", ReadOnly: true},
					},
				}},
				Volumes: []corev1.Volume{
					cluster.ProjectedTokenVolume("oauth2-token", audience, "token", cluster.MinTokenSeconds),
					{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: name}}}},
				},
			}},
		},
	}
	if _, err := c.BatchV1().Jobs(harness.Namespace).Create(ctx, job, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var res execResult
	var podName string
	t.Cleanup(func() {
		ctx := context.WithoutCancel(ctx)
		bg := metav1.DeletePropagationBackground
		_ = c.BatchV1().Jobs(harness.Namespace).Delete(ctx, name, metav1.DeleteOptions{PropagationPolicy: &bg})
		if podName != "" {
			_ = cluster.DeletePodAndWait(ctx, c, harness.Namespace, podName, time.Minute)
		}
		_ = c.CoreV1().ConfigMaps(harness.Namespace).Delete(ctx, name, metav1.DeleteOptions{})
	})
	err := wait.Until(ctx, "job "+harness.Namespace+"/"+name+" Complete or Failed", 2*time.Minute, 500*time.Millisecond, func(ctx context.Context) (bool, error) {
		j, err := c.BatchV1().Jobs(harness.Namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, wait.NotYet("%v", err)
		}
		for _, cond := range j.Status.Conditions {
			if cond.Status == corev1.ConditionTrue && (cond.Type == batchv1.JobComplete || cond.Type == batchv1.JobFailed) {
				res.Complete = cond.Type == batchv1.JobComplete
				return true, nil
			}
		}
		return false, wait.NotYet("active=%d succeeded=%d failed=%d", j.Status.Active, j.Status.Succeeded, j.Status.Failed)
	})
	pods, perr := c.CoreV1().Pods(harness.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "batch.kubernetes.io/job-name=" + name})
	if perr != nil || len(pods.Items) != 1 {
		t.Fatalf("pods of job %s: %v (%d found); job wait: %v", name, perr, len(pods.Items), err)
	}
	podName = pods.Items[0].Name
	logs, lerr := cluster.PodLogs(ctx, c, harness.Namespace, podName, "fedtoken")
	if err != nil {
		t.Fatalf("%v\nfedtoken output:\n%s", err, redactJWTs(logs))
	}
	if lerr != nil {
		t.Fatal(lerr)
	}
	res.Code = cluster.ExitCode(&pods.Items[0], "fedtoken")
	res.Logs = logs
	for _, ev := range probeEvents(logs) {
		if ev.Event == "env" {
			res.Env = append(res.Env, ev)
		}
	}
	if strings.Contains(logs, "eyJ") {
		t.Errorf("the Job's output holds something like a JWT:\n%s", redactJWTs(logs))
	}
	return res
}

// `fedtoken exec` in a Job against each IdP: the command runs with the
// IdP's access token in OPENAI_API_KEY and the provider's baseURL in
// OPENAI_BASE_URL; its exit status becomes the container's and decides the
// Job; a token the IdP refuses means the command never runs (exit 5).
func TestCLIExecInJob(t *testing.T) {
	e := requireEnv(t)
	ctx := testContext(t, 8*time.Minute)
	type idp struct {
		name, issuer, audience, config string
	}
	var idps []idp
	if e.Keycloak != nil {
		realm := keycloak.RealmIssuer(e.Keycloak.URL(), keycloak.FederatedRealm)
		idps = append(idps, idp{"keycloak", realm, realm, "providers:\n" + federatedProvider("keycloak", realm, keycloak.FederatedClientID, execBaseURL, "")})
	}
	if e.Dex != nil {
		idps = append(idps, idp{"dex", e.Dex.Issuer(), e.Dex.Issuer(), fmt.Sprintf(`providers:
  dex:
    issuer: %s
    clientId: %s
    clientSecret: %q
    baseURL: %s
    scopes: [openid, profile]
    authFlow: token_exchange
    subjectTokenSource:
      type: kubernetes_sa
    tokenExchange:
      subjectTokenType: id_token
    extraParams:
      connector_id: %s
    allowInsecureHTTP: true
`, e.Dex.Issuer(), dex.ClientID, e.DexClientSecret, execBaseURL, dex.ConnectorID)})
	}
	var mock *idp
	if e.MockIdP != nil {
		prod := e.MockIdP.Issuer(mockidp.Prod)
		idps = append(idps, idp{"mockidp", prod, prod, fmt.Sprintf(`providers:
  mockidp:
    issuer: %s
    clientId: %s
    baseURL: %s
    authFlow: jwt_bearer
    clientAuth:
      method: none
    subjectTokenSource:
      type: kubernetes_sa
    allowInsecureHTTP: true
`, prod, mockidp.JWTBearerClientID, execBaseURL)})
		mock = &idps[len(idps)-1]
	}
	if len(idps) == 0 {
		t.Skip("no IdP started (E2E_IDPS)")
	}
	for _, p := range idps {
		t.Run(p.name, func(t *testing.T) {
			res := execJob(t, ctx, "exec-"+p.name, p.config, p.name, p.audience, 0)
			if !res.Complete || res.Code != 0 {
				t.Fatalf("job complete=%v, fedtoken exit %d, want a Complete Job and 0:\n%s", res.Complete, res.Code, redactJWTs(res.Logs))
			}
			if len(res.Env) != 1 {
				t.Fatalf("the command logged %d env lines, want 1:\n%s", len(res.Env), redactJWTs(res.Logs))
			}
			if ev := res.Env[0]; ev.Issuer != p.issuer || ev.JTI == "" || ev.BaseURL != execBaseURL {
				t.Errorf("the command saw iss=%q jti=%q base_url=%q, want iss %s, a jti and %s", ev.Issuer, ev.JTI, ev.BaseURL, p.issuer, execBaseURL)
			}
		})
	}
	if mock == nil {
		return
	}
	// The command's exit status is the container's, and fails the Job.
	t.Run("exit status propagated", func(t *testing.T) {
		res := execJob(t, ctx, "exec-exit-3", mock.config, mock.name, mock.audience, 3)
		if res.Complete || res.Code != 3 {
			t.Errorf("job complete=%v, fedtoken exit %d, want a Failed Job and 3", res.Complete, res.Code)
		}
		if len(res.Env) != 1 || res.Env[0].Issuer != mock.issuer {
			t.Errorf("the command did not run with a %s token: %+v\n%s", mock.issuer, res.Env, redactJWTs(res.Logs))
		}
	})
	// A refused token: exec exits 5 naming the audience; the command never runs.
	t.Run("wrong audience", func(t *testing.T) {
		staging := e.MockIdP.Issuer(mockidp.Staging)
		res := execJob(t, ctx, "exec-wrong-aud", mock.config, mock.name, staging, 0)
		if res.Complete || res.Code != 5 {
			t.Errorf("job complete=%v, fedtoken exit %d, want a Failed Job and 5 (rejected by the IdP)", res.Complete, res.Code)
		}
		if len(res.Env) != 0 {
			t.Errorf("the command ran although the IdP refused the token: %+v", res.Env)
		}
		if !strings.Contains(res.Logs, "aud=["+staging+"]") {
			t.Errorf("output does not name the audience %s:\n%s", staging, redactJWTs(res.Logs))
		}
	})
}
