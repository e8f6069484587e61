//go:build e2e

package cluster

import (
	"errors"
	"fmt"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
)

// PodVolumeSubdir is where the kubelet keeps a pod's volume, relative to
// its root directory (/var/lib/kubelet): pods/<uid>/volumes/<plugin>/<name>.
func PodVolumeSubdir(pod *corev1.Pod, volume string) (string, error) {
	if pod.UID == "" {
		return "", errors.New("pod has no UID (pass the object returned by the API)")
	}
	kind := ""
	for _, v := range pod.Spec.Volumes {
		if v.Name != volume {
			continue
		}
		switch {
		case v.Projected != nil:
			kind = "kubernetes.io~projected"
		case v.ConfigMap != nil:
			kind = "kubernetes.io~configmap"
		case v.Secret != nil:
			kind = "kubernetes.io~secret"
		case v.EmptyDir != nil:
			kind = "kubernetes.io~empty-dir"
		default:
			return "", fmt.Errorf("volume %q of pod %s: unsupported volume type", volume, pod.Name)
		}
	}
	if kind == "" {
		return "", fmt.Errorf("pod %s has no volume %q", pod.Name, volume)
	}
	return filepath.Join("pods", string(pod.UID), "volumes", kind, volume), nil
}
