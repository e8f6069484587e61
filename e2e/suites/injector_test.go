//go:build e2e

package suites

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/restmapper"

	"helm.sh/helm/v3/pkg/releaseutil"

	"github.com/fedtoken/fedtoken/e2e/cluster"
	"github.com/fedtoken/fedtoken/e2e/harness"
	"github.com/fedtoken/fedtoken/e2e/idp/keycloak"
	"github.com/fedtoken/fedtoken/e2e/internal/chart"
	"github.com/fedtoken/fedtoken/e2e/internal/wait"
)

// The injector suite: deploy/charts/fedtoken installed into the cluster
// (rendered with the Helm library, applied as helm would), the e2e
// namespace labelled for injection, then workloads that carry nothing
// fedtoken-specific but the fedtoken.dev/inject annotation. The provider is
// Keycloak's federated realm: no secret anywhere.
const (
	injectorNamespace = "fedtoken-system"
	injectorRelease   = "fedtoken"
	injectorName      = injectorRelease + "-injector"
	injectionLabel    = "fedtoken.dev/injection"
	injectProvider    = "keycloak"
)

type injectorEnv struct {
	e           *harness.Env
	c           kubernetes.Interface
	dyn         dynamic.Interface
	mapper      meta.RESTMapper
	realmIssuer string
}

func TestInjector(t *testing.T) {
	e := requireKeycloak(t)
	for _, img := range []string{"fedtoken-injector", "fedtoken-sidecar"} {
		if _, ok := e.Images[img]; !ok {
			t.Skipf("needs image bin/images/%s.tar (make images)", img)
		}
	}
	if e.Cluster.Backend() == "local" {
		// Pods of the local backend cannot reach the API server (it
		// listens on loopback and no kube-proxy serves the kubernetes
		// Service), and the injector is a client of the API: it reads the
		// config ConfigMaps and publishes its CA. The kind backend runs
		// this suite.
		t.Skip("the local backend's pods cannot reach the API server, which fedtoken-injector calls; run with E2E_CLUSTER=kind")
	}
	ctx := testContext(t, 15*time.Minute)
	s := &injectorEnv{e: e, c: e.Cluster.Client(), realmIssuer: keycloak.RealmIssuer(e.Keycloak.URL(), keycloak.FederatedRealm)}
	var err error
	if s.dyn, err = dynamic.NewForConfig(e.Cluster.RESTConfig()); err != nil {
		t.Fatal(err)
	}
	s.mapper = restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(s.c.Discovery()))

	// What the API server stores for a plain pod without any webhook:
	// the reference for "byte-identical" below.
	plain := plainPod()
	before, err := s.c.CoreV1().Pods(harness.Namespace).Create(ctx, plain, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	if err != nil {
		t.Fatal(err)
	}

	s.install(t, ctx)

	t.Run("UnannotatedPodUnchanged", func(t *testing.T) { s.unannotated(t, ctx, before) })
	t.Run("AnnotatedJob", func(t *testing.T) { s.job(t, ctx) })
	t.Run("AnnotatedDeployment", func(t *testing.T) { s.deployment(t, ctx) })
	t.Run("AnnotatedCronJob", func(t *testing.T) { s.cronJob(t, ctx) })
	t.Run("Refused", func(t *testing.T) { s.refused(t, ctx) })
	// Last: it takes the injector down.
	t.Run("FailurePolicy", func(t *testing.T) { s.failurePolicy(t, ctx) })
}

// config is the sidecar's config: Keycloak's federated realm, the app's
// recording upstream as baseURL.
func (s *injectorEnv) config() string {
	return "providers:\n" + federatedProvider(injectProvider, s.realmIssuer, keycloak.FederatedClientID, "http://127.0.0.1:8080", "")
}

