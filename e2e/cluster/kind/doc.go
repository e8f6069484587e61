// Package kind implements cluster.Cluster with sigs.k8s.io/kind for hosts
// with a working Docker daemon: the service-account issuer and API audiences
// are set through kubeadm patches in the kind config, images are loaded into
// the node with kind's own archive loader.
//
// Everything but this file needs the build tag e2e.
package kind
