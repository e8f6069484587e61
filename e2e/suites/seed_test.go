//go:build e2e

package suites

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/fedtoken/fedtoken/e2e/cluster"
	"github.com/fedtoken/fedtoken/e2e/harness"
	"github.com/fedtoken/fedtoken/e2e/idp/keycloak"
	"github.com/fedtoken/fedtoken/e2e/internal/wait"
)

// The seed's workloads: deploy/overlays rendered with kustomize, applied to
// the cluster with only what an e2e run must change — the images (imported,
// never pulled), the IdP (the seed's jwt_bearer at Keycloak's JWT-grant
// realm, so the issuer, client and secret), the projected audience, the
// upstream (the app's loopback server) and the app itself (e2eprobe stands in
// for opencode). The ConfigMap keeps the seed's opencode.json shape.
const seedNamespace = "ai-jobs"

type seedEnv struct {
	e            *harness.Env
	c            kubernetes.Interface
	realmIssuer  string
	sidecarImage string
}

func newSeedEnv(t *testing.T, ctx context.Context) *seedEnv {
	t.Helper()
	e := requireKeycloak(t)
	img, ok := e.Images["fedtoken-sidecar"]
	if !ok {
		t.Skip("needs image bin/images/fedtoken-sidecar.tar (make images)")
	}
	if _, err := os.Stat(filepath.Join(e.RepoRoot, "deploy", "overlays")); err != nil {
		t.Skipf("needs deploy/overlays: %v", err)
	}
	if _, err := os.Stat(e.Peers.KubernetesBin("kubectl")); err != nil {
		t.Skipf("needs kubectl (kustomize) from install-peers.sh: %v", err)
	}
	s := &seedEnv{e: e, c: e.Cluster.Client(), realmIssuer: keycloak.RealmIssuer(e.Keycloak.URL(), keycloak.JWTGrantRealm), sidecarImage: img}
	// Keycloak maps a jwt-bearer assertion to the user linked to its sub.
	sub := "system:serviceaccount:" + seedNamespace + ":opencode-runner"
	if err := e.Keycloak.Post(ctx, "/admin/realms/"+keycloak.JWTGrantRealm+"/users", keycloak.LinkedUser("opencode-runner", sub)); err != nil {
		t.Fatal(err)
	}
	return s
}

// render runs `kubectl kustomize deploy/overlays/<overlay>` and decodes it.
func (s *seedEnv) render(t *testing.T, ctx context.Context, overlay string) []runtime.Object {
	t.Helper()
	dir := filepath.Join(s.e.RepoRoot, "deploy", "overlays", overlay)
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, s.e.Peers.KubernetesBin("kubectl"), "kustomize", dir)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kubectl kustomize %s: %v: %s", dir, err, stderr.String())
	}
	var objs []runtime.Object
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(out)))
	for {
		doc, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(doc, nil, nil)
		if err != nil {
			t.Fatalf("decode %s output: %v", overlay, err)
		}
		objs = append(objs, obj)
	}
	return objs
}

// patchConfig points the seed's opencode.json at the e2e IdP and upstream,
// keeping its shape and every other field.
func (s *seedEnv) patchConfig(t *testing.T, cm *corev1.ConfigMap) {
	t.Helper()
	if cm.Name != "fedtoken-config" {
		return
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(cm.Data["opencode.json"]), &doc); err != nil {
		t.Fatalf("fedtoken-config opencode.json: %v", err)
	}
	providers, _ := doc["provider"].(map[string]any)
	for id, p := range providers {
		opts, _ := p.(map[string]any)["options"].(map[string]any)
		oauth, _ := opts["oauth2"].(map[string]any)
		if oauth == nil {
			continue
		}
		if oauth["authFlow"] != "jwt_bearer" {
			t.Fatalf("provider %s uses %v; this suite maps the seed's jwt_bearer to Keycloak", id, oauth["authFlow"])
		}
		opts["baseURL"] = "http://127.0.0.1:8080"
		oauth["issuer"] = s.realmIssuer
		oauth["clientId"] = keycloak.JWTGrantClientID
		oauth["clientSecret"] = s.e.KeycloakJWTGrantSecret
		oauth["allowInsecureHTTP"] = true // the IdP is plain http on the harness bridge
	}
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	cm.Data["opencode.json"] = string(data)
}

