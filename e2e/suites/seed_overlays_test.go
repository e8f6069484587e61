//go:build e2e

package suites

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fedtoken/fedtoken/e2e/cluster"
	"github.com/fedtoken/fedtoken/e2e/idp/mockidp"
	"github.com/fedtoken/fedtoken/e2e/internal/wait"
)

// jobPre129 applies deploy/overlays/job-pre-1.29: the sidecar is an
// ordinary container with a token file and a quit file. The app (e2eprobe
// standing in for the overlay's shell script) waits for the token file,
// makes its calls, then creates the quit file; the sidecar exits 0 and the
// Job completes.
func (s *seedEnv) jobPre129(t *testing.T, ctx context.Context) {
	objs := s.render(t, ctx, "job-pre-1.29")
	var name string
	for _, obj := range objs {
		switch o := obj.(type) {
		case *corev1.ConfigMap:
			s.patchConfig(t, o)
		case *batchv1.Job:
			name = o.Name
			if len(o.Spec.Template.Spec.InitContainers) != 0 || o.Spec.Template.Spec.Containers[0].Name != "fedtoken" {
				t.Fatalf("job-pre-1.29: want the sidecar as the first ordinary container, got init %d, first %q",
					len(o.Spec.Template.Spec.InitContainers), o.Spec.Template.Spec.Containers[0].Name)
			}
			// The overlay's runner script, without a shell: wait for the
			// token file, run, touch the quit file.
			s.patchPod(&o.Spec.Template.Spec, append(append([]string{}, jobAppArgs...),
				"-wait-file", "/var/run/fedtoken/token", "-done-file", "/var/run/fedtoken/done"))
		}
	}
	s.apply(t, ctx, objs)
	pod := s.finishedJobPod(t, ctx, name)
	s.checkApp(t, ctx, pod.Name, "runner")
}

