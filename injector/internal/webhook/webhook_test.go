package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/fedtoken/fedtoken/injector/inject"
	"github.com/fedtoken/fedtoken/injector/internal/webhook"
)

const seed = `{"provider":{"miaou":{"options":{"baseURL":"https://api.example.com/v1","oauth2":{
  "issuer":"https://auth.example.com/realms/prod","clientId":"k8s-runner","authFlow":"jwt_bearer",
  "subjectTokenSource":{"type":"kubernetes_sa"}}}}}}`

func setup(t *testing.T) (*httptest.Server, *fake.Clientset) {
	t.Helper()
	client := fake.NewClientset(&corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "fedtoken-config", Namespace: "ai-jobs"},
		Data:       map[string]string{"opencode.json": seed},
	})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := &webhook.Handler{
		Defaults: func() inject.Defaults {
			return inject.Defaults{Image: "fedtoken/fedtoken-sidecar:dev", ConfigMaps: []string{"fedtoken-config"}, NativeSidecars: true, Resources: inject.DefaultResources()}
		},
		ConfigMaps: webhook.KubeConfigMaps{Client: client},
		Events:     webhook.KubeEvents{Client: client, Log: log, Now: time.Now},
		Log:        log,
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, client
}

// review posts the pod's raw JSON as the API server does and returns the
// response.
func review(t *testing.T, url string, raw []byte) *admissionv1.AdmissionResponse {
	t.Helper()
	in := admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{
			UID: types.UID("req-1"), Kind: metav1.GroupVersionKind{Version: "v1", Kind: "Pod"},
			Namespace: "ai-jobs", Operation: admissionv1.Create, Object: runtime.RawExtension{Raw: raw},
		},
	}
	b, _ := json.Marshal(in)
	resp, err := http.Post(url+"/mutate", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out admissionv1.AdmissionReview
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	if out.Response == nil || out.Response.UID != "req-1" || out.APIVersion != "admission.k8s.io/v1" {
		t.Fatalf("response does not answer the request: %+v", out)
	}
	return out.Response
}

// An unannotated pod gets no patch at all (so it is byte-identical after
// admission), even with fields this version of the API does not know.
func TestUnannotatedUntouched(t *testing.T) {
	srv, client := setup(t)
	raw := []byte(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"plain","annotations":{"other.io/x":"1"}},"spec":{"futureField":true,"containers":[{"name":"app","image":"app"}]}}`)
	r := review(t, srv.URL, raw)
	if !r.Allowed || r.Patch != nil || r.PatchType != nil {
		t.Fatalf("unannotated pod: allowed %v patch %q; want allowed with no patch", r.Allowed, r.Patch)
	}
	if evs, _ := client.CoreV1().Events("ai-jobs").List(context.Background(), metav1.ListOptions{}); len(evs.Items) != 0 {
		t.Errorf("events recorded for an unannotated pod: %v", evs.Items)
	}
}

// An annotated pod gets a patch that applies to its raw JSON, keeps the
// fields this version of the API does not know, and a second admission of
// the result changes nothing.
func TestAnnotatedInjectedOnce(t *testing.T) {
	srv, _ := setup(t)
	raw := []byte(`{"apiVersion":"v1","kind":"Pod","metadata":{"generateName":"job-","annotations":{"fedtoken.dev/inject":"miaou"}},"spec":{"futureField":true,"containers":[{"name":"app","image":"app","futureToo":1}]}}`)
	r := review(t, srv.URL, raw)
	if !r.Allowed || r.PatchType == nil || *r.PatchType != admissionv1.PatchTypeJSONPatch {
		t.Fatalf("annotated pod: allowed %v patchType %v: %+v", r.Allowed, r.PatchType, r.Result)
	}
	p, err := jsonpatch.DecodePatch(r.Patch)
	if err != nil {
		t.Fatal(err)
	}
	out, err := p.Apply(raw)
	if err != nil {
		t.Fatalf("patch does not apply: %v", err)
	}
	for _, keep := range []string{`"futureField":true`, `"futureToo":1`} {
		if !strings.Contains(string(out), keep) {
			t.Errorf("the patch lost %s: %s", keep, out)
		}
	}
	var pod corev1.Pod
	if err := json.Unmarshal(out, &pod); err != nil {
		t.Fatal(err)
	}
	if len(pod.Spec.InitContainers) != 1 || pod.Spec.InitContainers[0].Name != inject.SidecarName {
		t.Fatalf("no native sidecar: %s", out)
	}
	if v := pod.Spec.Containers[0].Env; len(v) != 1 || v[0].Name != "FEDTOKEN_BASE_URL_MIAOU" || v[0].Value != "http://127.0.0.1:8181" {
		t.Errorf("app env = %v", v)
	}
	again := review(t, srv.URL, out)
	if !again.Allowed || again.Patch != nil {
		t.Errorf("re-admission of the injected pod: allowed %v patch %s; want no change", again.Allowed, again.Patch)
	}
}

// A refused injection is denied with the reason and leaves a Warning Event
// on the pod, or on its controller while the pod has no name yet.
func TestRefusedEvent(t *testing.T) {
	srv, client := setup(t)
	ctrl := true
	for _, tc := range []struct {
		name string
		meta metav1.ObjectMeta
		kind string
		obj  string
	}{
		{"named pod", metav1.ObjectMeta{Name: "p1"}, "Pod", "p1"},
		{"pod of a Job", metav1.ObjectMeta{GenerateName: "job-", OwnerReferences: []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "Job", Name: "nightly", UID: "u1", Controller: &ctrl}}}, "Job", "nightly"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pod := corev1.Pod{ObjectMeta: tc.meta, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "app"}}}}
			pod.Annotations = map[string]string{inject.AnnotationInject: "miaou,ghost"}
			raw, _ := json.Marshal(pod)
			r := review(t, srv.URL, raw)
			if r.Allowed || r.Result == nil || !strings.Contains(r.Result.Message, `no provider "ghost"; available: miaou`) {
				t.Fatalf("want a refusal naming the provider, got allowed %v %+v", r.Allowed, r.Result)
			}
			evs, err := client.CoreV1().Events("ai-jobs").List(context.Background(), metav1.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, e := range evs.Items {
				if e.InvolvedObject.Kind == tc.kind && e.InvolvedObject.Name == tc.obj {
					found = true
					if e.Type != corev1.EventTypeWarning || e.Reason != webhook.ReasonRefused || !strings.Contains(e.Message, `"ghost"`) {
						t.Errorf("event %+v", e)
					}
				}
			}
			if !found {
				t.Errorf("no Event on %s %s among %d", tc.kind, tc.obj, len(evs.Items))
			}
		})
	}
}

func TestMissingConfigMap(t *testing.T) {
	srv, _ := setup(t)
	raw := []byte(`{"metadata":{"name":"p","namespace":"elsewhere","annotations":{"fedtoken.dev/inject":"miaou"}},"spec":{"containers":[{"name":"app","image":"app"}]}}`)
	r := review(t, srv.URL, raw)
	if r.Allowed || !strings.Contains(r.Result.Message, "ConfigMap elsewhere/fedtoken-config does not exist") {
		t.Fatalf("got allowed %v %+v", r.Allowed, r.Result)
	}
}

func TestNotAReview(t *testing.T) {
	srv, _ := setup(t)
	resp, err := http.Post(srv.URL+"/mutate", "application/json", strings.NewReader(`{"hello":1}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("status %d", resp.StatusCode)
	}
}
