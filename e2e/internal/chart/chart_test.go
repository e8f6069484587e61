package chart_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/fedtoken/fedtoken/core/config"
	"github.com/fedtoken/fedtoken/e2e/internal/chart"
	"github.com/fedtoken/fedtoken/injector/inject"
)

var rel = chart.Release{Name: "fedtoken", Namespace: "fedtoken-system", KubeVersion: "v1.34.3"}

func render(t *testing.T, values map[string]any) map[string]chart.Object {
	t.Helper()
	objs, err := chart.Render(rel, values)
	if err != nil {
		t.Fatal(err)
	}
	// Kind/name; Kind/namespace/name outside the release's namespace.
	out := map[string]chart.Object{}
	for _, o := range objs {
		key := o.Key()
		if ns, _ := o.Map["metadata"].(map[string]any)["namespace"].(string); ns != "" && ns != rel.Namespace {
			key = strings.Replace(key, "/", "/"+ns+"/", 1)
		}
		if _, dup := out[key]; dup {
			t.Fatalf("%s rendered twice", key)
		}
		out[key] = o
	}
	return out
}

func decode[T any](t *testing.T, objs map[string]chart.Object, key string) *T {
	t.Helper()
	o, ok := objs[key]
	if !ok {
		t.Fatalf("no %s among %v", key, keys(objs))
	}
	b, _ := json.Marshal(o.Map)
	v := new(T)
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	return v
}

func keys(objs map[string]chart.Object) []string {
	var out []string
	for k := range objs {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestLint(t *testing.T) {
	for name, values := range map[string]map[string]any{
		"defaults":     nil,
		"cert-manager": {"certificates": map[string]any{"mode": "cert-manager"}},
	} {
		if msgs := chart.Lint(rel.Namespace, values); len(msgs) > 0 {
			t.Errorf("helm lint (%s):\n%s", name, strings.Join(msgs, "\n"))
		}
	}
}

// The default install: the injector, its Service, webhook, RBAC for itself
// only, and a PDB; nothing else.
func TestDefaults(t *testing.T) {
	objs := render(t, nil)
	want := []string{
		"ClusterRole/fedtoken-injector", "ClusterRoleBinding/fedtoken-injector", "Deployment/fedtoken-injector",
		"MutatingWebhookConfiguration/fedtoken-injector", "PodDisruptionBudget/fedtoken-injector",
		"Service/fedtoken-injector", "ServiceAccount/fedtoken-injector",
	}
	if got := keys(objs); !slices.Equal(got, want) {
		t.Fatalf("objects = %v\nwant %v", got, want)
	}
	dep := decode[appsv1.Deployment](t, objs, "Deployment/fedtoken-injector")
	if *dep.Spec.Replicas < 2 {
		t.Errorf("replicas %d: a PDB with minAvailable 1 needs at least 2", *dep.Spec.Replicas)
	}
	c := dep.Spec.Template.Spec.Containers[0]
	if c.Image != "ghcr.io/fedtoken/fedtoken-injector:v0.1.0" {
		t.Errorf("image %s", c.Image)
	}
	args := argMap(c.Args)
	for flag, want := range map[string]string{
		"--sidecar-image": "ghcr.io/fedtoken/fedtoken-sidecar:v0.1.0", "--config-map": "fedtoken-config",
		"--certs": "self-managed", "--webhook-config": "fedtoken-injector", "--service": "fedtoken-injector",
		"--native-sidecars": "auto", "--memory-limit": "64Mi",
	} {
		if args[flag] != want {
			t.Errorf("arg %s = %q, want %q", flag, args[flag], want)
		}
	}
	sc := c.SecurityContext
	if sc == nil || !*sc.RunAsNonRoot || !*sc.ReadOnlyRootFilesystem || *sc.AllowPrivilegeEscalation || sc.Capabilities.Drop[0] != "ALL" || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("the injector is not restricted: %+v", sc)
	}
	if c.ReadinessProbe.HTTPGet.Scheme != corev1.URISchemeHTTPS || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
		t.Errorf("readiness probe %+v", c.ReadinessProbe.HTTPGet)
	}

	// The webhook reaches the Service, skips the injector's namespace, and
	// has no caBundle (the injector keeps it).
	mwc := decode[admissionregistrationv1.MutatingWebhookConfiguration](t, objs, "MutatingWebhookConfiguration/fedtoken-injector")
	w := mwc.Webhooks[0]
	svc := decode[corev1.Service](t, objs, "Service/fedtoken-injector")
	if s := w.ClientConfig.Service; s == nil || s.Name != svc.Name || s.Namespace != rel.Namespace || *s.Path != "/mutate" || *s.Port != svc.Spec.Ports[0].Port {
		t.Errorf("webhook clientConfig %+v does not reach Service %s port %d", w.ClientConfig.Service, svc.Name, svc.Spec.Ports[0].Port)
	}
	if svc.Spec.Ports[0].TargetPort.StrVal != c.Ports[0].Name {
		t.Errorf("Service targets %v, the container's port is %s", svc.Spec.Ports[0].TargetPort, c.Ports[0].Name)
	}
	if *w.FailurePolicy != admissionregistrationv1.Fail || *w.SideEffects != admissionregistrationv1.SideEffectClassNoneOnDryRun || len(w.ClientConfig.CABundle) != 0 {
		t.Errorf("webhook failurePolicy %v sideEffects %v caBundle %d bytes", *w.FailurePolicy, *w.SideEffects, len(w.ClientConfig.CABundle))
	}
	excluded := false
	for _, e := range w.NamespaceSelector.MatchExpressions {
		if e.Key == "kubernetes.io/metadata.name" && e.Operator == "NotIn" && slices.Contains(e.Values, rel.Namespace) && slices.Contains(e.Values, "kube-system") {
			excluded = true
		}
	}
	if !excluded || w.NamespaceSelector.MatchLabels["fedtoken.dev/injection"] != "enabled" {
		t.Errorf("namespaceSelector %+v: want the injection label and the injector's own namespace excluded", w.NamespaceSelector)
	}
	if r := w.Rules[0]; !slices.Equal(r.Operations, []admissionregistrationv1.OperationType{admissionregistrationv1.Create}) || !slices.Equal(r.Resources, []string{"pods"}) {
		t.Errorf("rules %+v: want CREATE pods only", r)
	}

	// RBAC for the injector only, each rule as narrow as it can be.
	role := decode[rbacv1.ClusterRole](t, objs, "ClusterRole/fedtoken-injector")
	checkRBAC(t, role, []string{"fedtoken-config"}, true)
	binding := decode[rbacv1.ClusterRoleBinding](t, objs, "ClusterRoleBinding/fedtoken-injector")
	if len(binding.Subjects) != 1 || binding.Subjects[0].Name != dep.Spec.Template.Spec.ServiceAccountName || binding.Subjects[0].Namespace != rel.Namespace {
		t.Errorf("binding subjects %+v", binding.Subjects)
	}
}