// multiProvider applies deploy/overlays/multi-provider with its two
// jwt_bearer providers pointed at mockidp's prod and staging issuers (the
// seed's client k8s-bot and opencode.json shape kept), each projected token
// for its own issuer, and a second app container for the staging proxy.
// The Deployment becomes Ready through the sidecar; each app gets tokens
// from its own issuer only; mockidp accepted every request it got.
func (s *seedEnv) multiProvider(t *testing.T, ctx context.Context) {
	if s.e.MockIdP == nil {
		t.Skip("mockidp not started: " + s.e.MockIdPMissing)
	}
	prod, staging := s.e.MockIdP.Issuer(mockidp.Prod), s.e.MockIdP.Issuer(mockidp.Staging)
	issuers := map[string]string{"miaou-prod": prod, "miaou-staging": staging}
	upstreams := map[string]string{"miaou-prod": "http://127.0.0.1:8080", "miaou-staging": "http://127.0.0.1:8081"}
	before, err := s.e.MockIdP.Requests()
	if err != nil {
		t.Fatal(err)
	}
	objs := s.render(t, ctx, "multi-provider")
	var name string
	for _, obj := range objs {
		switch o := obj.(type) {
		case *corev1.ConfigMap:
			if o.Name != "fedtoken-config" {
				continue
			}
			var doc map[string]any
			if err := json.Unmarshal([]byte(o.Data["opencode.json"]), &doc); err != nil {
				t.Fatal(err)
			}
			providers, _ := doc["provider"].(map[string]any)
			for id, p := range providers {
				opts, _ := p.(map[string]any)["options"].(map[string]any)
				oauth, _ := opts["oauth2"].(map[string]any)
				if issuers[id] == "" || oauth == nil {
					t.Fatalf("multi-provider overlay: unexpected provider %q", id)
				}
				if oauth["authFlow"] != "jwt_bearer" || oauth["clientId"] != mockidp.SeedClientID {
					t.Fatalf("provider %s: authFlow %v clientId %v; mockidp has the seed's public jwt_bearer client %s", id, oauth["authFlow"], oauth["clientId"], mockidp.SeedClientID)
				}
				opts["baseURL"] = upstreams[id]
				oauth["issuer"] = issuers[id]
				oauth["allowInsecureHTTP"] = true // mockidp is plain http on the harness bridge
			}
			data, err := json.MarshalIndent(doc, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			o.Data["opencode.json"] = string(data)
		case *appsv1.Deployment:
			name = o.Name
			spec := &o.Spec.Template.Spec
			s.patchPod(spec, []string{"-target", "http://127.0.0.1:8181/chat/completions", "-upstream-addr", "127.0.0.1:8080", "-interval", "250ms", "-summary", "2s"})
			second := *spec.Containers[0].DeepCopy()
			second.Name += "-staging"
			second.Args = []string{"-target", "http://127.0.0.1:8182/chat/completions", "-upstream-addr", "127.0.0.1:8081", "-interval", "250ms", "-summary", "2s"}
			spec.Containers = append(spec.Containers, second)
			for _, v := range spec.Volumes {
				if v.Projected == nil {
					continue
				}
				for _, src := range v.Projected.Sources {
					if sa := src.ServiceAccountToken; sa != nil {
						switch sa.Path {
						case "prod-token":
							sa.Audience = prod
						case "staging-token":
							sa.Audience = staging
						default:
							t.Fatalf("multi-provider overlay: unexpected projected path %q", sa.Path)
						}
					}
				}
			}
		}
	}
	s.apply(t, ctx, objs)
	var d *appsv1.Deployment
	if err := wait.Until(ctx, "deployment "+name+" available", 3*time.Minute, time.Second, func(ctx context.Context) (bool, error) {
		var err error
		d, err = s.c.AppsV1().Deployments(seedNamespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, wait.NotYet("%v", err)
		}
		if d.Status.ReadyReplicas < 1 {
			return false, wait.NotYet("%d ready", d.Status.ReadyReplicas)
		}
		return true, nil
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		zero := int32(0)
		if d, err := s.c.AppsV1().Deployments(seedNamespace).Get(context.WithoutCancel(ctx), name, metav1.GetOptions{}); err == nil {
			d.Spec.Replicas = &zero
			_, _ = s.c.AppsV1().Deployments(seedNamespace).Update(context.WithoutCancel(ctx), d, metav1.UpdateOptions{})
		}
	})
	pods, err := s.c.CoreV1().Pods(seedNamespace).List(ctx, metav1.ListOptions{LabelSelector: metav1.FormatLabelSelector(d.Spec.Selector)})
	if err != nil || len(pods.Items) == 0 {
		t.Fatalf("pods of %s: %v (%d)", name, err, len(pods.Items))
	}
	p := pods.Items[0]
	for i, issuer := range []string{prod, staging} {
		ctr := p.Spec.Containers[i].Name
		if err := wait.Until(ctx, "pod "+p.Name+" "+ctr+" to log a token", time.Minute, time.Second, func(ctx context.Context) (bool, error) {
			logs, err := cluster.PodLogs(ctx, s.c, seedNamespace, p.Name, ctr)
			if err != nil {
				return false, wait.NotYet("%v", err)
			}
			return strings.Contains(logs, `"event":"token"`), nil
		}); err != nil {
			t.Fatal(err)
		}
		s.checkAppIssuer(t, ctx, p.Name, ctr, issuer)
	}
	after, err := s.e.MockIdP.Requests()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, r := range after[len(before):] {
		if r.Endpoint != "token" {
			continue
		}
		seen[r.Issuer]++
		if r.Grant != "jwt_bearer" || r.Client != mockidp.SeedClientID || r.Outcome != "ok" {
			t.Errorf("mockidp %s: %s request by %q answered %s (check %q: %s); want only accepted jwt_bearer requests of %s",
				r.Issuer, r.Grant, r.Client, r.Outcome, r.Check, r.Description, mockidp.SeedClientID)
		}
	}
	if seen[mockidp.Prod] == 0 || seen[mockidp.Staging] == 0 {
		t.Errorf("token requests per issuer: %v, want both", seen)
	}
}