// patchPod swaps images, the projected audience and the app (the first
// container that is not the sidecar; the sidecar, named fedtoken, is a
// native sidecar or, before 1.29, an ordinary container).
func (s *seedEnv) patchPod(spec *corev1.PodSpec, appArgs []string) {
	for _, list := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
		for i := range list {
			if list[i].Name == "fedtoken" {
				list[i].Image = s.sidecarImage
				list[i].ImagePullPolicy = corev1.PullNever
			}
		}
	}
	app := &spec.Containers[0]
	for i := range spec.Containers {
		if spec.Containers[i].Name != "fedtoken" {
			app = &spec.Containers[i]
			break
		}
	}
	app.Image = s.e.Images[harness.ProbeImage]
	app.ImagePullPolicy = corev1.PullNever
	app.Command = []string{"/e2eprobe"}
	app.Args = appArgs
	for _, v := range spec.Volumes {
		if v.Projected == nil {
			continue
		}
		for _, src := range v.Projected.Sources {
			if src.ServiceAccountToken != nil {
				src.ServiceAccountToken.Audience = s.realmIssuer
			}
		}
	}
}

// apply creates the rendered objects; shared ones may already exist.
func (s *seedEnv) apply(t *testing.T, ctx context.Context, objs []runtime.Object) {
	t.Helper()
	applyOverlay(t, ctx, s.c, objs)
}

