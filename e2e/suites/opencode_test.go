//go:build e2e

package suites

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"

	"github.com/fedtoken/fedtoken/e2e/cluster"
	"github.com/fedtoken/fedtoken/e2e/harness"
	"github.com/fedtoken/fedtoken/e2e/idp/keycloak"
	"github.com/fedtoken/fedtoken/e2e/internal/gateway"
	"github.com/fedtoken/fedtoken/e2e/internal/wait"
	"github.com/fedtoken/fedtoken/release/ociimage"
)

// opencode itself in the loop: the seed's workloads (deploy/overlays) run
// the real `opencode run --model <provider>/glm-5 "<prompt>"` (npm
// opencode-ai, pinned in e2e/peers/versions.env) through fedtoken-sidecar,
// against an OpenAI-compatible gateway stand-in that verifies every bearer
// token against the issuing Keycloak realm's JWKS. Keycloak is configured
// secretless (keycloak.SecretlessRealmRepresentation): the seed's
// jwt_bearer providers keep their clientId and get no secret; the one line
// they gain is clientAuth: {"method": "federated"}.
//
// What an e2e run changes in the seed's files, and nothing else: the
// namespace (opencode, so this suite never meets the seed suite's
// ai-jobs), images (imported), issuer and projected audience (this
// Keycloak's realms), baseURL (the gateway), allowInsecureHTTP (the IdP and
// gateway are plain http on the harness bridge), and the one clientAuth line.
const (
	ocNamespace = "opencode"
	ocSA        = "opencode-runner"
	ocImageName = "opencode"
	// ocModel is the seed's model; the gateway serves any.
	ocModel = "glm-5"
)

// ocRealms maps the seed's provider ids to the Keycloak realm (and client)
// that plays their IdP: the seed's single provider is
// https://auth.example.com/realms/prod with clientId k8s-runner; its
// multi-provider file has prod and staging IdPs with clientId k8s-bot.
var ocRealms = map[string]struct{ realm, client string }{
	"miaou":         {"prod", "k8s-runner"},
	"miaou-prod":    {"main-prod", "k8s-bot"},
	"miaou-staging": {"main-staging", "k8s-bot"},
}

// ocTokenAudience maps the projected token paths of the overlays to the
// provider whose IdP must be the token's audience.
var ocTokenAudience = map[string]string{"token": "miaou", "prod-token": "miaou-prod", "staging-token": "miaou-staging"}

type ocEnv struct {
	e     *harness.Env
	c     kubernetes.Interface
	image string
	gw    *gateway.Server
}

var (
	ocImageOnce sync.Once
	ocImageRef  string
	ocImageErr  error
)

// opencodeImage builds (once) and loads the image the app containers run:
// opencode with the host's glibc (it is dynamically linked; no base image
// can be pulled), botloop (the bot Deployment's loop) and fedtoken (for
// `fedtoken exec`), all under /usr/local/bin.
func opencodeImage(t *testing.T, ctx context.Context, e *harness.Env) string {
	t.Helper()
	if e.Peers.Versions.Opencode == "" {
		t.Skip("OPENCODE_VERSION is not set in e2e/peers/versions.env")
	}
	bin := e.Peers.Opencode()
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("needs opencode (e2e/scripts/install-peers.sh opencode): %v", err)
	}
	cli := filepath.Join(e.RepoRoot, "bin", "fedtoken")
	if _, err := os.Stat(cli); err != nil {
		t.Skipf("needs %s (make build)", cli)
	}
	ocImageOnce.Do(func() {
		dir, err := os.MkdirTemp("", "fedtoken-e2e-opencode-")
		if err != nil {
			ocImageErr = err
			return
		}
		defer os.RemoveAll(dir)
		loop := filepath.Join(dir, "botloop")
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", loop, "./cmd/botloop")
		cmd.Dir = filepath.Join(e.RepoRoot, "e2e")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			ocImageErr = fmt.Errorf("build botloop: %w\n%s", err, out)
			return
		}
		ref := harness.ImageRef(ocImageName)
		tar := filepath.Join(dir, "opencode.tar")
		start := time.Now()
		if err := ociimage.BuildDynamic(ociimage.DynamicOptions{
			Ref: ref, Out: tar, User: "65532:65532",
			Files: map[string]string{
				"/usr/local/bin/opencode": bin,
				"/usr/local/bin/botloop":  loop,
				"/usr/local/bin/fedtoken": cli,
			},
			Entrypoint: []string{"/usr/local/bin/opencode"},
		}); err != nil {
			ocImageErr = err
			return
		}
		if err := e.Cluster.LoadImage(ctx, tar); err != nil {
			ocImageErr = err
			return
		}
		t.Logf("opencode image %s built and loaded in %s", ref, time.Since(start).Round(time.Second))
		ocImageRef = ref
	})
	if ocImageErr != nil {
		t.Fatal(ocImageErr)
	}
	return ocImageRef
}

