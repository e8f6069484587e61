package overlays

import (
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/fedtoken/fedtoken/core/config"
)

// deployDir is the repository's deploy/ directory.
const deployDir = "../../../deploy"

// startDir holds what each overlay's sidecar starts from (its environment
// and config file): the sidecar's tests start it from these records
// (sidecar/internal/app/overlays_test.go), TestOverlays keeps them equal
// to what deploy/ renders.
const startDir = "../../../sidecar/internal/app/testdata/overlays"

var update = flag.Bool("update", false, "rewrite "+startDir+" from deploy/")

const sidecarImage = "fedtoken/fedtoken-sidecar:dev"

// render runs kustomize on dir and decodes every object.
func render(t *testing.T, dir string) []object {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	rm, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	var out []object
	for _, r := range rm.Resources() {
		m, err := r.Map()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(m)
		var o object
		if err := json.Unmarshal(b, &o); err != nil {
			t.Fatalf("%s %s: %v", r.GetKind(), r.GetName(), err)
		}
		out = append(out, o)
	}
	return out
}

type overlay struct {
	dir      string
	objects  []string          // "Kind/name", sorted
	native   bool              // the sidecar is a native sidecar
	proxies  map[string]string // provider id → proxy listen address
	seed     string            // testdata file the fedtoken-config must equal
	replicas int32             // Deployments only
}

var overlays = []overlay{
	{
		dir:     "overlays/cronjob",
		objects: []string{"ConfigMap/fedtoken-config", "ConfigMap/opencode-config", "CronJob/opencode-daily-digest", "Namespace/ai-jobs", "ServiceAccount/opencode-runner"},
		native:  true, proxies: map[string]string{"miaou": "127.0.0.1:8181"}, seed: "seed-single.opencode.json",
	},
	{
		dir:     "overlays/job",
		objects: []string{"ConfigMap/fedtoken-config", "ConfigMap/opencode-config", "Job/opencode-summarize-incident", "Namespace/ai-jobs", "ServiceAccount/opencode-runner"},
		native:  true, proxies: map[string]string{"miaou": "127.0.0.1:8181"}, seed: "seed-single.opencode.json",
	},
	{
		dir:     "overlays/job-pre-1.29",
		objects: []string{"ConfigMap/fedtoken-config", "ConfigMap/opencode-config", "Job/opencode-summarize-incident-legacy", "Namespace/ai-jobs", "ServiceAccount/opencode-runner"},
		native:  false, proxies: map[string]string{"miaou": "127.0.0.1:8181"}, seed: "seed-single.opencode.json",
	},
	{
		dir:     "overlays/deployment",
		objects: []string{"ConfigMap/fedtoken-config", "ConfigMap/opencode-config", "Deployment/opencode-bot", "Namespace/ai-jobs", "ServiceAccount/opencode-runner"},
		native:  true, proxies: map[string]string{"miaou": "127.0.0.1:8181"}, seed: "seed-single.opencode.json", replicas: 2,
	},
	{
		dir:     "overlays/multi-provider",
		objects: []string{"ConfigMap/fedtoken-config", "ConfigMap/opencode-config", "Deployment/opencode-bot-multi", "Namespace/ai-jobs", "ServiceAccount/opencode-runner"},
		native:  true, proxies: map[string]string{"miaou-prod": "127.0.0.1:8181", "miaou-staging": "127.0.0.1:8182"}, seed: "seed-multi.opencode.json", replicas: 1,
	},
}

