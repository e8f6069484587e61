//go:build e2e

package suites

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/fedtoken/fedtoken/core/models"
	"github.com/fedtoken/fedtoken/e2e/cluster"
	"github.com/fedtoken/fedtoken/e2e/internal/gateway"
)

// syncModel is a model only the gateway's list has: opencode can run it
// only once the sidecar has synced.
const syncModel = "qwen3-coder-30b-a3b"

// syncJob runs the seed's Job with the plugin's sync settings added to the
// seed's ConfigMap (syncIntervalMinutes, nameOverrides, responseApi) and a
// base opencode.json without models whose provider speaks the Responses
// API (@ai-sdk/openai), against the gateway stand-in, whose /responses
// streams omit output_index and content_index. In the pod, next to the
// sidecar: opencode models with the base config (before the sync), with
// the config the sidecar wrote (after it), and opencode run of a model
// only the gateway lists — which completes only if the sidecar synced the
// list and repaired the stream.
func (o *ocEnv) syncJob(t *testing.T, ctx context.Context) {
	since := time.Now()
	objs := o.render(t, ctx, "job")
	o.patch(t, objs, func(c *corev1.Container) {})
	const job, fcfg, ocfg = "opencode-sync", "fedtoken-sync-config", "opencode-sync-config"
	overrides := map[string]string{"glm-5": "Miaou GLM 5"}
	var kept []runtime.Object
	for _, obj := range objs {
		switch x := obj.(type) {
		case *corev1.ConfigMap:
			switch x.Name {
			case "fedtoken-config":
				x.Name = fcfg
				x.Data["opencode.json"] = editJSON(t, x.Data["opencode.json"], func(doc map[string]any) {
					oauth := doc["provider"].(map[string]any)["miaou"].(map[string]any)["options"].(map[string]any)["oauth2"].(map[string]any)
					oauth["syncIntervalMinutes"] = 1
					oauth["nameOverrides"] = overrides
					oauth["responseApi"] = true
				})
			case "opencode-config":
				x.Name = ocfg
				x.Data["opencode.json"] = editJSON(t, x.Data["opencode.json"], func(doc map[string]any) {
					p := doc["provider"].(map[string]any)["miaou"].(map[string]any)
					if _, ok := p["models"]; ok {
						t.Fatal("deploy/ hard-codes models in opencode-config")
					}
					p["npm"] = models.NPMResponses
					// @ai-sdk/openai insists on a key; the proxy replaces it.
					p["options"].(map[string]any)["apiKey"] = "set-by-fedtoken-sidecar"
				})
			}
		case *batchv1.Job:
			x.Name = job
			spec := &x.Spec.Template.Spec
			for i := range spec.Volumes {
				if cm := spec.Volumes[i].ConfigMap; cm != nil {
					cm.Name = map[string]string{"fedtoken-config": fcfg, "opencode-config": ocfg}[cm.Name]
				}
			}
			runner := &spec.Containers[0]
			runner.Command = []string{"opencode", "run", "--model", "miaou/" + syncModel, "Summarize yesterday's customer support tickets"}
			before := *runner.DeepCopy()
			before.Name, before.Command = "models-before", []string{"opencode", "models"}
			setEnv(&before, "OPENCODE_CONFIG", "/etc/opencode/opencode.json")
			setEnv(&before, "HOME", "/tmp/before")
			before.VolumeMounts = []corev1.VolumeMount{{Name: "opencode-config", MountPath: "/etc/opencode", ReadOnly: true}, {Name: "tmp", MountPath: "/tmp"}}
			after := *runner.DeepCopy()
			after.Name, after.Command = "models-after", []string{"opencode", "models", "miaou", "--verbose"}
			setEnv(&after, "HOME", "/tmp/after")
			after.VolumeMounts = slices.DeleteFunc(after.VolumeMounts, func(m corev1.VolumeMount) bool { return m.Name == "home" })
			spec.Containers = append(spec.Containers, before, after)
		}
		kept = append(kept, obj)
	}
	o.apply(t, ctx, kept)
	pod := o.jobPod(t, ctx, job)

	logs := func(container string) string {
		s, err := cluster.PodLogs(ctx, o.c, ocNamespace, pod.Name, container)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	beforeOut, afterOut := logs("models-before"), logs("models-after")
	t.Logf("opencode models, base config (before the sync):\n%s", beforeOut)
	t.Logf("opencode models miaou --verbose, config written by the sidecar (after the sync):\n%s", afterOut)
	if strings.Contains(beforeOut, "miaou/") {
		t.Errorf("the base config already lists miaou models:\n%s", beforeOut)
	}
	for _, id := range gateway.Models {
		if !strings.Contains(afterOut, "miaou/"+id+"\n") {
			t.Errorf("after the sync opencode does not list miaou/%s", id)
		}
		if name := models.DisplayName(id, overrides); !strings.Contains(afterOut, `"name": "`+name+`"`) {
			t.Errorf("after the sync opencode does not show %s as %q", id, name)
		}
	}
	o.checkAnswers(t, ctx, pod.Name, "runner", since, "miaou")
	responses := 0
	for _, r := range o.gw.Records() {
		if r.Verified && !r.Time.Before(since) && strings.HasSuffix(r.Path, "/responses") {
			responses++
		}
	}
	if responses == 0 {
		t.Error("the gateway answered no /responses request: opencode did not use the Responses API")
	}
	t.Logf("opencode run --model miaou/%s completed through %d Responses API stream(s) without indices, repaired by the sidecar", syncModel, responses)
}

// editJSON decodes a JSON document, lets edit change it, and encodes it.
func editJSON(t *testing.T, data string, edit func(map[string]any)) string {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal([]byte(data), &doc); err != nil {
		t.Fatal(err)
	}
	edit(doc)
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// setEnv sets a container's variable, replacing an existing value.
func setEnv(c *corev1.Container, name, value string) {
	for i := range c.Env {
		if c.Env[i].Name == name {
			c.Env[i].Value = value
			return
		}
	}
	c.Env = append(c.Env, corev1.EnvVar{Name: name, Value: value})
}
