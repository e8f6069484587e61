package webhook

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// KubeConfigMaps reads ConfigMaps through the API (the chart grants "get"
// on the allowed names only).
type KubeConfigMaps struct{ Client kubernetes.Interface }

// Get returns the ConfigMap's data.
func (k KubeConfigMaps) Get(ctx context.Context, namespace, name string) (map[string]string, error) {
	cm, err := k.Client.CoreV1().ConfigMaps(namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("ConfigMap %s/%s: %w", namespace, name, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	return cm.Data, nil
}

// KubeEvents records a Warning Event, reason InjectionRefused. Its object
// is the pod; a pod that has no name yet (generateName: the pods of Jobs,
// ReplicaSets) is represented by its controller, where `kubectl describe`
// of the Job or ReplicaSet shows it next to the FailedCreate event.
type KubeEvents struct {
	Client kubernetes.Interface
	Log    *slog.Logger
	Now    func() time.Time
}

// ReasonRefused is the reason of the Event.
const ReasonRefused = "InjectionRefused"

// Refused creates the Event; a failure is logged, never returned (the
// admission answer carries the message anyway).
func (k KubeEvents) Refused(ctx context.Context, pod *corev1.Pod, message string) {
	obj := corev1.ObjectReference{Kind: "Pod", APIVersion: "v1", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID}
	if pod.Name == "" {
		owner := metav1.GetControllerOfNoCopy(pod)
		if owner == nil {
			k.Log.Info("no Event for a pod without name or controller; the refusal went back to its creator", slog.String("namespace", pod.Namespace))
			return
		}
		obj = corev1.ObjectReference{Kind: owner.Kind, APIVersion: owner.APIVersion, Namespace: pod.Namespace, Name: owner.Name, UID: owner.UID}
	}
	now := metav1.NewTime(k.Now())
	ev := &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: fmt.Sprintf("%s.%x", obj.Name, now.UnixNano()), Namespace: pod.Namespace},
		InvolvedObject: obj,
		Reason:         ReasonRefused,
		Message:        truncate(message, 1024),
		Type:           corev1.EventTypeWarning,
		Source:         corev1.EventSource{Component: "fedtoken-injector"},
		FirstTimestamp: now, LastTimestamp: now, Count: 1,
	}
	if _, err := k.Client.CoreV1().Events(pod.Namespace).Create(ctx, ev, metav1.CreateOptions{}); err != nil {
		k.Log.Warn("could not record the refusal Event", slog.String("namespace", pod.Namespace), slog.String("error", err.Error()))
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}