// install renders the chart with the e2e images and the providers
// ConfigMap for the e2e namespace, applies every object, labels the
// namespace, and waits for the injector to be ready with its CA published.
func (s *injectorEnv) install(t *testing.T, ctx context.Context) {
	t.Helper()
	v, err := s.c.Discovery().ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	ref := func(name string) (string, string) {
		r := s.e.Images[name]
		i := strings.LastIndex(r, ":")
		return r[:i], r[i+1:]
	}
	api, err := url.Parse(s.e.Cluster.Issuer())
	if err != nil {
		t.Fatal(err)
	}
	injRepo, injTag := ref("fedtoken-injector")
	scRepo, scTag := ref("fedtoken-sidecar")
	objs, err := chart.Render(chart.Release{Name: injectorRelease, Namespace: injectorNamespace, KubeVersion: v.GitVersion}, map[string]any{
		"image":     map[string]any{"repository": injRepo, "tag": injTag, "pullPolicy": "Never"},
		"sidecar":   map[string]any{"image": map[string]any{"repository": scRepo, "tag": scTag}, "pullPolicy": "Never"},
		"providers": map[string]any{"namespaces": []any{harness.Namespace}, "key": "config.yaml", "config": s.config()},
		// No kube-proxy: the injector calls the API server where pods
		// reach it, the issuer's address (in the serving certificate).
		"apiServer": map[string]any{"host": api.Hostname(), "port": api.Port()},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: injectorNamespace}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	// In helm's install order (ServiceAccount before Deployment, the
	// webhook last).
	order := func(o chart.Object) int {
		i := slices.Index(releaseutil.InstallOrder, fmt.Sprint(o.Map["kind"]))
		if i < 0 {
			return len(releaseutil.InstallOrder)
		}
		return i
	}
	slices.SortStableFunc(objs, func(a, b chart.Object) int { return order(a) - order(b) })
	var created []*unstructured.Unstructured
	t.Cleanup(func() { s.uninstall(t, created) })
	for _, o := range objs {
		u := &unstructured.Unstructured{Object: o.Map}
		m, err := s.mapper.RESTMapping(u.GroupVersionKind().GroupKind(), u.GroupVersionKind().Version)
		if err != nil {
			t.Fatalf("%s: %v", o.Key(), err)
		}
		var ri dynamic.ResourceInterface = s.dyn.Resource(m.Resource)
		if m.Scope.Name() == meta.RESTScopeNameNamespace {
			ri = s.dyn.Resource(m.Resource).Namespace(u.GetNamespace())
		}
		if _, err := ri.Create(ctx, u, metav1.CreateOptions{}); err != nil {
			t.Fatalf("install %s: %v", o.Key(), err)
		}
		created = append(created, u)
	}
	t.Logf("installed %d objects of deploy/charts/fedtoken into %s", len(objs), injectorNamespace)
	if _, err := waitDeploymentReady(ctx, s.c, injectorNamespace, injectorName, 3*time.Minute); err != nil {
		s.injectorLogs(t, ctx)
		t.Fatal(err)
	}
	// Both replicas published their CA (each generates its own).
	if err := wait.Until(ctx, "both injector CAs in the caBundle", time.Minute, time.Second, func(ctx context.Context) (bool, error) {
		w, err := s.c.AdmissionregistrationV1().MutatingWebhookConfigurations().Get(ctx, injectorName, metav1.GetOptions{})
		if err != nil {
			return false, wait.NotYet("%v", err)
		}
		n := strings.Count(string(w.Webhooks[0].ClientConfig.CABundle), "BEGIN CERTIFICATE")
		if n == 2 {
			return true, nil
		}
		return false, wait.NotYet("%d CAs", n)
	}); err != nil {
		t.Fatal(err)
	}
	s.setLabel(t, ctx, true)
}

func (s *injectorEnv) setLabel(t *testing.T, ctx context.Context, on bool) {
	t.Helper()
	var patch string
	if on {
		patch = fmt.Sprintf(`{"metadata":{"labels":{%q:"enabled"}}}`, injectionLabel)
	} else {
		patch = fmt.Sprintf(`{"metadata":{"labels":{%q:null}}}`, injectionLabel)
	}
	if _, err := s.c.CoreV1().Namespaces().Patch(ctx, harness.Namespace, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
}

// uninstall removes the label and everything the chart created, so the
// other suites' pods never meet the webhook.
func (s *injectorEnv) uninstall(t *testing.T, created []*unstructured.Unstructured) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(t.Context()), time.Minute)
	defer cancel()
	if t.Failed() {
		s.injectorLogs(t, ctx)
	}
	_, _ = s.c.CoreV1().Namespaces().Patch(ctx, harness.Namespace, types.MergePatchType, []byte(fmt.Sprintf(`{"metadata":{"labels":{%q:null}}}`, injectionLabel)), metav1.PatchOptions{})
	for i := len(created) - 1; i >= 0; i-- {
		u := created[i]
		m, err := s.mapper.RESTMapping(u.GroupVersionKind().GroupKind(), u.GroupVersionKind().Version)
		if err != nil {
			continue
		}
		var ri dynamic.ResourceInterface = s.dyn.Resource(m.Resource)
		if m.Scope.Name() == meta.RESTScopeNameNamespace {
			ri = s.dyn.Resource(m.Resource).Namespace(u.GetNamespace())
		}
		if err := ri.Delete(ctx, u.GetName(), metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("uninstall %s/%s: %v", u.GetKind(), u.GetName(), err)
		}
	}
	_ = s.c.CoreV1().Namespaces().Delete(ctx, injectorNamespace, metav1.DeleteOptions{})
}