func argMap(args []string) map[string]string {
	out := map[string]string{}
	for _, a := range args {
		k, v, _ := strings.Cut(a, "=")
		out[k] = v
	}
	return out
}

func checkRBAC(t *testing.T, role *rbacv1.ClusterRole, configMaps []string, selfManaged bool) {
	t.Helper()
	var got []string
	for _, r := range role.Rules {
		for _, res := range r.Resources {
			got = append(got, res+":"+strings.Join(r.Verbs, ",")+":"+strings.Join(r.ResourceNames, ","))
			if slices.Contains(r.Verbs, "*") || res == "*" || res == "secrets" {
				t.Errorf("rule %+v is too wide", r)
			}
		}
	}
	want := []string{"configmaps:get:" + strings.Join(configMaps, ","), "events:create:"}
	if selfManaged {
		want = append(want, "mutatingwebhookconfigurations:get,update:fedtoken-injector")
	}
	if !slices.Equal(got, want) {
		t.Errorf("ClusterRole rules %v\nwant %v", got, want)
	}
}

func TestCertManager(t *testing.T) {
	objs := render(t, map[string]any{"certificates": map[string]any{"mode": "cert-manager"}, "configMaps": []any{"a", "b"}})
	for _, k := range []string{"Certificate/fedtoken-injector", "Issuer/fedtoken-injector"} {
		if _, ok := objs[k]; !ok {
			t.Errorf("no %s", k)
		}
	}
	mwc := decode[admissionregistrationv1.MutatingWebhookConfiguration](t, objs, "MutatingWebhookConfiguration/fedtoken-injector")
	if got := mwc.Annotations["cert-manager.io/inject-ca-from"]; got != "fedtoken-system/fedtoken-injector" {
		t.Errorf("inject-ca-from = %q", got)
	}
	dep := decode[appsv1.Deployment](t, objs, "Deployment/fedtoken-injector")
	args := argMap(dep.Spec.Template.Spec.Containers[0].Args)
	if args["--certs"] != "files" || args["--config-map"] != "a,b" {
		t.Errorf("args %v", args)
	}
	cert := objs["Certificate/fedtoken-injector"].Map
	secret := cert["spec"].(map[string]any)["secretName"]
	if dep.Spec.Template.Spec.Volumes[0].Secret.SecretName != secret {
		t.Errorf("the injector mounts %s, the Certificate writes %v", dep.Spec.Template.Spec.Volumes[0].Secret.SecretName, secret)
	}
	if dns := cert["spec"].(map[string]any)["dnsNames"].([]any); dns[0] != "fedtoken-injector.fedtoken-system.svc" {
		t.Errorf("dnsNames %v", dns)
	}
	checkRBAC(t, decode[rbacv1.ClusterRole](t, objs, "ClusterRole/fedtoken-injector"), []string{"a", "b"}, false)
}