// applyOverlay creates a rendered overlay's objects; shared ones may
// already exist. Overlays share ConfigMap names with different contents
// (config/single, config/multi): the overlay's own wins.
func applyOverlay(t *testing.T, ctx context.Context, c kubernetes.Interface, objs []runtime.Object) {
	t.Helper()
	for _, obj := range objs {
		var err error
		switch o := obj.(type) {
		case *corev1.Namespace:
			_, err = c.CoreV1().Namespaces().Create(ctx, o, metav1.CreateOptions{})
		case *corev1.ServiceAccount:
			_, err = c.CoreV1().ServiceAccounts(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
		case *corev1.ConfigMap:
			_, err = c.CoreV1().ConfigMaps(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
			if apierrors.IsAlreadyExists(err) {
				_, err = c.CoreV1().ConfigMaps(o.Namespace).Update(ctx, o, metav1.UpdateOptions{})
			}
		case *batchv1.Job:
			_, err = c.BatchV1().Jobs(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
		case *batchv1.CronJob:
			_, err = c.BatchV1().CronJobs(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
		case *appsv1.Deployment:
			_, err = c.AppsV1().Deployments(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
		default:
			t.Fatalf("unexpected %T in the overlay", obj)
		}
		if err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatalf("create %T: %v", obj, err)
		}
	}
}

// checkApp reads an app container's log: calls went through the sidecar
// with access tokens from the JWT-grant realm, and none failed.
func (s *seedEnv) checkApp(t *testing.T, ctx context.Context, pod, container string) {
	t.Helper()
	s.checkAppIssuer(t, ctx, pod, container, s.realmIssuer)
}

// checkAppIssuer is checkApp for tokens of issuer.
func (s *seedEnv) checkAppIssuer(t *testing.T, ctx context.Context, pod, container, issuer string) {
	t.Helper()
	logs, err := cluster.PodLogs(ctx, s.c, seedNamespace, pod, container)
	if err != nil {
		t.Fatal(err)
	}
	tokens := 0
	for _, ev := range probeEvents(logs) {
		switch {
		case ev.Event == "token" && ev.Issuer != issuer:
			t.Errorf("%s/%s: access token from %q, want %q", pod, container, ev.Issuer, issuer)
		case ev.Event == "token":
			tokens++
		case ev.Event == "failure" || ev.Failures > 0:
			t.Errorf("%s/%s: failed call %+v", pod, container, ev)
		}
	}
	if tokens == 0 {
		t.Errorf("%s/%s never called with an access token:\n%s", pod, container, redactJWTs(logs))
	}
}

// finishedJobPod waits for the Job to complete and returns its pod.
func (s *seedEnv) finishedJobPod(t *testing.T, ctx context.Context, job string) *corev1.Pod {
	t.Helper()
	pods := waitJobPods(t, ctx, s.c, seedNamespace, job, 3*time.Minute, func(pods []corev1.Pod) {
		for _, p := range pods {
			for _, ctr := range []string{"fedtoken", "runner"} {
				if logs, lerr := cluster.PodLogs(ctx, s.c, seedNamespace, p.Name, ctr); lerr == nil {
					t.Logf("%s/%s:\n%s", p.Name, ctr, redactJWTs(tail(logs, 20)))
				}
			}
		}
	})
	if len(pods) != 1 {
		t.Fatalf("pods of job %s: %d found, want 1", job, len(pods))
	}
	p := pods[0]
	if p.Status.Phase != corev1.PodSucceeded {
		t.Errorf("pod %s phase %s, want Succeeded", p.Name, p.Status.Phase)
	}
	// The native sidecar was stopped by the kubelet once the runner exited.
	for _, cs := range p.Status.InitContainerStatuses {
		if cs.Name == "fedtoken" && cs.State.Terminated == nil {
			t.Errorf("sidecar %s of pod %s not terminated: %+v", cs.Name, p.Name, cs.State)
		}
	}
	// Before 1.29 the sidecar is an ordinary container: it exited by itself, 0.
	for _, cs := range p.Status.ContainerStatuses {
		if cs.Name == "fedtoken" && (cs.State.Terminated == nil || cs.State.Terminated.ExitCode != 0) {
			t.Errorf("sidecar container %s of pod %s did not exit 0: %+v", cs.Name, p.Name, cs.State)
		}
	}
	return &p
}

var jobAppArgs = []string{"-target", "http://127.0.0.1:8181/chat/completions", "-upstream-addr", "127.0.0.1:8080",
	"-interval", "100ms", "-count", "20", "-summary", "1h"}

func TestSeedWorkloads(t *testing.T) {
	ctx := testContext(t, 10*time.Minute)
	s := newSeedEnv(t, ctx)
	t.Cleanup(func() {
		_ = s.c.CoreV1().Namespaces().Delete(context.WithoutCancel(ctx), seedNamespace, metav1.DeleteOptions{})
	})

	t.Run("job", func(t *testing.T) {
		objs := s.render(t, ctx, "job")
		var name string
		for _, obj := range objs {
			switch o := obj.(type) {
			case *corev1.ConfigMap:
				s.patchConfig(t, o)
			case *batchv1.Job:
				name = o.Name
				s.patchPod(&o.Spec.Template.Spec, jobAppArgs)
			}
		}
		s.apply(t, ctx, objs)
		pod := s.finishedJobPod(t, ctx, name)
		s.checkApp(t, ctx, pod.Name, "runner")
	})

	t.Run("cronjob fires and its job completes", func(t *testing.T) {
		objs := s.render(t, ctx, "cronjob")
		var name string
		for _, obj := range objs {
			switch o := obj.(type) {
			case *corev1.ConfigMap:
				s.patchConfig(t, o)
			case *batchv1.CronJob:
				name = o.Name
				o.Spec.Schedule = "* * * * *" // the seed's is daily: fire within a minute
				s.patchPod(&o.Spec.JobTemplate.Spec.Template.Spec, jobAppArgs)
			}
		}
		s.apply(t, ctx, objs)
		job := waitCronJobJob(t, ctx, s.c, seedNamespace, name)
		// One run is enough: stop further firings.
		suspend := true
		if cj, err := s.c.BatchV1().CronJobs(seedNamespace).Get(ctx, name, metav1.GetOptions{}); err == nil {
			cj.Spec.Suspend = &suspend
			_, _ = s.c.BatchV1().CronJobs(seedNamespace).Update(ctx, cj, metav1.UpdateOptions{})
		}
		pod := s.finishedJobPod(t, ctx, job)
		s.checkApp(t, ctx, pod.Name, "runner")
	})

	t.Run("deployment becomes ready through the sidecar", func(t *testing.T) {
		objs := s.render(t, ctx, "deployment")
		var name string
		for _, obj := range objs {
			switch o := obj.(type) {
			case *corev1.ConfigMap:
				s.patchConfig(t, o)
			case *appsv1.Deployment:
				name = o.Name
				// The bot's readiness probe is on :8080/healthz: the app's
				// upstream listens on the pod address too.
				s.patchPod(&o.Spec.Template.Spec, []string{"-target", "http://127.0.0.1:8181/chat/completions",
					"-upstream-addr", ":8080", "-interval", "250ms", "-summary", "2s"})
			}
		}
		s.apply(t, ctx, objs)
		d, err := waitDeploymentReady(ctx, s.c, seedNamespace, name, 3*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		pods, err := s.c.CoreV1().Pods(seedNamespace).List(ctx, metav1.ListOptions{LabelSelector: metav1.FormatLabelSelector(d.Spec.Selector)})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pods.Items {
			// The app calls every 250 ms; give it a moment to have logged a token.
			if err := wait.Until(ctx, "pod "+p.Name+" app to log a token", time.Minute, time.Second, func(ctx context.Context) (bool, error) {
				logs, err := cluster.PodLogs(ctx, s.c, seedNamespace, p.Name, p.Spec.Containers[0].Name)
				if err != nil {
					return false, wait.NotYet("%v", err)
				}
				return strings.Contains(logs, `"event":"token"`), nil
			}); err != nil {
				t.Fatal(err)
			}
			s.checkApp(t, ctx, p.Name, p.Spec.Containers[0].Name)
		}
		zero := int32(0)
		d.Spec.Replicas = &zero
		_, _ = s.c.AppsV1().Deployments(seedNamespace).Update(ctx, d, metav1.UpdateOptions{})
	})

	t.Run("job-pre-1.29 with the sidecar as an ordinary container", func(t *testing.T) { s.jobPre129(t, ctx) })
	t.Run("multi-provider at mockidp prod and staging", func(t *testing.T) { s.multiProvider(t, ctx) })
}

// waitJobPods waits for ns/job to complete and returns its pods. When the
// Job fails or does not complete in time, it hands the Job's pods to
// dump (for their logs) and fails t.
func waitJobPods(t *testing.T, ctx context.Context, c kubernetes.Interface, ns, job string, timeout time.Duration, dump func(pods []corev1.Pod)) []corev1.Pod {
	t.Helper()
	err := wait.Until(ctx, "job "+ns+"/"+job+" Complete", timeout, time.Second, func(ctx context.Context) (bool, error) {
		j, err := c.BatchV1().Jobs(ns).Get(ctx, job, metav1.GetOptions{})
		if err != nil {
			return false, wait.NotYet("%v", err)
		}
		for _, cond := range j.Status.Conditions {
			if cond.Status != corev1.ConditionTrue {
				continue
			}
			switch cond.Type {
			case batchv1.JobComplete:
				return true, nil
			case batchv1.JobFailed:
				return false, fmt.Errorf("job failed: %s: %s", cond.Reason, cond.Message)
			}
		}
		return false, wait.NotYet("active=%d succeeded=%d failed=%d", j.Status.Active, j.Status.Succeeded, j.Status.Failed)
	})
	pods, perr := c.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "batch.kubernetes.io/job-name=" + job})
	if err != nil {
		if perr == nil {
			dump(pods.Items)
		}
		t.Fatal(err)
	}
	if perr != nil || len(pods.Items) == 0 {
		t.Fatalf("pods of job %s/%s: %v (%d found)", ns, job, perr, len(pods.Items))
	}
	return pods.Items
}

// waitCronJobJob waits for the CronJob name in ns to start a Job and
// returns that Job's name.
func waitCronJobJob(t *testing.T, ctx context.Context, c kubernetes.Interface, ns, name string) string {
	t.Helper()
	var job string
	if err := wait.Until(ctx, "cronjob "+name+" to start a job", 2*time.Minute, time.Second, func(ctx context.Context) (bool, error) {
		jobs, err := c.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, wait.NotYet("%v", err)
		}
		for _, j := range jobs.Items {
			for _, ref := range j.OwnerReferences {
				if ref.Kind == "CronJob" && ref.Name == name {
					job = j.Name
					return true, nil
				}
			}
		}
		return false, wait.NotYet("no job owned by the cronjob yet")
	}); err != nil {
		t.Fatal(err)
	}
	return job
}

// waitDeploymentReady waits until every replica of the Deployment name in
// ns is ready and returns the Deployment as last read.
func waitDeploymentReady(ctx context.Context, c kubernetes.Interface, ns, name string, timeout time.Duration) (*appsv1.Deployment, error) {
	var d *appsv1.Deployment
	err := wait.Until(ctx, "deployment "+name+" ready", timeout, time.Second, func(ctx context.Context) (bool, error) {
		var err error
		d, err = c.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, wait.NotYet("%v", err)
		}
		want := int32(1)
		if d.Spec.Replicas != nil {
			want = *d.Spec.Replicas
		}
		if d.Status.ReadyReplicas != want {
			return false, wait.NotYet("%d/%d ready", d.Status.ReadyReplicas, want)
		}
		return true, nil
	})
	return d, err
}