func (s *injectorEnv) injectorLogs(t *testing.T, ctx context.Context) {
	pods, err := s.c.CoreV1().Pods(injectorNamespace).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=fedtoken-injector"})
	if err != nil {
		return
	}
	for _, p := range pods.Items {
		st, _ := json.Marshal(p.Status.ContainerStatuses)
		t.Logf("%s: phase %s, containers %s", p.Name, p.Status.Phase, st)
		if logs, err := cluster.PodLogs(ctx, s.c, injectorNamespace, p.Name, "injector"); err == nil {
			t.Logf("%s:\n%s", p.Name, tail(logs, 30))
		}
	}
	if evs, err := s.c.CoreV1().Events(injectorNamespace).List(ctx, metav1.ListOptions{}); err == nil {
		for _, e := range evs.Items {
			t.Logf("event %s/%s: %s %s", e.InvolvedObject.Kind, e.InvolvedObject.Name, e.Reason, e.Message)
		}
	}
}

func plainPod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "injector-plain", Namespace: harness.Namespace,
			Labels: map[string]string{"app": "plain"}, Annotations: map[string]string{"example.com/note": "not for fedtoken"}},
		Spec: corev1.PodSpec{
			ServiceAccountName:           harness.ServiceAccount,
			AutomountServiceAccountToken: new(false),
			RestartPolicy:                corev1.RestartPolicyNever,
			Containers: []corev1.Container{{
				Name: "app", Image: harness.ImageRef(harness.ProbeImage), ImagePullPolicy: corev1.PullNever,
				Args: []string{"-env", "NONE", "-exit", "0"}, Env: []corev1.EnvVar{{Name: "A", Value: "1"}},
			}},
		},
	}
}

// An unannotated pod in an injected namespace is stored exactly as without
// the webhook.
func (s *injectorEnv) unannotated(t *testing.T, ctx context.Context, before *corev1.Pod) {
	got, err := s.c.CoreV1().Pods(harness.Namespace).Create(ctx, plainPod(), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = s.c.CoreV1().Pods(harness.Namespace).Delete(context.WithoutCancel(ctx), got.Name, metav1.DeleteOptions{})
	})
	a, _ := json.Marshal(before.Spec)
	b, _ := json.Marshal(got.Spec)
	if string(a) != string(b) {
		t.Errorf("the unannotated pod's spec changed on admission:\nwithout the webhook %s\nwith it            %s", a, b)
	}
	if !reflect.DeepEqual(before.Annotations, got.Annotations) || !reflect.DeepEqual(before.Labels, got.Labels) {
		t.Errorf("metadata changed: annotations %v -> %v, labels %v -> %v", before.Annotations, got.Annotations, before.Labels, got.Labels)
	}
}

