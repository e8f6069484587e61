// Package webhook serves the mutating admission webhook: it decodes an
// AdmissionReview, asks package inject what to do with the pod, and
// answers with a JSON patch, an unchanged admission, or a refusal (plus an
// Event saying why).
package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fedtoken/fedtoken/injector/inject"
)

// maxBody bounds an AdmissionReview (the API server sends at most ~3 MiB).
const maxBody = 8 << 20

// ConfigMaps reads a ConfigMap's data. ErrNotFound (wrapped) when it does
// not exist.
type ConfigMaps interface {
	Get(ctx context.Context, namespace, name string) (map[string]string, error)
}

// ErrNotFound is returned by ConfigMaps.Get for a missing ConfigMap.
var ErrNotFound = errors.New("not found")

// Events records why an injection was refused.
type Events interface {
	Refused(ctx context.Context, pod *corev1.Pod, message string)
}

// Handler is the webhook's http.Handler (POST /mutate).
type Handler struct {
	Defaults   func() inject.Defaults
	ConfigMaps ConfigMaps
	Events     Events
	Log        *slog.Logger
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST an admission.k8s.io/v1 AdmissionReview", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		http.Error(w, "request body unreadable or larger than 8 MiB", http.StatusRequestEntityTooLarge)
		return
	}
	var review admissionv1.AdmissionReview
	if err := json.Unmarshal(body, &review); err != nil || review.Request == nil {
		http.Error(w, "not an admission.k8s.io/v1 AdmissionReview with a request", http.StatusBadRequest)
		return
	}
	resp := h.Review(r.Context(), review.Request)
	resp.UID = review.Request.UID
	out := admissionv1.AdmissionReview{TypeMeta: review.TypeMeta, Response: resp}
	if out.APIVersion == "" {
		out.APIVersion, out.Kind = "admission.k8s.io/v1", "AdmissionReview"
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

// Review decides on one admission request.
func (h *Handler) Review(ctx context.Context, req *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse {
	allow := &admissionv1.AdmissionResponse{Allowed: true}
	if req.Kind.Kind != "Pod" || req.Operation != admissionv1.Create {
		return allow
	}
	var pod corev1.Pod
	if err := json.Unmarshal(req.Object.Raw, &pod); err != nil {
		return deny(http.StatusBadRequest, "fedtoken-injector: the request's object is not a Pod: "+err.Error())
	}
	if pod.Namespace == "" {
		pod.Namespace = req.Namespace
	}
	log := h.Log.With(slog.String("namespace", pod.Namespace), slog.String("pod", podName(&pod)))
	if !inject.Wanted(&pod) {
		return allow
	}
	if inject.AlreadyInjected(&pod) {
		log.Info("pod already carries the sidecar; admitted unchanged")
		return allow
	}
	d := h.Defaults()
	patch, err := h.plan(ctx, d, &pod)
	if err != nil {
		var refused *inject.RefusedError
		if !errors.As(err, &refused) {
			log.Error("injection failed", slog.String("error", err.Error()))
			return deny(http.StatusInternalServerError, "fedtoken-injector: "+err.Error())
		}
		log.Warn("injection refused", slog.String("error", err.Error()))
		if req.DryRun == nil || !*req.DryRun {
			h.Events.Refused(ctx, &pod, err.Error())
		}
		return deny(http.StatusForbidden, err.Error())
	}
	b, err := json.Marshal(patch)
	if err != nil {
		return deny(http.StatusInternalServerError, "fedtoken-injector: "+err.Error())
	}
	log.Info("sidecar injected", slog.String("providers", pod.Annotations[inject.AnnotationInject]))
	pt := admissionv1.PatchTypeJSONPatch
	return &admissionv1.AdmissionResponse{Allowed: true, Patch: b, PatchType: &pt}
}

func (h *Handler) plan(ctx context.Context, d inject.Defaults, pod *corev1.Pod) (inject.Patch, error) {
	ref, err := d.Ref(pod)
	if err != nil {
		return nil, err
	}
	data, err := h.ConfigMaps.Get(ctx, pod.Namespace, ref.Name)
	if errors.Is(err, ErrNotFound) {
		return nil, &inject.RefusedError{Reasons: []string{fmt.Sprintf("annotation %s: ConfigMap %s/%s does not exist: create it before the pod",
			inject.AnnotationConfig, pod.Namespace, ref.Name)}}
	}
	if err != nil {
		return nil, fmt.Errorf("read ConfigMap %s/%s: %w", pod.Namespace, ref.Name, err)
	}
	return d.Plan(pod, ref, data)
}

func deny(code int32, msg string) *admissionv1.AdmissionResponse {
	return &admissionv1.AdmissionResponse{Allowed: false, Result: &metav1.Status{Status: metav1.StatusFailure, Code: code, Message: msg}}
}

func podName(p *corev1.Pod) string {
	if p.Name != "" {
		return p.Name
	}
	return p.GenerateName + "<generated>"
}
