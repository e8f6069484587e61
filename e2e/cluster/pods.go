//go:build e2e

package cluster

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/fedtoken/fedtoken/e2e/internal/wait"
)

// ProjectedTokenVolume is a pod volume with one serviceAccountToken
// projection at <mount>/<path>, as the seed's workloads declare it.
func ProjectedTokenVolume(name, audience, path string, seconds int64) corev1.Volume {
	return corev1.Volume{
		Name: name,
		VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
			Sources: []corev1.VolumeProjection{{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{
				Audience: audience, ExpirationSeconds: &seconds, Path: path,
			}}},
		}},
	}
}

// WaitPodRunning waits until the pod is Running with all containers ready,
// failing early when it can never get there (Failed, image not present…).
func WaitPodRunning(ctx context.Context, c kubernetes.Interface, namespace, name string, timeout time.Duration) (*corev1.Pod, error) {
	var pod *corev1.Pod
	err := wait.Until(ctx, fmt.Sprintf("pod %s/%s Running and ready", namespace, name), timeout, 500*time.Millisecond, func(ctx context.Context) (bool, error) {
		p, err := c.CoreV1().Pods(namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, wait.NotYet("get: %v", err)
		}
		pod = p
		if p.Status.Phase == corev1.PodFailed || p.Status.Phase == corev1.PodSucceeded {
			return false, fmt.Errorf("pod ended in phase %s: %s", p.Status.Phase, podSummary(p))
		}
		for _, cs := range p.Status.ContainerStatuses {
			if w := cs.State.Waiting; w != nil && (w.Reason == "ErrImageNeverPull" || w.Reason == "InvalidImageName" || w.Reason == "CreateContainerConfigError") {
				return false, fmt.Errorf("container %s: %s: %s", cs.Name, w.Reason, w.Message)
			}
		}
		if p.Status.Phase != corev1.PodRunning {
			return false, wait.NotYet("phase %s: %s", p.Status.Phase, podSummary(p))
		}
		for _, cs := range p.Status.ContainerStatuses {
			if !cs.Ready {
				return false, wait.NotYet("container %s not ready", cs.Name)
			}
		}
		return true, nil
	})
	return pod, err
}

// DeletePodAndWait deletes a pod with a one-second grace period and waits
// until it is gone, that is until the kubelet has stopped its containers.
func DeletePodAndWait(ctx context.Context, c kubernetes.Interface, namespace, name string, timeout time.Duration) error {
	// A graceful delete, however short: the pod object goes only once the
	// kubelet has stopped its containers. With grace 0 the object went at
	// once and a sidecar kept calling its IdP for a second or more, into
	// the next test's observations.
	grace := int64(1)
	err := c.CoreV1().Pods(namespace).Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: &grace})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("delete pod %s/%s: %w", namespace, name, err)
	}
	return wait.Until(ctx, fmt.Sprintf("pod %s/%s deleted", namespace, name), timeout, 500*time.Millisecond, func(ctx context.Context) (bool, error) {
		_, err := c.CoreV1().Pods(namespace).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, nil
	})
}

func podSummary(p *corev1.Pod) string {
	var parts []string
	for _, c := range p.Status.Conditions {
		if c.Status != corev1.ConditionTrue && c.Message != "" {
			parts = append(parts, fmt.Sprintf("%s=%s (%s)", c.Type, c.Status, c.Message))
		}
	}
	for _, cs := range p.Status.ContainerStatuses {
		if w := cs.State.Waiting; w != nil {
			parts = append(parts, fmt.Sprintf("%s waiting: %s %s", cs.Name, w.Reason, w.Message))
		}
		if t := cs.State.Terminated; t != nil {
			parts = append(parts, fmt.Sprintf("%s terminated: %s exit %d", cs.Name, t.Reason, t.ExitCode))
		}
	}
	if len(parts) == 0 {
		return "no details yet"
	}
	return strings.Join(parts, "; ")
}

// WaitPodDone waits until the pod has Succeeded or Failed and returns it.
func WaitPodDone(ctx context.Context, c kubernetes.Interface, namespace, name string, timeout time.Duration) (*corev1.Pod, error) {
	var pod *corev1.Pod
	err := wait.Until(ctx, fmt.Sprintf("pod %s/%s to finish", namespace, name), timeout, 500*time.Millisecond, func(ctx context.Context) (bool, error) {
		p, err := c.CoreV1().Pods(namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, wait.NotYet("get: %v", err)
		}
		pod = p
		for _, cs := range p.Status.ContainerStatuses {
			if w := cs.State.Waiting; w != nil && (w.Reason == "ErrImageNeverPull" || w.Reason == "InvalidImageName" || w.Reason == "CreateContainerConfigError") {
				return false, fmt.Errorf("container %s: %s: %s", cs.Name, w.Reason, w.Message)
			}
		}
		if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			return true, nil
		}
		return false, wait.NotYet("phase %s: %s", p.Status.Phase, podSummary(p))
	})
	return pod, err
}

// ExitCode is the exit code of a terminated container (-1 if it has none).
func ExitCode(pod *corev1.Pod, container string) int {
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.Name == container && cs.State.Terminated != nil {
			return int(cs.State.Terminated.ExitCode)
		}
	}
	return -1
}

// PodLogs returns a container's log through the API server (which asks the
// kubelet on the node address).
func PodLogs(ctx context.Context, c kubernetes.Interface, namespace, name, container string) (string, error) {
	data, err := c.CoreV1().Pods(namespace).GetLogs(name, &corev1.PodLogOptions{Container: container}).DoRaw(ctx)
	if err != nil {
		return "", fmt.Errorf("logs of %s/%s[%s]: %w", namespace, name, container, err)
	}
	return string(data), nil
}