func newOCEnv(t *testing.T, ctx context.Context) *ocEnv {
	t.Helper()
	e := requireKeycloak(t)
	if _, ok := e.Images["fedtoken-sidecar"]; !ok {
		t.Skip("needs image bin/images/fedtoken-sidecar.tar (make images)")
	}
	if _, err := os.Stat(e.Peers.KubernetesBin("kubectl")); err != nil {
		t.Skipf("needs kubectl (kustomize) from install-peers.sh: %v", err)
	}
	o := &ocEnv{e: e, c: e.Cluster.Client(), image: opencodeImage(t, ctx, e)}
	var trusts []gateway.Trust
	for _, id := range slices.Sorted(maps.Keys(ocRealms)) {
		r := ocRealms[id]
		if err := e.Keycloak.CreateRealm(ctx, keycloak.SecretlessRealmRepresentation(keycloak.SecretlessParams{
			Realm: r.realm, ClientID: r.client, Issuer: e.Cluster.Issuer(),
			Subject: "system:serviceaccount:" + ocNamespace + ":" + ocSA, Username: ocSA,
		})); err != nil {
			t.Fatal(err)
		}
		iss := o.issuer(id)
		trusts = append(trusts, gateway.Trust{Name: "keycloak/" + r.realm, Issuer: iss, JWKSURL: iss + "/protocol/openid-connect/certs", Audience: r.client})
	}
	gw, err := gateway.Start(e.Cluster.HostAddress(), trusts, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = gw.Close() })
	o.gw = gw
	return o
}

// issuer is the realm issuer that plays provider id's IdP.
func (o *ocEnv) issuer(id string) string {
	return keycloak.RealmIssuer(o.e.Keycloak.URL(), ocRealms[id].realm)
}

// idpName is how the gateway names provider id's IdP.
func idpName(id string) string { return "keycloak/" + ocRealms[id].realm }

// render renders an overlay and moves it to the suite's namespace.
func (o *ocEnv) render(t *testing.T, ctx context.Context, overlay string) []runtime.Object {
	t.Helper()
	s := &seedEnv{e: o.e, c: o.c}
	objs := s.render(t, ctx, overlay)
	for _, obj := range objs {
		m, err := meta.Accessor(obj)
		if err != nil {
			t.Fatal(err)
		}
		if ns, ok := obj.(*corev1.Namespace); ok {
			ns.Name = ocNamespace
			continue
		}
		m.SetNamespace(ocNamespace)
	}
	return objs
}

