//go:build e2e

package cluster

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Cluster is a running Kubernetes cluster whose API server is a public OIDC
// issuer: its service-account tokens verify against discovery and JWKS that
// anyone may read.
type Cluster interface {
	// Backend names the implementation ("local", "kind").
	Backend() string
	// Start brings the cluster up; it returns once a node is Ready and
	// issuer discovery answers anonymously.
	Start(ctx context.Context) error
	// Stop tears everything down; it is safe to call after a failed Start.
	Stop(ctx context.Context) error

	// Client is a clientset with cluster-admin rights.
	Client() kubernetes.Interface
	// RESTConfig is the admin configuration Client was built from.
	RESTConfig() *rest.Config
	// Issuer is the service-account token issuer, an https URL.
	Issuer() string
	// CAFile is a PEM file that trusts Issuer's (and the API's) TLS certificate.
	CAFile() string
	// HostAddress is an address of this machine that both the harness and
	// pods reach: IdPs that pods call listen on it. It belongs to a network
	// the harness created (never the machine's own uplink): the local
	// backend's bridge in the run's network namespace, or kind's docker
	// network.
	HostAddress() string

	// LoadImage imports an image tarball (docker or OCI archive) into the
	// node's container runtime; pods use it with imagePullPolicy: Never.
	LoadImage(ctx context.Context, tarball string) error
	// PodVolumeDir is the node's directory backing a pod's volume (where the
	// kubelet's atomic writer keeps ..data), readable from the harness.
	PodVolumeDir(pod *corev1.Pod, volume string) (string, error)
	// CollectLogs copies every component's and every pod's logs into dir.
	CollectLogs(ctx context.Context, dir string) error
}

// UnavailableError says a backend cannot run on this machine; suites skip
// with Reason instead of failing.
type UnavailableError struct {
	Backend string
	Reason  string
}

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("cluster backend %q unavailable: %s", e.Backend, e.Reason)
}

// IsUnavailable reports whether err says the backend cannot run here, and why.
func IsUnavailable(err error) (string, bool) {
	var u *UnavailableError
	if errors.As(err, &u) {
		return u.Error(), true
	}
	return "", false
}