// annotatedTemplate is a pod template with nothing fedtoken-specific but
// the annotation: the app finds the proxy through the injected variable
// (Kubernetes expands $(VAR) in args from the container's environment).
func annotatedTemplate(appArgs ...string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{"fedtoken.dev/inject": injectProvider}},
		Spec: corev1.PodSpec{
			ServiceAccountName:           harness.ServiceAccount,
			AutomountServiceAccountToken: new(false),
			RestartPolicy:                corev1.RestartPolicyNever,
			Containers: []corev1.Container{{
				Name: "app", Image: harness.ImageRef(harness.ProbeImage), ImagePullPolicy: corev1.PullNever,
				Args: append([]string{"-target", "$(FEDTOKEN_BASE_URL_KEYCLOAK)/v1/models", "-upstream-addr", "127.0.0.1:8080"}, appArgs...),
			}},
		},
	}
}

var injectedJobArgs = []string{"-interval", "100ms", "-count", "20", "-summary", "1h"}

// checkInjected checks the stored pod carries what the injector adds.
func (s *injectorEnv) checkInjected(t *testing.T, p *corev1.Pod) {
	t.Helper()
	if p.Annotations["fedtoken.dev/status"] != "injected" {
		t.Errorf("pod %s: status annotation %q", p.Name, p.Annotations["fedtoken.dev/status"])
	}
	if len(p.Spec.InitContainers) == 0 || p.Spec.InitContainers[0].Name != "fedtoken" || p.Spec.InitContainers[0].RestartPolicy == nil {
		t.Errorf("pod %s: no native sidecar first among the init containers", p.Name)
	}
	aud := ""
	for _, v := range p.Spec.Volumes {
		if v.Projected != nil {
			aud = v.Projected.Sources[0].ServiceAccountToken.Audience
		}
	}
	if aud != s.realmIssuer {
		t.Errorf("pod %s: projected audience %q, want the provider's issuer %s", p.Name, aud, s.realmIssuer)
	}
}

// checkTokens reads the app's log: calls through the sidecar with tokens
// from the federated realm, none failed.
func (s *injectorEnv) checkTokens(t *testing.T, ctx context.Context, pod string) {
	t.Helper()
	logs, err := cluster.PodLogs(ctx, s.c, harness.Namespace, pod, "app")
	if err != nil {
		t.Fatal(err)
	}
	tokens := 0
	for _, ev := range probeEvents(logs) {
		switch {
		case ev.Event == "token" && ev.Issuer != s.realmIssuer:
			t.Errorf("%s: access token from %q, want %q", pod, ev.Issuer, s.realmIssuer)
		case ev.Event == "token":
			tokens++
		case ev.Event == "failure" || ev.Failures > 0:
			t.Errorf("%s: failed call %+v", pod, ev)
		}
	}
	if tokens == 0 {
		t.Errorf("%s never called with an access token:\n%s", pod, redactJWTs(logs))
	}
	t.Logf("%s: %d access tokens from %s through the injected sidecar", pod, tokens, s.realmIssuer)
}

func (s *injectorEnv) waitJobPod(t *testing.T, ctx context.Context, job string) *corev1.Pod {
	t.Helper()
	pods := waitJobPods(t, ctx, s.c, harness.Namespace, job, 3*time.Minute, func(pods []corev1.Pod) {
		for _, p := range pods {
			for _, ctr := range []string{"fedtoken", "app"} {
				if logs, lerr := cluster.PodLogs(ctx, s.c, harness.Namespace, p.Name, ctr); lerr == nil {
					t.Logf("%s/%s:\n%s", p.Name, ctr, redactJWTs(tail(logs, 20)))
				}
			}
		}
		s.injectorLogs(t, ctx)
	})
	if len(pods) != 1 {
		t.Fatalf("pods of job %s: %d found, want 1", job, len(pods))
	}
	return &pods[0]
}

func (s *injectorEnv) job(t *testing.T, ctx context.Context) {
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: "injected-job", Namespace: harness.Namespace},
		Spec:       batchv1.JobSpec{BackoffLimit: new(int32(0)), Template: annotatedTemplate(injectedJobArgs...)},
	}
	if _, err := s.c.BatchV1().Jobs(harness.Namespace).Create(ctx, job, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.deleteJob(ctx, job.Name) })
	p := s.waitJobPod(t, ctx, job.Name)
	s.checkInjected(t, p)
	s.checkTokens(t, ctx, p.Name)
}