func TestOverlays(t *testing.T) {
	entries, err := os.ReadDir(filepath.Join(deployDir, "overlays"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(overlays) {
		t.Errorf("deploy/overlays has %d overlays, the test checks %d: add the new one to the table", len(entries), len(overlays))
	}
	for _, ov := range overlays {
		t.Run(ov.dir, func(t *testing.T) {
			objs := render(t, filepath.Join(deployDir, ov.dir))
			checkOverlay(t, ov, objs)
		})
	}
	// No record of an overlay that is gone.
	records, err := filepath.Glob(filepath.Join(startDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range records {
		if !slices.ContainsFunc(overlays, func(ov overlay) bool { return startRecord(ov) == r }) {
			t.Errorf("%s records no overlay of deploy/overlays: remove it", r)
		}
	}
}

func checkOverlay(t *testing.T, ov overlay, objs []object) {
	var names []string
	byName := map[string]object{}
	var workload *object
	for i, o := range objs {
		key := o.Kind + "/" + o.Metadata.Name
		names = append(names, key)
		byName[key] = o
		switch o.Kind {
		case "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding":
			t.Errorf("%s: the sidecar needs no RBAC", key)
		case "CronJob", "Job", "Deployment":
			workload = &objs[i]
		}
		if o.Kind != "Namespace" && o.Metadata.Namespace != "ai-jobs" {
			t.Errorf("%s: namespace %q, want ai-jobs", key, o.Metadata.Namespace)
		}
	}
	sort.Strings(names)
	if !slices.Equal(names, ov.objects) {
		t.Fatalf("objects = %v, want %v", names, ov.objects)
	}
	pod := workload.pod()
	checkWorkload(t, *workload, pod, ov)

	// Identity: the SA exists, has no API token mounted.
	sa := byName["ServiceAccount/"+pod.ServiceAccountName]
	if sa.Kind == "" {
		t.Errorf("pod uses ServiceAccount %q, which the overlay does not define", pod.ServiceAccountName)
	}
	if (pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken) && (sa.AutomountServiceAccountToken == nil || *sa.AutomountServiceAccountToken) {
		t.Error("the Kubernetes API token is mounted; the sidecar never talks to the API server")
	}

	sidecar, apps := splitContainers(t, pod, ov.native)
	checkSidecarShape(t, pod, sidecar, ov.native)
	for _, c := range append([]container{sidecar}, apps...) {
		checkRestricted(t, pod, c)
	}

	// The sidecar's config: the seed's opencode.json, unchanged, loaded the
	// way the binary loads it.
	cfgPath, _ := sidecar.env("FEDTOKEN_CONFIG")
	data := mountedFile(t, pod, sidecar, byName, cfgPath)
	checkSeedUnchanged(t, data, ov.seed)
	file, err := config.Parse([]byte(data), path.Base(cfgPath))
	if err != nil {
		t.Fatalf("%s does not parse: %v", cfgPath, err)
	}
	checkSidecarStart(t, ov, sidecar, cfgPath, data)

	// Each provider's projected token: mounted in the sidecar only, at
	// tokenPath, with the provider's issuer as audience.
	for _, p := range file.Providers {
		checkProjectedToken(t, pod, sidecar, apps, p)
	}

	// The app's opencode.json points each provider at its sidecar proxy and
	// carries no OAuth settings.
	app := apps[len(apps)-1]
	// OPENCODE_CONFIG names the file: opencode writes into an
	// OPENCODE_CONFIG_DIR, which a read-only ConfigMap mount refuses.
	if _, ok := app.env("OPENCODE_CONFIG_DIR"); ok {
		t.Errorf("container %s sets OPENCODE_CONFIG_DIR: opencode fails writing .gitignore there on a read-only mount; set OPENCODE_CONFIG to the file", app.Name)
	}
	appConfig, ok := app.env("OPENCODE_CONFIG")
	if !ok {
		t.Fatalf("container %s has no OPENCODE_CONFIG", app.Name)
	}
	// That file is the one the sidecar writes (the base plus the gateway's
	// models), on an emptyDir both containers mount; the base is a
	// ConfigMap without models: deploy/ hard-codes none.
	written, _ := sidecar.env("FEDTOKEN_SIDECAR_OPENCODE_CONFIG")
	if written != appConfig {
		t.Errorf("the app reads %s, the sidecar writes opencode's config to %q", appConfig, written)
	}
	for _, c := range []container{sidecar, app} {
		if v := mountVolume(pod, c, path.Dir(appConfig)); v == nil || v.EmptyDir == nil {
			t.Errorf("container %s: %s is not on an emptyDir", c.Name, path.Dir(appConfig))
		}
	}
	base, ok := sidecar.env("FEDTOKEN_SIDECAR_OPENCODE_CONFIG_BASE")
	if !ok {
		t.Fatalf("sidecar has no FEDTOKEN_SIDECAR_OPENCODE_CONFIG_BASE")
	}
	baseData := mountedFile(t, pod, sidecar, byName, base)
	checkAppConfig(t, baseData, ov.proxies)
	if strings.Contains(baseData, `"models"`) {
		t.Errorf("%s hard-codes models; the sidecar syncs them from the gateway", base)
	}
}

// mountVolume returns the volume c mounts at dir, or nil.
func mountVolume(pod *podSpec, c container, dir string) *volume {
	for _, m := range c.VolumeMounts {
		if m.MountPath == dir {
			return pod.volume(m.Name)
		}
	}
	return nil
}

func checkWorkload(t *testing.T, o object, pod *podSpec, ov overlay) {
	switch o.Kind {
	case "CronJob":
		if o.Spec.ConcurrencyPolicy != "Forbid" || o.Spec.Schedule == "" {
			t.Errorf("CronJob: concurrencyPolicy %q schedule %q; want Forbid and a schedule", o.Spec.ConcurrencyPolicy, o.Spec.Schedule)
		}
		if o.Spec.JobTemplate.Spec.ActiveDeadlineSeconds == nil {
			t.Error("CronJob: the job template has no activeDeadlineSeconds")
		}
	case "Job":
		if o.Spec.ActiveDeadlineSeconds == nil || o.Spec.TTLSecondsAfterFinished == nil {
			t.Error("Job: want activeDeadlineSeconds and ttlSecondsAfterFinished")
		}
	case "Deployment":
		if o.Spec.Replicas == nil || *o.Spec.Replicas != ov.replicas {
			t.Errorf("Deployment: replicas %v, want %d", o.Spec.Replicas, ov.replicas)
		}
	}
	if o.Kind != "Deployment" && pod.RestartPolicy != "Never" {
		t.Errorf("%s: restartPolicy %q, want Never", o.Kind, pod.RestartPolicy)
	}
}

// splitContainers finds the sidecar (an init container for a native
// sidecar, else a container) and the app containers.
func splitContainers(t *testing.T, pod *podSpec, native bool) (container, []container) {
	t.Helper()
	var sidecars, apps []container
	for _, c := range pod.InitContainers {
		if c.Image == sidecarImage {
			sidecars = append(sidecars, c)
		}
	}
	for _, c := range pod.Containers {
		if c.Image == sidecarImage {
			if native {
				t.Errorf("container %s: the sidecar must be a native sidecar (an initContainers entry)", c.Name)
			}
			sidecars = append(sidecars, c)
		} else {
			apps = append(apps, c)
		}
	}
	if len(sidecars) != 1 || len(apps) == 0 {
		t.Fatalf("%d sidecar containers and %d app containers; want 1 and at least 1", len(sidecars), len(apps))
	}
	return sidecars[0], apps
}

func checkSidecarShape(t *testing.T, pod *podSpec, c container, native bool) {
	if native && c.RestartPolicy != "Always" {
		t.Errorf("sidecar init container: restartPolicy %q, want Always (native sidecar)", c.RestartPolicy)
	}
	if c.ImagePullPolicy == "" {
		t.Error("sidecar: set imagePullPolicy (the e2e cluster imports images)")
	}
	health, ok := c.env("FEDTOKEN_SIDECAR_HEALTH_ADDR")
	if !ok {
		t.Fatal("sidecar: FEDTOKEN_SIDECAR_HEALTH_ADDR unset: the kubelet cannot probe the loopback admin listener")
	}
	_, healthPort, err := net.SplitHostPort(health)
	if err != nil {
		t.Fatalf("FEDTOKEN_SIDECAR_HEALTH_ADDR %q: %v", health, err)
	}
	gate := c.StartupProbe // the app starts once a token is held
	if !native {
		gate = c.ReadinessProbe
	}
	if gate == nil || gate.HTTPGet == nil || gate.HTTPGet.Path != "/readyz" {
		t.Fatalf("sidecar: want an httpGet /readyz %s", map[bool]string{true: "startupProbe", false: "readinessProbe"}[native])
	}
	port := fmt.Sprint(gate.HTTPGet.Port)
	for _, p := range c.Ports {
		if p.Name == port {
			port = fmt.Sprint(p.ContainerPort)
		}
	}
	if port != healthPort {
		t.Errorf("sidecar probe port %s, but the health listener is on %s", port, healthPort)
	}
}

// checkRestricted checks the Pod Security "restricted" fields (container
// settings override the pod's) plus a read-only root for every container
// and resource requests.
func checkRestricted(t *testing.T, pod *podSpec, c container) {
	sc := c.SecurityContext
	psc := pod.SecurityContext
	if sc == nil {
		t.Errorf("container %s: no securityContext", c.Name)
		return
	}
	nonRoot := (sc.RunAsNonRoot != nil && *sc.RunAsNonRoot) || (sc.RunAsNonRoot == nil && psc != nil && psc.RunAsNonRoot != nil && *psc.RunAsNonRoot)
	seccomp := (sc.SeccompProfile != nil && sc.SeccompProfile.Type == "RuntimeDefault") ||
		(sc.SeccompProfile == nil && psc != nil && psc.SeccompProfile != nil && psc.SeccompProfile.Type == "RuntimeDefault")
	checks := []struct {
		ok   bool
		what string
	}{
		{nonRoot, "runAsNonRoot: true"},
		{seccomp, "seccompProfile RuntimeDefault"},
		{sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem, "readOnlyRootFilesystem: true"},
		{sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation, "allowPrivilegeEscalation: false"},
		{sc.Capabilities != nil && slices.Equal(sc.Capabilities.Drop, []string{"ALL"}) && len(sc.Capabilities.Add) == 0, "capabilities: drop [ALL]"},
		{c.Resources.Requests["cpu"] != "" && c.Resources.Requests["memory"] != "", "cpu and memory requests"},
	}
	for _, ch := range checks {
		if !ch.ok {
			t.Errorf("container %s: want %s", c.Name, ch.what)
		}
	}
}

// mountedFile returns the ConfigMap entry that container c sees at file.
func mountedFile(t *testing.T, pod *podSpec, c container, objs map[string]object, file string) string {
	t.Helper()
	for _, m := range c.VolumeMounts {
		if path.Dir(file) != m.MountPath {
			continue
		}
		v := pod.volume(m.Name)
		if v == nil || v.ConfigMap == nil {
			t.Fatalf("container %s: %s is not a ConfigMap volume", c.Name, m.MountPath)
		}
		cm, ok := objs["ConfigMap/"+v.ConfigMap.Name]
		if !ok {
			t.Fatalf("ConfigMap %s is not in the overlay", v.ConfigMap.Name)
		}
		data, ok := cm.Data[path.Base(file)]
		if !ok {
			t.Fatalf("ConfigMap %s has no key %s", v.ConfigMap.Name, path.Base(file))
		}
		return data
	}
	t.Fatalf("container %s: nothing mounted at %s", c.Name, path.Dir(file))
	return ""
}

// checkSeedUnchanged compares the ConfigMap's opencode.json with the
// seed's (sidecar/testdata, extracted from the seed cookbook).
func checkSeedUnchanged(t *testing.T, data, seedFile string) {
	seed, err := os.ReadFile(filepath.Join("../../../sidecar/testdata", seedFile))
	if err != nil {
		t.Fatal(err)
	}
	var got, want any
	if err := json.Unmarshal([]byte(data), &got); err != nil {
		t.Fatalf("fedtoken-config opencode.json: %v", err)
	}
	_ = json.Unmarshal(seed, &want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("fedtoken-config's opencode.json differs from the seed's (%s): it must stay unchanged", seedFile)
	}
}

// sidecarStart is what an overlay's sidecar starts from, and the proxies
// it must set up from it.
type sidecarStart struct {
	Overlay    string            `json:"overlay"`
	Env        map[string]string `json:"env"`        // the container's environment
	ConfigName string            `json:"configName"` // base name of $FEDTOKEN_CONFIG
	Config     string            `json:"config"`     // the file the ConfigMap mounts there
	Proxies    map[string]string `json:"proxies"`    // provider id → proxy listen address
}

func startRecord(ov overlay) string {
	return filepath.Join(startDir, path.Base(ov.dir)+".json")
}

// checkSidecarStart checks that the sidecar's environment holds only
// fedtoken settings and that the record of what the sidecar starts from
// (which the sidecar's own tests start it from: config, section,
// environment, providers, listeners' settings) is what deploy/ renders;
// -update rewrites it.
func checkSidecarStart(t *testing.T, ov overlay, c container, cfgPath, data string) {
	t.Helper()
	rec := sidecarStart{Overlay: ov.dir, Env: map[string]string{}, ConfigName: path.Base(cfgPath), Config: data, Proxies: ov.proxies}
	for _, e := range c.Env {
		if !strings.HasPrefix(e.Name, "FEDTOKEN_") {
			t.Errorf("sidecar env %s is not a fedtoken setting", e.Name)
		}
		rec.Env[e.Name], _ = c.env(e.Name)
	}
	want, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, '\n')
	file := startRecord(ov)
	if *update {
		if err := os.WriteFile(file, want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(file)
	if err != nil || string(got) != string(want) {
		t.Errorf("%s is not what %s gives its sidecar (%v): run `go test ./internal/overlays -update` in e2e/ and check the diff", file, ov.dir, err)
	}
}

func checkProjectedToken(t *testing.T, pod *podSpec, sidecar container, apps []container, p config.Provider) {
	if p.SubjectTokenSource == nil || p.SubjectTokenSource.Type != "kubernetes_sa" {
		t.Fatalf("provider %s: subjectTokenSource is not kubernetes_sa", p.ID)
	}
	tokenPath := p.SubjectTokenSource.TokenPath
	var vol *volume
	for _, m := range sidecar.VolumeMounts {
		if m.MountPath == path.Dir(tokenPath) {
			vol = pod.volume(m.Name)
			if !m.ReadOnly {
				t.Errorf("provider %s: token volume mounted read-write", p.ID)
			}
		}
	}
	if vol == nil || vol.Projected == nil {
		t.Fatalf("provider %s: no projected volume mounted at %s in the sidecar", p.ID, path.Dir(tokenPath))
	}
	found := false
	for _, src := range vol.Projected.Sources {
		sat := src.ServiceAccountToken
		if sat == nil || sat.Path != path.Base(tokenPath) {
			continue
		}
		found = true
		if sat.Audience != p.Issuer {
			t.Errorf("provider %s: projected token audience %q, want the issuer %q", p.ID, sat.Audience, p.Issuer)
		}
		if sat.ExpirationSeconds < 600 {
			t.Errorf("provider %s: expirationSeconds %d is below the API server's minimum of 600", p.ID, sat.ExpirationSeconds)
		}
	}
	if !found {
		t.Errorf("provider %s: volume %s projects no token at %s", p.ID, vol.Name, path.Base(tokenPath))
	}
	for _, a := range apps {
		for _, m := range a.VolumeMounts {
			if m.Name == vol.Name {
				t.Errorf("container %s mounts the projected token: only the sidecar needs it", a.Name)
			}
		}
	}
}

func checkAppConfig(t *testing.T, data string, proxies map[string]string) {
	var cfg struct {
		Plugin   []string `json:"plugin"`
		Provider map[string]struct {
			Options map[string]any `json:"options"`
		} `json:"provider"`
	}
	if err := json.Unmarshal([]byte(data), &cfg); err != nil {
		t.Fatalf("app opencode.json: %v", err)
	}
	if len(cfg.Plugin) != 0 {
		t.Errorf("app opencode.json loads plugins %v; the sidecar replaces the OAuth plugin", cfg.Plugin)
	}
	if len(cfg.Provider) != len(proxies) {
		t.Errorf("app opencode.json has %d providers, the sidecar proxies %d", len(cfg.Provider), len(proxies))
	}
	for id, listen := range proxies {
		p, ok := cfg.Provider[id]
		if !ok {
			t.Errorf("app opencode.json lacks provider %s", id)
			continue
		}
		if got, want := p.Options["baseURL"], "http://"+listen; got != want {
			t.Errorf("app provider %s: baseURL %v, want the sidecar proxy %s", id, got, want)
		}
		if _, ok := p.Options["oauth2"]; ok {
			t.Errorf("app provider %s carries oauth2 settings", id)
		}
	}
}

// TestImagePullNeverComponent renders every overlay with the component the
// e2e cluster uses and checks that no container would pull.
func TestImagePullNeverComponent(t *testing.T) {
	abs, err := filepath.Abs(deployDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, ov := range overlays {
		t.Run(ov.dir, func(t *testing.T) {
			dir := t.TempDir()
			// kustomize wants relative paths to other kustomizations.
			rel := func(p string) string {
				r, err := filepath.Rel(dir, filepath.Join(abs, p))
				if err != nil {
					t.Fatal(err)
				}
				return r
			}
			k := fmt.Sprintf("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [%q]\ncomponents: [%q]\n",
				rel(ov.dir), rel("components/image-pull-never"))
			if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(k), 0o600); err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, o := range render(t, dir) {
				if pod := o.pod(); pod != nil {
					for _, c := range append(pod.InitContainers, pod.Containers...) {
						n++
						if c.ImagePullPolicy != "Never" {
							t.Errorf("%s/%s container %s: imagePullPolicy %q, want Never", o.Kind, o.Metadata.Name, c.Name, c.ImagePullPolicy)
						}
					}
				}
			}
			if n < 2 {
				t.Errorf("only %d containers rendered", n)
			}
		})
	}
}