// secretlessConfig rewrites the seed's opencode.json (fedtoken-config) the
// way a user of this Keycloak would: issuer, baseURL and the one line
// clientAuth: {"method": "federated"}; clientId is kept and there is no
// secret.
func (o *ocEnv) secretlessConfig(t *testing.T, data string) string {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal([]byte(data), &doc); err != nil {
		t.Fatalf("fedtoken-config opencode.json: %v", err)
	}
	providers, _ := doc["provider"].(map[string]any)
	for id, p := range providers {
		opts, _ := p.(map[string]any)["options"].(map[string]any)
		oauth, _ := opts["oauth2"].(map[string]any)
		r, known := ocRealms[id]
		if oauth == nil || !known {
			t.Fatalf("seed config: unexpected provider %q", id)
		}
		if oauth["authFlow"] != "jwt_bearer" || oauth["clientId"] != r.client {
			t.Fatalf("provider %s: authFlow %v clientId %v; the seed's are jwt_bearer and %s", id, oauth["authFlow"], oauth["clientId"], r.client)
		}
		for _, k := range []string{"clientSecret", "clientSecretFile", "clientSecretEnv"} {
			if _, ok := oauth[k]; ok {
				t.Fatalf("provider %s has %s; the seed's file has no secret", id, k)
			}
		}
		opts["baseURL"] = o.gw.URL()
		oauth["issuer"] = o.issuer(id)
		oauth["allowInsecureHTTP"] = true // Keycloak and the gateway are plain http on the harness bridge
		keycloak.SecretlessOAuth2(oauth)
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// patch applies the e2e changes to the rendered objects. app turns the
// overlay's app container into what runs in it (opencode, or botloop
// around opencode).
func (o *ocEnv) patch(t *testing.T, objs []runtime.Object, app func(c *corev1.Container)) {
	t.Helper()
	for _, obj := range objs {
		var spec *corev1.PodSpec
		switch x := obj.(type) {
		case *corev1.ConfigMap:
			if x.Name == "fedtoken-config" {
				x.Data["opencode.json"] = o.secretlessConfig(t, x.Data["opencode.json"])
			}
		case *batchv1.Job:
			spec = &x.Spec.Template.Spec
		case *batchv1.CronJob:
			spec = &x.Spec.JobTemplate.Spec.Template.Spec
		case *appsv1.Deployment:
			spec = &x.Spec.Template.Spec
		}
		if spec == nil {
			continue
		}
		for _, list := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
			for i := range list {
				if list[i].Name == "fedtoken" {
					list[i].Image = o.e.Images["fedtoken-sidecar"]
					list[i].ImagePullPolicy = corev1.PullNever
				}
			}
		}
		for i := range spec.Containers {
			if spec.Containers[i].Name != "fedtoken" {
				c := &spec.Containers[i]
				c.Image = o.image
				c.ImagePullPolicy = corev1.PullNever
				app(c)
				break
			}
		}
		for _, v := range spec.Volumes {
			if v.Projected == nil {
				continue
			}
			for _, src := range v.Projected.Sources {
				if sa := src.ServiceAccountToken; sa != nil {
					id, ok := ocTokenAudience[sa.Path]
					if !ok {
						t.Fatalf("unexpected projected token path %q", sa.Path)
					}
					sa.Audience = o.issuer(id)
				}
			}
		}
	}
}

// opencodeRun keeps the seed's exec-form `opencode run --model M PROMPT`,
// and turns its shell-script form (the CronJob's `/bin/sh -c`) into the
// same command: the image has no shell.
func opencodeRun(t *testing.T, c *corev1.Container) {
	t.Helper()
	argv := append(slices.Clone(c.Command), c.Args...)
	if len(argv) >= 5 && argv[0] == "opencode" && argv[1] == "run" && argv[2] == "--model" {
		return
	}
	script := strings.Join(argv, " ")
	if !strings.Contains(script, "opencode run") {
		t.Fatalf("container %s does not run opencode: %q", c.Name, argv)
	}
	model := "miaou/" + ocModel
	if i := strings.Index(script, "--model"); i >= 0 {
		if f := strings.Fields(script[i+len("--model"):]); len(f) > 0 {
			model = strings.Trim(f[0], `"'\`)
		}
	}
	c.Command = []string{"opencode", "run", "--model", model, "Summarize yesterday's customer support tickets"}
	c.Args = nil
}

// apply creates the objects (ConfigMaps are replaced: overlays share names).
func (o *ocEnv) apply(t *testing.T, ctx context.Context, objs []runtime.Object) {
	t.Helper()
	applyOverlay(t, ctx, o.c, objs)
}

// jobPod waits for a Job to complete and returns its pod; on failure it
// shows the containers' logs.
func (o *ocEnv) jobPod(t *testing.T, ctx context.Context, job string) *corev1.Pod {
	t.Helper()
	pods := waitJobPods(t, ctx, o.c, ocNamespace, job, 4*time.Minute, func(pods []corev1.Pod) {
		for _, p := range pods {
			o.dumpLogs(t, ctx, &p)
		}
	})
	return &pods[len(pods)-1]
}

func (o *ocEnv) dumpLogs(t *testing.T, ctx context.Context, p *corev1.Pod) {
	t.Helper()
	for _, c := range append(slices.Clone(p.Spec.InitContainers), p.Spec.Containers...) {
		if logs, err := cluster.PodLogs(ctx, o.c, ocNamespace, p.Name, c.Name); err == nil {
			t.Logf("%s/%s:\n%s", p.Name, c.Name, redactJWTs(tail(logs, 30)))
		}
	}
}

// checkAnswers checks that container printed opencode's streamed answer
// for each provider (the gateway's text names the IdP whose token it
// verified), and that the gateway verified tokens of those IdPs since
// since.
func (o *ocEnv) checkAnswers(t *testing.T, ctx context.Context, pod, container string, since time.Time, providers ...string) {
	t.Helper()
	logs, err := cluster.PodLogs(ctx, o.c, ocNamespace, pod, container)
	if err != nil {
		t.Fatal(err)
	}
	verified := map[string]int{}
	for _, r := range o.gw.Records() {
		if r.Verified && !r.Time.Before(since) {
			verified[r.IdP]++
		}
	}
	for _, id := range providers {
		if !strings.Contains(logs, gateway.Answer(idpName(id))) {
			t.Errorf("%s/%s: opencode did not print the answer for %s (%q):\n%s", pod, container, id, gateway.Answer(idpName(id)), redactJWTs(tail(logs, 30)))
		}
		if verified[idpName(id)] == 0 {
			t.Errorf("gateway verified no token of %s since %s (verified: %v)", idpName(id), since.Format(time.TimeOnly), verified)
		}
	}
	t.Logf("%s/%s: opencode printed the streamed answer; gateway verified tokens per IdP: %v", pod, container, verified)
}

// checkNoRefusals fails when the gateway refused any request: every token
// that reached it must have verified.
func (o *ocEnv) checkNoRefusals(t *testing.T) {
	t.Helper()
	for _, r := range o.gw.Records() {
		if !r.Verified {
			t.Errorf("gateway refused %s at %s: %s", r.Path, r.Time.Format(time.TimeOnly), r.Reason)
		}
	}
}

// TestOpencodeSeedWorkloads runs the seed's Job, CronJob, Deployment and
// multi-provider Deployment with real opencode through fedtoken-sidecar,
// and one Job with `fedtoken exec`, against Keycloak with no secret
// anywhere.
func TestOpencodeSeedWorkloads(t *testing.T) {
	ctx := testContext(t, 20*time.Minute)
	o := newOCEnv(t, ctx)
	t.Cleanup(func() {
		_ = o.c.CoreV1().Namespaces().Delete(context.WithoutCancel(ctx), ocNamespace, metav1.DeleteOptions{})
	})
	t.Cleanup(func() { o.checkNoRefusals(t) })

	t.Run("job", func(t *testing.T) {
		since := time.Now()
		objs := o.render(t, ctx, "job")
		o.patch(t, objs, func(c *corev1.Container) { opencodeRun(t, c) })
		o.apply(t, ctx, objs)
		pod := o.jobPod(t, ctx, "opencode-summarize-incident")
		o.checkAnswers(t, ctx, pod.Name, "runner", since, "miaou")
	})

	t.Run("secretless at keycloak, from the host", func(t *testing.T) { o.hostCLI(t, ctx) })

	t.Run("cronjob", func(t *testing.T) {
		since := time.Now()
		objs := o.render(t, ctx, "cronjob")
		var name string
		o.patch(t, objs, func(c *corev1.Container) { opencodeRun(t, c) })
		for _, obj := range objs {
			if cj, ok := obj.(*batchv1.CronJob); ok {
				name = cj.Name
				cj.Spec.Schedule = "* * * * *" // the seed's is daily: fire within a minute
			}
		}
		o.apply(t, ctx, objs)
		job := waitCronJobJob(t, ctx, o.c, ocNamespace, name)
		if cj, err := o.c.BatchV1().CronJobs(ocNamespace).Get(ctx, name, metav1.GetOptions{}); err == nil {
			suspend := true
			cj.Spec.Suspend = &suspend
			_, _ = o.c.BatchV1().CronJobs(ocNamespace).Update(ctx, cj, metav1.UpdateOptions{})
		}
		pod := o.jobPod(t, ctx, job)
		o.checkAnswers(t, ctx, pod.Name, "runner", since, "miaou")
	})

	t.Run("deployment", func(t *testing.T) {
		o.deployment(t, ctx, "deployment", []string{"miaou"})
	})

	t.Run("multi-provider", func(t *testing.T) {
		o.deployment(t, ctx, "multi-provider", []string{"miaou-prod", "miaou-staging"})
	})

	t.Run("fedtoken exec job", func(t *testing.T) { o.execJob(t, ctx) })

	t.Run("model sync and responses repair", func(t *testing.T) { o.syncJob(t, ctx) })
}

// deployment runs a bot Deployment overlay: botloop runs opencode for
// each provider's model and becomes ready once all answered.
func (o *ocEnv) deployment(t *testing.T, ctx context.Context, overlay string, providers []string) {
	since := time.Now()
	objs := o.render(t, ctx, overlay)
	var models []string
	for _, id := range providers {
		models = append(models, id+"/"+ocModel)
	}
	o.patch(t, objs, func(c *corev1.Container) {
		c.Command = []string{"botloop", "-listen", ":8080", "-every", "60s", "-models", strings.Join(models, ","), "--",
			"opencode", "run", "--model", "{model}", "List today's open incidents"}
		c.Args = nil
	})
	var name string
	for _, obj := range objs {
		if d, ok := obj.(*appsv1.Deployment); ok {
			name = d.Name
		}
	}
	o.apply(t, ctx, objs)
	d, err := waitDeploymentReady(ctx, o.c, ocNamespace, name, 4*time.Minute)
	if err != nil {
		if pods, perr := o.c.CoreV1().Pods(ocNamespace).List(ctx, metav1.ListOptions{}); perr == nil {
			for _, p := range pods.Items {
				if strings.HasPrefix(p.Name, name) {
					o.dumpLogs(t, ctx, &p)
				}
			}
		}
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = o.c.AppsV1().Deployments(ocNamespace).Delete(context.WithoutCancel(ctx), name, metav1.DeleteOptions{})
	})
	pods, err := o.c.CoreV1().Pods(ocNamespace).List(ctx, metav1.ListOptions{LabelSelector: metav1.FormatLabelSelector(d.Spec.Selector)})
	if err != nil || len(pods.Items) == 0 {
		t.Fatalf("pods of %s: %v", name, err)
	}
	for _, p := range pods.Items {
		if p.DeletionTimestamp != nil {
			continue
		}
		// Ready can come before the first run (the multi-provider bot has
		// no readiness probe): wait until opencode answered for each provider.
		ctr := p.Spec.Containers[0].Name
		if err := wait.Until(ctx, "pod "+p.Name+" to print an answer per provider", 3*time.Minute, time.Second, func(ctx context.Context) (bool, error) {
			logs, err := cluster.PodLogs(ctx, o.c, ocNamespace, p.Name, ctr)
			if err != nil {
				return false, wait.NotYet("%v", err)
			}
			for _, id := range providers {
				if !strings.Contains(logs, gateway.Answer(idpName(id))) {
					return false, wait.NotYet("no answer for %s yet", id)
				}
			}
			return true, nil
		}); err != nil {
			o.dumpLogs(t, ctx, &p)
			t.Fatal(err)
		}
		o.checkAnswers(t, ctx, p.Name, ctr, since, providers...)
	}
}

// execJob runs the seed's Job with `fedtoken exec` instead of the sidecar:
// fedtoken gets the token once and starts opencode with it in
// OPENAI_API_KEY and the gateway in OPENAI_BASE_URL, which opencode's
// config reads with {env:…}. That config lists no model: the model comes
// from the gateway's list, which fedtoken exec hands opencode in
// OPENCODE_CONFIG_CONTENT.
func (o *ocEnv) execJob(t *testing.T, ctx context.Context) {
	since := time.Now()
	objs := o.render(t, ctx, "job")
	o.patch(t, objs, func(c *corev1.Container) {})
	const cfgName = "opencode-exec-config"
	execCfg := `{
  "$schema": "https://opencode.ai/config.json",
  "provider": {
    "miaou": {
      "npm": "@ai-sdk/openai-compatible",
      "name": "Miaou",
      "options": {
        "baseURL": "{env:OPENAI_BASE_URL}",
        "apiKey": "{env:OPENAI_API_KEY}"
      }
    }
  }
}
`
	var kept []runtime.Object
	for _, obj := range objs {
		switch x := obj.(type) {
		case *corev1.ConfigMap:
			if x.Name == "opencode-config" {
				x.Name = cfgName
				x.Data = map[string]string{"opencode.json": execCfg}
			}
		case *batchv1.Job:
			x.Name = "opencode-exec"
			spec := &x.Spec.Template.Spec
			spec.InitContainers = nil // no sidecar
			c := &spec.Containers[0]
			c.Command = []string{"fedtoken", "exec", "miaou", "--config", "/etc/fedtoken/opencode.json", "--base-url-env", "OPENAI_BASE_URL", "--",
				"opencode", "run", "--model", "miaou/" + ocModel, "summarize incident-1234"}
			// No sidecar writes opencode's config: opencode reads the
			// ConfigMap, and fedtoken exec adds the models.
			setEnv(c, "OPENCODE_CONFIG", "/etc/opencode/opencode.json")
			c.VolumeMounts = append(slices.DeleteFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return m.Name == "opencode-synced" }),
				corev1.VolumeMount{Name: "opencode-config", MountPath: "/etc/opencode", ReadOnly: true},
				corev1.VolumeMount{Name: "oauth2-token", MountPath: "/var/run/secrets/tokens/oauth2", ReadOnly: true},
				corev1.VolumeMount{Name: "fedtoken-config", MountPath: "/etc/fedtoken", ReadOnly: true})
			for i := range spec.Volumes {
				if spec.Volumes[i].ConfigMap != nil && spec.Volumes[i].ConfigMap.Name == "opencode-config" {
					spec.Volumes[i].ConfigMap.Name = cfgName
				}
			}
		}
		kept = append(kept, obj)
	}
	o.apply(t, ctx, kept)
	pod := o.jobPod(t, ctx, "opencode-exec")
	o.checkAnswers(t, ctx, pod.Name, "runner", since, "miaou")
}

// hostCLI proves the secretless route with the fedtoken CLI on the host,
// with the seed's file: unchanged, Keycloak refuses the public client and
// fedtoken says exactly what to change; with clientAuth federated it works.
// It also records Keycloak's answer to the seed's other route, legacy
// token exchange of the external token.
func (o *ocEnv) hostCLI(t *testing.T, ctx context.Context) {
	cli := filepath.Join(o.e.RepoRoot, "bin", "fedtoken")
	sa, err := cluster.RequestToken(ctx, o.c, ocNamespace, ocSA, o.issuer("miaou"), cluster.MinTokenSeconds)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tokenPath := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenPath, []byte(sa), 0o600); err != nil {
		t.Fatal(err)
	}
	write := func(name, clientID string, federated bool) string {
		cfg := map[string]any{
			"provider": map[string]any{"miaou": map[string]any{"options": map[string]any{
				"baseURL": o.gw.URL(),
				"oauth2": map[string]any{
					"issuer": o.issuer("miaou"), "clientId": clientID, "scopes": []string{"openid"},
					"authFlow": "jwt_bearer", "allowInsecureHTTP": true,
					"subjectTokenSource": map[string]any{"type": "kubernetes_sa", "tokenPath": tokenPath},
				},
			}}},
		}
		if federated {
			keycloak.SecretlessOAuth2(cfg["provider"].(map[string]any)["miaou"].(map[string]any)["options"].(map[string]any)["oauth2"].(map[string]any))
		}
		data, _ := json.MarshalIndent(cfg, "", "  ")
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// run returns stdout followed by stderr; lastStdout keeps stdout alone
	// (the token). Two buffers: exec copies the two streams concurrently.
	var lastStdout string
	run := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, cli, args...)
		cmd.Env = append(os.Environ(), "FEDTOKEN_CACHE_DIR="+filepath.Join(dir, "cache"))
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		lastStdout = stdout.String()
		return stdout.String() + stderr.String(), err
	}

	// The seed's file unchanged, first with the realm's (confidential,
	// federated) client k8s-runner: the client_id names a client that must
	// authenticate, and none is sent.
	public := write("public.json", "k8s-runner", false)
	out, err := run("token", "--config", public, "miaou")
	if err == nil {
		t.Fatalf("the seed's unchanged jwt_bearer provider got a token from Keycloak:\n%s", redactJWTs(out))
	}
	for _, want := range []string{"invalid_client", `set clientAuth: {"method": "federated"}`} {
		if !strings.Contains(out, want) {
			t.Errorf("fedtoken token with the seed's unchanged file: output lacks %q:\n%s", want, out)
		}
	}
	t.Logf("seed file unchanged, confidential client at Keycloak:\n%s", out)
	// Then with a public client, as an admin following the seed would make
	// it: Keycloak refuses the grant to public clients.
	if err := o.e.Keycloak.Post(ctx, "/admin/realms/"+ocRealms["miaou"].realm+"/clients", map[string]any{
		"clientId": "k8s-runner-public", "enabled": true, "publicClient": true, "standardFlowEnabled": false,
		"attributes": map[string]any{"oauth2.jwt.authorization.grant.enabled": "true", "oauth2.jwt.authorization.grant.idp": keycloak.SecretlessGrantIdP},
	}); err != nil {
		t.Fatal(err)
	}
	publicClient := write("public-client.json", "k8s-runner-public", false)
	out, err = run("token", "--config", publicClient, "miaou")
	if err == nil {
		t.Fatalf("a public jwt_bearer client got a token from Keycloak:\n%s", redactJWTs(out))
	}
	for _, want := range []string{"Public client not allowed to use authorization grant", `set clientAuth: {"method": "federated"}`} {
		if !strings.Contains(out, want) {
			t.Errorf("fedtoken token with a public client: output lacks %q:\n%s", want, out)
		}
	}
	t.Logf("seed file unchanged, public client at Keycloak:\n%s", out)
	out, _ = run("doctor", "--config", public, "miaou")
	if !strings.Contains(out, "client auth") || !strings.Contains(out, `"method": "federated"`) {
		t.Errorf("doctor does not name the secretless fix:\n%s", out)
	}
	t.Logf("seed file unchanged at Keycloak (fedtoken doctor):\n%s", out)

	fed := write("federated.json", "k8s-runner", true)
	out, err = run("token", "--config", fed, "miaou")
	if err != nil {
		t.Fatalf("fedtoken token with clientAuth federated: %v\n%s", err, out)
	}
	c := claims(t, strings.TrimSpace(lastStdout))
	if c["iss"] != o.issuer("miaou") || c["azp"] != "k8s-runner" || c["preferred_username"] != ocSA {
		t.Errorf("access token iss=%v azp=%v preferred_username=%v; want %s, k8s-runner, %s", c["iss"], c["azp"], c["preferred_username"], o.issuer("miaou"), ocSA)
	}
	if out, err := run("doctor", "--config", fed, "miaou"); err != nil || strings.Contains(out, "client auth") {
		t.Errorf("doctor with clientAuth federated: %v\n%s", err, out)
	}

	// The seed's other Keycloak route: the external token exchanged for a
	// Keycloak token (legacy token exchange V1, external → internal). The
	// client authenticates the secretless way; Keycloak's exact answer is
	// what docs/idp/keycloak.md quotes.
	for _, withIssuer := range []bool{true, false} {
		form := url.Values{
			"grant_type":            {"urn:ietf:params:oauth:grant-type:token-exchange"},
			"subject_token":         {sa},
			"subject_token_type":    {"urn:ietf:params:oauth:token-type:jwt"},
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
			"client_assertion":      {sa},
		}
		if withIssuer {
			form.Set("subject_issuer", keycloak.SecretlessGrantIdP)
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, keycloak.TokenEndpoint(o.e.Keycloak.URL(), ocRealms["miaou"].realm), strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body bytes.Buffer
		_, _ = body.ReadFrom(resp.Body)
		resp.Body.Close()
		t.Logf("token exchange of the external jwt (subject_issuer sent: %v), default features: HTTP %d %s", withIssuer, resp.StatusCode, redactJWTs(body.String()))
		if resp.StatusCode == http.StatusOK {
			t.Errorf("Keycloak exchanged the external token with default features; docs/idp/keycloak.md says it does not")
		}
	}
}
