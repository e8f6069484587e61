package inject_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/yaml"

	"github.com/fedtoken/fedtoken/injector/inject"
)

const deployDir = "../../deploy"

// overlay reads a Job or Deployment of deploy/overlays and returns its pod
// and the ConfigMap data of deploy/config/<cfg>.
func overlayPod(t *testing.T, file string) corev1.Pod {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(deployDir, file))
	if err != nil {
		t.Fatal(err)
	}
	// Job or Deployment: only the pod template matters.
	var w struct {
		Spec struct {
			Template corev1.PodTemplateSpec `json:"template"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(b, &w); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return corev1.Pod{ObjectMeta: w.Spec.Template.ObjectMeta, Spec: w.Spec.Template.Spec}
}

func configData(t *testing.T, cfg string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(deployDir, "config", cfg, "fedtoken-config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cm corev1.ConfigMap
	if err := yaml.UnmarshalStrict(b, &cm); err != nil {
		t.Fatal(err)
	}
	return cm.Data
}

// strip removes what deploy/ writes by hand and the injector adds: the
// sidecar and the volumes only it mounts.
func strip(pod *corev1.Pod) (sidecar corev1.Container, volumes []corev1.Volume) {
	for _, list := range []*[]corev1.Container{&pod.Spec.InitContainers, &pod.Spec.Containers} {
		*list = slices.DeleteFunc(*list, func(c corev1.Container) bool {
			if c.Name == inject.SidecarName {
				sidecar = c
				return true
			}
			return false
		})
		if len(*list) == 0 {
			*list = nil
		}
	}
	mounted := map[string]bool{}
	for _, m := range sidecar.VolumeMounts {
		mounted[m.Name] = true
	}
	pod.Spec.Volumes = slices.DeleteFunc(pod.Spec.Volumes, func(v corev1.Volume) bool {
		if mounted[v.Name] {
			volumes = append(volumes, v)
			return true
		}
		return false
	})
	// The pre-1.29 overlay shares an emptyDir with the app; the injector
	// adds its own.
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		c.VolumeMounts = slices.DeleteFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return m.Name == "fedtoken-shared" })
	}
	return sidecar, volumes
}

var defaults = inject.Defaults{
	Image: "fedtoken/fedtoken-sidecar:dev", PullPolicy: corev1.PullIfNotPresent,
	ConfigMaps: []string{"fedtoken-config", "other-config"}, NativeSidecars: true,
	Resources: inject.DefaultResources(),
}

// apply runs the injection as the API server would: the patch applied to
// the pod's JSON.
func apply(t *testing.T, d inject.Defaults, pod corev1.Pod, data map[string]string) (corev1.Pod, inject.Patch) {
	t.Helper()
	ref, err := d.Ref(&pod)
	if err != nil {
		t.Fatal(err)
	}
	patch, err := d.Plan(&pod, ref, data)
	if err != nil {
		t.Fatal(err)
	}
	return applyPatch(t, pod, patch), patch
}

func applyPatch(t *testing.T, pod corev1.Pod, patch inject.Patch) corev1.Pod {
	t.Helper()
	raw, _ := json.Marshal(pod)
	pb, _ := json.Marshal(patch)
	p, err := jsonpatch.DecodePatch(pb)
	if err != nil {
		t.Fatal(err)
	}
	out, err := p.Apply(raw)
	if err != nil {
		t.Fatalf("patch does not apply: %v\n%s", err, pb)
	}
	var got corev1.Pod
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	return got
}

func find(list []corev1.Container, name string) *corev1.Container {
	for i := range list {
		if list[i].Name == name {
			return &list[i]
		}
	}
	return nil
}

func env(c *corev1.Container, name string) (string, bool) {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value, true
		}
	}
	return "", false
}

// The injected pod has the shape deploy/overlays/job writes by hand: the
// same native sidecar (security context, startup and liveness probes,
// resources, probe port, mounts) and the same projected token.
func TestInjectMatchesDeployOverlay(t *testing.T) {
	for _, tc := range []struct {
		file, cfg string
		native    bool
		ann       map[string]string
		inject    string // annotation-only manifest of the same workload
	}{
		{"overlays/job/job.yaml", "single", true, nil, "injection/job.yaml"},
		{"overlays/job/job.yaml", "single", true, map[string]string{inject.AnnotationInject: "miaou"}, ""},
		{"overlays/job-pre-1.29/job.yaml", "single", false, map[string]string{inject.AnnotationInject: "miaou"}, ""},
		{"overlays/multi-provider/deployment.yaml", "multi", true, map[string]string{inject.AnnotationInject: "miaou-prod,miaou-staging"}, ""},
	} {
		t.Run(tc.file, func(t *testing.T) {
			pod := overlayPod(t, tc.file)
			want, wantVolumes := strip(&pod)
			pod.Annotations = tc.ann
			if tc.inject != "" {
				// The annotation-only manifest instead of the stripped
				// overlay.
				pod = overlayPod(t, tc.inject)
			}
			d := defaults
			d.NativeSidecars = tc.native
			got, _ := apply(t, d, pod, configData(t, tc.cfg))

			list := got.Spec.Containers
			if tc.native {
				list = got.Spec.InitContainers
			}
			if len(list) == 0 || list[0].Name != inject.SidecarName {
				t.Fatalf("native=%v: the sidecar is not the first of its list", tc.native)
			}
			sc := list[0]
			if !reflect.DeepEqual(sc.SecurityContext, want.SecurityContext) {
				t.Errorf("securityContext = %+v, deploy/ has %+v", sc.SecurityContext, want.SecurityContext)
			}
			if !equality.Semantic.DeepEqual(sc.Resources, want.Resources) {
				t.Errorf("resources = %v, deploy/ has %v", sc.Resources, want.Resources)
			}
			if !reflect.DeepEqual(sc.Ports, want.Ports) || !reflect.DeepEqual(sc.RestartPolicy, want.RestartPolicy) {
				t.Errorf("ports %v restartPolicy %v, deploy/ has %v %v", sc.Ports, sc.RestartPolicy, want.Ports, want.RestartPolicy)
			}
			if want.StartupProbe != nil && !reflect.DeepEqual(sc.StartupProbe, want.StartupProbe) {
				t.Errorf("startupProbe = %+v, deploy/ has %+v", sc.StartupProbe, want.StartupProbe)
			}
			if (sc.StartupProbe != nil) != tc.native {
				t.Errorf("startupProbe present = %v, want %v", sc.StartupProbe != nil, tc.native)
			}
			if sc.ReadinessProbe == nil || sc.ReadinessProbe.HTTPGet.Path != "/readyz" || sc.LivenessProbe == nil || sc.LivenessProbe.HTTPGet.Path != "/healthz" {
				t.Errorf("probes: readiness %+v liveness %+v", sc.ReadinessProbe, sc.LivenessProbe)
			}
			for _, name := range []string{"FEDTOKEN_CONFIG", "FEDTOKEN_SIDECAR_PROXY", "FEDTOKEN_SIDECAR_HEALTH_ADDR"} {
				w, _ := env(&want, name)
				if g, _ := env(&sc, name); g != w {
					t.Errorf("sidecar %s = %q, deploy/ has %q", name, g, w)
				}
			}
			// Same mount paths; the projected tokens have the same
			// files, audiences and lifetimes.
			paths := func(c corev1.Container, vols []corev1.Volume) map[string]string {
				out := map[string]string{}
				for _, m := range c.VolumeMounts {
					for _, v := range vols {
						if v.Name != m.Name {
							continue
						}
						switch {
						case v.Projected != nil:
							for _, s := range v.Projected.Sources {
								out[m.MountPath+"/"+s.ServiceAccountToken.Path] = s.ServiceAccountToken.Audience + " " + formatInt(*s.ServiceAccountToken.ExpirationSeconds)
							}
						case v.ConfigMap != nil:
							out[m.MountPath] = "configMap " + v.ConfigMap.Name
						default:
							out[m.MountPath] = "emptyDir"
						}
					}
				}
				return out
			}
			wantPaths := paths(want, append(wantVolumes, overlayPod(t, tc.file).Spec.Volumes...))
			gotPaths := paths(sc, got.Spec.Volumes)
			// The overlays are opencode workloads whose sidecar also writes
			// opencode's config with the gateway's models (model sync,
			// --opencode-config); injection does not set that up
			// (docs/kubernetes.md), so those mounts are not compared unless
			// injection has the same path for its own reasons.
			for _, name := range []string{"FEDTOKEN_SIDECAR_OPENCODE_CONFIG", "FEDTOKEN_SIDECAR_OPENCODE_CONFIG_BASE"} {
				if v, ok := env(&want, name); ok {
					if _, injected := gotPaths[filepath.Dir(v)]; !injected {
						delete(wantPaths, filepath.Dir(v))
					}
				}
			}
			if !reflect.DeepEqual(gotPaths, wantPaths) {
				t.Errorf("sidecar mounts = %v\ndeploy/ has %v", gotPaths, wantPaths)
			}
			if got.Annotations[inject.AnnotationStatus] != inject.StatusInjected {
				t.Errorf("status annotation = %q", got.Annotations[inject.AnnotationStatus])
			}
		})
	}
}

func formatInt(n int64) string { b, _ := json.Marshal(n); return string(b) }

func annotated(ann map[string]string) corev1.Pod {
	return corev1.Pod{
		ObjectMeta: metav1ObjectMeta("ai-jobs", ann),
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{
				{Name: "app", Image: "example/app", Env: []corev1.EnvVar{{Name: "KEEP", Value: "1"}}, Ports: []corev1.ContainerPort{{ContainerPort: 8080}}},
				{Name: "helper", Image: "example/helper"},
			},
		},
	}
}

func TestEnvAndOverrides(t *testing.T) {
	data := configData(t, "multi")
	pod := annotated(map[string]string{
		inject.AnnotationInject:        "miaou-staging, miaou-prod",
		inject.AnnotationBaseURLEnv:    "miaou-prod=OPENAI_BASE_URL",
		inject.AnnotationContainers:    "app",
		inject.AnnotationProxyPort:     "18000",
		inject.AnnotationHealthPort:    "19000",
		inject.AnnotationTokenLifetime: "7200",
		inject.AnnotationAudience:      "miaou-staging=https://aud.example.com",
		inject.AnnotationCPURequest:    "25m",
		inject.AnnotationMemoryLimit:   "0",
		inject.AnnotationCPULimit:      "1",
		inject.AnnotationSidecarMode:   inject.SidecarModeContainer,
	})
	got, _ := apply(t, defaults, pod, data)
	if len(got.Spec.InitContainers) != 0 || got.Spec.Containers[0].Name != inject.SidecarName {
		t.Fatalf("sidecar-mode container: want the sidecar as first container, got init %d first %q", len(got.Spec.InitContainers), got.Spec.Containers[0].Name)
	}
	sc := got.Spec.Containers[0]
	app, helper := find(got.Spec.Containers, "app"), find(got.Spec.Containers, "helper")
	for name, want := range map[string]string{
		"FEDTOKEN_BASE_URL_MIAOU_STAGING": "http://127.0.0.1:18000",
		"OPENAI_BASE_URL":                 "http://127.0.0.1:18001",
		"KEEP":                            "1",
		inject.QuitFileEnv:                inject.QuitFile,
	} {
		if v, _ := env(app, name); v != want {
			t.Errorf("app %s = %q, want %q", name, v, want)
		}
	}
	if len(helper.Env) != 0 {
		t.Errorf("helper is not in %s but got env %v", inject.AnnotationContainers, helper.Env)
	}
	for name, want := range map[string]string{
		"FEDTOKEN_SIDECAR_PROXY":       "miaou-staging=127.0.0.1:18000,miaou-prod=127.0.0.1:18001",
		"FEDTOKEN_SIDECAR_PROVIDERS":   "miaou-staging,miaou-prod",
		"FEDTOKEN_SIDECAR_HEALTH_ADDR": ":19000",
		"FEDTOKEN_SIDECAR_QUIT_FILE":   inject.QuitFile,
		"FEDTOKEN_CONFIG":              "/etc/fedtoken/opencode.json",
	} {
		if v, _ := env(&sc, name); v != want {
			t.Errorf("sidecar %s = %q, want %q", name, v, want)
		}
	}
	if sc.Ports[0].ContainerPort != 19000 {
		t.Errorf("probe port %d", sc.Ports[0].ContainerPort)
	}
	wantRes := corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("25m"), corev1.ResourceMemory: resource.MustParse("32Mi")},
		Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")},
	}
	if !equality.Semantic.DeepEqual(sc.Resources, wantRes) {
		t.Errorf("resources = %v, want %v", sc.Resources, wantRes)
	}
	auds := map[string]string{}
	for _, v := range got.Spec.Volumes {
		if v.Projected == nil {
			continue
		}
		for _, s := range v.Projected.Sources {
			auds[s.ServiceAccountToken.Path] = s.ServiceAccountToken.Audience
			if *s.ServiceAccountToken.ExpirationSeconds != 7200 {
				t.Errorf("expirationSeconds %d", *s.ServiceAccountToken.ExpirationSeconds)
			}
		}
	}
	want := map[string]string{"prod-token": "https://auth-prod.example.com/realms/main", "staging-token": "https://aud.example.com"}
	if !reflect.DeepEqual(auds, want) {
		t.Errorf("audiences = %v, want %v", auds, want)
	}
	// The defaults were not changed by the pod's overrides.
	if !equality.Semantic.DeepEqual(defaults.Resources, inject.DefaultResources()) {
		t.Error("a pod's annotations changed the injector's defaults")
	}
}

// A second admission of an injected pod changes nothing; so does the
// admission of a pod from a deploy/ overlay (it carries the sidecar).
func TestIdempotent(t *testing.T) {
	pod := annotated(map[string]string{inject.AnnotationInject: "miaou"})
	got, _ := apply(t, defaults, pod, configData(t, "single"))
	if !inject.AlreadyInjected(&got) {
		t.Fatal("an injected pod is not recognised as injected")
	}
	// Without the status annotation (removed by hand), the sidecar alone
	// is enough.
	delete(got.Annotations, inject.AnnotationStatus)
	if !inject.AlreadyInjected(&got) {
		t.Fatal("a pod with a container named fedtoken is not recognised as injected")
	}
	overlay := overlayPod(t, "overlays/job/job.yaml")
	if !inject.AlreadyInjected(&overlay) {
		t.Fatal("deploy/overlays/job's pod is not recognised as carrying the sidecar")
	}
	plain := annotated(nil)
	if inject.Wanted(&plain) || inject.AlreadyInjected(&plain) {
		t.Fatal("a pod without annotations wants injection")
	}
}

// Existing lists are appended to, never replaced; existing env wins.
func TestAppendsToExistingLists(t *testing.T) {
	pod := annotated(map[string]string{inject.AnnotationInject: "miaou", inject.AnnotationBaseURLEnv: "KEEP"})
	pod.Spec.InitContainers = []corev1.Container{{Name: "migrate", Image: "example/migrate"}}
	pod.Spec.Volumes = []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
	got, _ := apply(t, defaults, pod, configData(t, "single"))
	if names := containerNames(got.Spec.InitContainers); !slices.Equal(names, []string{"fedtoken", "migrate"}) {
		t.Errorf("initContainers = %v, want the sidecar first", names)
	}
	if got.Spec.Volumes[0].Name != "data" || len(got.Spec.Volumes) != 3 {
		t.Errorf("volumes = %v", got.Spec.Volumes)
	}
	if v, _ := env(find(got.Spec.Containers, "app"), "KEEP"); v != "1" {
		t.Errorf("app's own KEEP=%q was overwritten", v)
	}
	if !reflect.DeepEqual(got.Spec.Containers[0].Ports, pod.Spec.Containers[0].Ports) {
		t.Error("app container changed beyond env")
	}
}

func containerNames(cs []corev1.Container) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out
}

func TestRefusals(t *testing.T) {
	single := configData(t, "single")
	fileSource := map[string]string{"opencode.json": `{"provider":{"p":{"options":{"oauth2":{"issuer":"https://idp.example.com","clientId":"c","authFlow":"jwt_bearer","subjectTokenSource":{"type":"file","path":"/t"}}}}}}`}
	for _, tc := range []struct {
		name string
		ann  map[string]string
		data map[string]string
		want string
	}{
		{"no provider", map[string]string{inject.AnnotationInject: " "}, single, "annotation fedtoken.dev/inject: no provider id"},
		{"unknown provider", map[string]string{inject.AnnotationInject: "nope"}, single, `no provider "nope"; available: miaou`},
		{"config map not allowed", map[string]string{inject.AnnotationInject: "miaou", inject.AnnotationConfig: "secret-stuff"}, single, `ConfigMap "secret-stuff" is not one the injector may read`},
		{"missing key", map[string]string{inject.AnnotationInject: "miaou", inject.AnnotationConfig: "fedtoken-config/x.json"}, single, `has no key "x.json"`},
		{"two keys", map[string]string{inject.AnnotationInject: "miaou"}, map[string]string{"a": "{}", "b": "{}"}, "has 2 keys (a, b)"},
		{"not kubernetes_sa", map[string]string{inject.AnnotationInject: "p"}, fileSource, "subjectTokenSource is file /t"},
		{"port clash", map[string]string{inject.AnnotationInject: "miaou", inject.AnnotationProxyPort: "8080"}, single, "container app uses port 8080"},
		{"bad quantity", map[string]string{inject.AnnotationInject: "miaou", inject.AnnotationMemoryLimit: "lots"}, single, `fedtoken.dev/memory-limit: "lots" is not a quantity`},
		{"short lifetime", map[string]string{inject.AnnotationInject: "miaou", inject.AnnotationTokenLifetime: "60"}, single, "at least 600"},
		{"bare env with two providers", map[string]string{inject.AnnotationInject: "a,b", inject.AnnotationBaseURLEnv: "X"}, single, "names no provider but 2 are injected"},
		{"no such container", map[string]string{inject.AnnotationInject: "miaou", inject.AnnotationContainers: "ghost"}, single, `no container "ghost" (containers: app, helper)`},
		{"bad mode", map[string]string{inject.AnnotationInject: "miaou", inject.AnnotationSidecarMode: "sometimes"}, single, `"sometimes": want native or container`},
		{"bad config", map[string]string{inject.AnnotationInject: "miaou"}, map[string]string{"opencode.json": "{"}, "ConfigMap ai-jobs/fedtoken-config key opencode.json:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pod := annotated(tc.ann)
			ref, err := defaults.Ref(&pod)
			if err == nil {
				_, err = defaults.Plan(&pod, ref, tc.data)
			}
			var refused *inject.RefusedError
			if err == nil || !errorsAs(err, &refused) {
				t.Fatalf("err = %v, want a *RefusedError", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v\nwant it to say %q", err, tc.want)
			}
		})
	}
}

func TestDefaultBaseURLEnv(t *testing.T) {
	for id, want := range map[string]string{"miaou": "FEDTOKEN_BASE_URL_MIAOU", "miaou-prod": "FEDTOKEN_BASE_URL_MIAOU_PROD", "a.b": "FEDTOKEN_BASE_URL_A_B"} {
		if got := inject.DefaultBaseURLEnv(id); got != want {
			t.Errorf("%s: %s, want %s", id, got, want)
		}
	}
}