func (s *injectorEnv) deleteJob(ctx context.Context, name string) {
	bg := metav1.DeletePropagationBackground
	_ = s.c.BatchV1().Jobs(harness.Namespace).Delete(context.WithoutCancel(ctx), name, metav1.DeleteOptions{PropagationPolicy: &bg})
}

func (s *injectorEnv) deployment(t *testing.T, ctx context.Context) {
	tmpl := annotatedTemplate("-interval", "250ms", "-summary", "2s")
	tmpl.Labels = map[string]string{"app": "injected-deployment"}
	tmpl.Spec.RestartPolicy = corev1.RestartPolicyAlways
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "injected-deployment", Namespace: harness.Namespace},
		Spec: appsv1.DeploymentSpec{
			Replicas: new(int32(1)),
			Selector: &metav1.LabelSelector{MatchLabels: tmpl.Labels},
			Template: tmpl,
		},
	}
	if _, err := s.c.AppsV1().Deployments(harness.Namespace).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		bg := metav1.DeletePropagationBackground
		_ = s.c.AppsV1().Deployments(harness.Namespace).Delete(context.WithoutCancel(ctx), d.Name, metav1.DeleteOptions{PropagationPolicy: &bg})
	})
	if _, err := waitDeploymentReady(ctx, s.c, harness.Namespace, d.Name, 3*time.Minute); err != nil {
		s.injectorLogs(t, ctx)
		t.Fatal(err)
	}
	pods, err := s.c.CoreV1().Pods(harness.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "app=injected-deployment"})
	if err != nil || len(pods.Items) == 0 {
		t.Fatalf("pods of the deployment: %v", err)
	}
	p := &pods.Items[0]
	s.checkInjected(t, p)
	// The app logs a token line on its first successful call.
	if err := wait.Until(ctx, "a token through the injected sidecar", time.Minute, time.Second, func(ctx context.Context) (bool, error) {
		logs, err := cluster.PodLogs(ctx, s.c, harness.Namespace, p.Name, "app")
		if err != nil {
			return false, wait.NotYet("%v", err)
		}
		if strings.Contains(logs, `"event":"token"`) {
			return true, nil
		}
		return false, wait.NotYet("no token yet")
	}); err != nil {
		t.Fatal(err)
	}
	s.checkTokens(t, ctx, p.Name)
}