// Values that override the defaults reach the objects.
func TestOverrides(t *testing.T) {
	seed, err := os.ReadFile(filepath.Join("..", "..", "..", "sidecar", "testdata", "seed-single.opencode.json"))
	if err != nil {
		t.Fatal(err)
	}
	objs := render(t, map[string]any{
		"image":               map[string]any{"repository": "fedtoken.local/fedtoken-injector", "tag": "e2e", "pullPolicy": "Never"},
		"sidecar":             map[string]any{"image": map[string]any{"repository": "r/s", "digest": "sha256:" + strings.Repeat("a", 64)}, "pullPolicy": "Never"},
		"webhook":             map[string]any{"failurePolicy": "Ignore", "namespaceSelector": map[string]any{"matchLabels": map[string]any{"team": "ai"}}},
		"providers":           map[string]any{"namespaces": []any{"ai-jobs", "batch"}, "config": string(seed)},
		"podDisruptionBudget": map[string]any{"enabled": false},
		"apiServer":           map[string]any{"host": "10.214.0.1", "port": "6443"},
	})
	if _, ok := objs["PodDisruptionBudget/fedtoken-injector"]; ok {
		t.Error("PDB rendered while disabled")
	}
	dep := decode[appsv1.Deployment](t, objs, "Deployment/fedtoken-injector")
	c := dep.Spec.Template.Spec.Containers[0]
	args := argMap(c.Args)
	if c.Image != "fedtoken.local/fedtoken-injector:e2e" || c.ImagePullPolicy != corev1.PullNever ||
		args["--sidecar-image"] != "r/s@sha256:"+strings.Repeat("a", 64) || args["--image-pull-policy"] != "Never" {
		t.Errorf("image %s %s, args %v", c.Image, c.ImagePullPolicy, args)
	}
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	if env["KUBERNETES_SERVICE_HOST"] != "10.214.0.1" || env["KUBERNETES_SERVICE_PORT"] != "6443" {
		t.Errorf("apiServer values not in the injector's environment: %v", env)
	}
	mwc := decode[admissionregistrationv1.MutatingWebhookConfiguration](t, objs, "MutatingWebhookConfiguration/fedtoken-injector")
	if *mwc.Webhooks[0].FailurePolicy != admissionregistrationv1.Ignore || mwc.Webhooks[0].NamespaceSelector.MatchLabels["team"] != "ai" {
		t.Errorf("webhook %+v", mwc.Webhooks[0])
	}
	// The providers ConfigMaps hold the config the injector and the
	// sidecar read, under the name pods get by default.
	for _, ns := range []string{"ai-jobs", "batch"} {
		cm := decode[corev1.ConfigMap](t, objs, "ConfigMap/"+ns+"/"+args["--config-map"])
		if _, err := config.Parse([]byte(cm.Data["opencode.json"]), "opencode.json"); err != nil {
			t.Errorf("the rendered providers config does not parse: %v", err)
		}
		d := inject.Defaults{ConfigMaps: []string{cm.Name}, Image: "x", NativeSidecars: true, Resources: inject.DefaultResources()}
		pod := corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app"}}}}
		pod.Annotations = map[string]string{inject.AnnotationInject: "miaou"}
		pod.Namespace = ns
		ref, err := d.Ref(&pod)
		if err == nil {
			_, err = d.Plan(&pod, ref, cm.Data)
		}
		if err != nil {
			t.Errorf("a pod in %s cannot be injected from the chart's ConfigMap: %v", ns, err)
		}
	}
}

// values.schema.json refuses what the injector would refuse at start.
func TestSchema(t *testing.T) {
	for name, tc := range map[string]struct {
		values map[string]any
		want   string
	}{
		"failurePolicy": {map[string]any{"webhook": map[string]any{"failurePolicy": "Sometimes"}}, "failurePolicy"},
		"pullPolicy":    {map[string]any{"sidecar": map[string]any{"pullPolicy": "Maybe"}}, "pullPolicy"},
		"quantity":      {map[string]any{"sidecar": map[string]any{"resources": map[string]any{"memoryLimit": "lots"}}}, "memoryLimit"},
		"mode":          {map[string]any{"certificates": map[string]any{"mode": "vault"}}, "mode"},
		"configMaps":    {map[string]any{"configMaps": []any{}}, "configMaps"},
		"unknown":       {map[string]any{"replicas": 3}, "replicas"},
		"native":        {map[string]any{"sidecar": map[string]any{"nativeSidecars": "yes"}}, "nativeSidecars"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := chart.Render(rel, tc.values)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want a schema error naming %s", err, tc.want)
			}
		})
	}
}