func (s *injectorEnv) cronJob(t *testing.T, ctx context.Context) {
	cj := &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Name: "injected-cronjob", Namespace: harness.Namespace},
		Spec: batchv1.CronJobSpec{
			Schedule: "* * * * *", ConcurrencyPolicy: batchv1.ForbidConcurrent,
			JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{BackoffLimit: new(int32(0)), Template: annotatedTemplate(injectedJobArgs...)}},
		},
	}
	if _, err := s.c.BatchV1().CronJobs(harness.Namespace).Create(ctx, cj, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		bg := metav1.DeletePropagationBackground
		_ = s.c.BatchV1().CronJobs(harness.Namespace).Delete(context.WithoutCancel(ctx), cj.Name, metav1.DeleteOptions{PropagationPolicy: &bg})
	})
	job := waitCronJobJob(t, ctx, s.c, harness.Namespace, cj.Name)
	// One run is enough: stop the schedule.
	if _, err := s.c.BatchV1().CronJobs(harness.Namespace).Patch(ctx, cj.Name, types.MergePatchType, []byte(`{"spec":{"suspend":true}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	p := s.waitJobPod(t, ctx, job)
	s.checkInjected(t, p)
	s.checkTokens(t, ctx, p.Name)
}

// A pod asking for a provider the config lacks is refused, with the reason
// in the answer and in a Warning Event on the pod.
func (s *injectorEnv) refused(t *testing.T, ctx context.Context) {
	p := plainPod()
	p.Name = "injector-refused"
	p.Annotations = map[string]string{"fedtoken.dev/inject": injectProvider + ",ghost"}
	_, err := s.c.CoreV1().Pods(harness.Namespace).Create(ctx, p, metav1.CreateOptions{})
	if err == nil {
		_ = s.c.CoreV1().Pods(harness.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{})
		t.Fatal("a pod asking for an unknown provider was admitted")
	}
	if !strings.Contains(err.Error(), `no provider "ghost"`) {
		t.Errorf("refusal %q does not name the provider", err)
	}
	t.Logf("refused as expected: %v", err)
	if err := wait.Until(ctx, "the InjectionRefused Event", 30*time.Second, time.Second, func(ctx context.Context) (bool, error) {
		evs, err := s.c.CoreV1().Events(harness.Namespace).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=" + p.Name})
		if err != nil {
			return false, wait.NotYet("%v", err)
		}
		for _, e := range evs.Items {
			if e.Reason == "InjectionRefused" && e.Type == corev1.EventTypeWarning && strings.Contains(e.Message, `"ghost"`) {
				return true, nil
			}
		}
		return false, wait.NotYet("%d events", len(evs.Items))
	}); err != nil {
		t.Error(err)
	}
}

// With no injector answering: Fail refuses annotated pods with a clear
// message, Ignore admits them as sent (uninjected).
func (s *injectorEnv) failurePolicy(t *testing.T, ctx context.Context) {
	if _, err := s.c.AppsV1().Deployments(injectorNamespace).Patch(ctx, injectorName, types.MergePatchType, []byte(`{"spec":{"replicas":0}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := wait.Until(ctx, "every injector pod gone", 2*time.Minute, time.Second, func(ctx context.Context) (bool, error) {
		pods, err := s.c.CoreV1().Pods(injectorNamespace).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=fedtoken-injector"})
		if err != nil {
			return false, wait.NotYet("%v", err)
		}
		if len(pods.Items) == 0 {
			return true, nil
		}
		return false, wait.NotYet("%d pods left", len(pods.Items))
	}); err != nil {
		t.Fatal(err)
	}
	create := func(name string) (*corev1.Pod, error) {
		p := plainPod()
		p.Name = name
		p.Annotations = map[string]string{"fedtoken.dev/inject": injectProvider}
		return s.c.CoreV1().Pods(harness.Namespace).Create(ctx, p, metav1.CreateOptions{})
	}
	// Fail: the API server may need a moment to see the endpoints gone;
	// the refusal must then say which webhook failed.
	var failErr error
	if err := wait.Until(ctx, "failurePolicy Fail to refuse an annotated pod", time.Minute, time.Second, func(ctx context.Context) (bool, error) {
		p, err := create("injector-down-fail")
		if err == nil {
			_ = cluster.DeletePodAndWait(ctx, s.c, harness.Namespace, p.Name, time.Minute)
			return false, wait.NotYet("admitted (injected=%v)", p.Annotations["fedtoken.dev/status"] == "injected")
		}
		failErr = err
		return true, nil
	}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(failErr.Error(), `failed calling webhook "inject.fedtoken.dev"`) {
		t.Errorf("failurePolicy Fail: refusal %q does not name the webhook", failErr)
	}
	t.Logf("failurePolicy Fail, injector down: %v", failErr)

	// Ignore: admitted as sent.
	patch := `[{"op":"replace","path":"/webhooks/0/failurePolicy","value":"Ignore"}]`
	if _, err := s.c.AdmissionregistrationV1().MutatingWebhookConfigurations().Patch(ctx, injectorName, types.JSONPatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	var admitted *corev1.Pod
	if err := wait.Until(ctx, "failurePolicy Ignore to admit an annotated pod", time.Minute, time.Second, func(ctx context.Context) (bool, error) {
		p, err := create("injector-down-ignore")
		if err != nil {
			return false, wait.NotYet("%v", err)
		}
		admitted = p
		return true, nil
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = s.c.CoreV1().Pods(harness.Namespace).Delete(context.WithoutCancel(ctx), admitted.Name, metav1.DeleteOptions{})
	})
	if len(admitted.Spec.InitContainers) != 0 || len(admitted.Spec.Containers) != 1 || admitted.Annotations["fedtoken.dev/status"] != "" {
		t.Errorf("failurePolicy Ignore: the pod was changed although no injector answered: %d init, %d containers", len(admitted.Spec.InitContainers), len(admitted.Spec.Containers))
	}
}
