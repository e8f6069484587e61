// Package local runs a single-node Kubernetes cluster as host processes:
// etcd, kube-apiserver (a public OIDC issuer on https://127.0.0.1),
// kube-controller-manager, kube-scheduler, a private containerd instance and
// a kubelet whose node address lives on a bridge the harness creates. It
// needs root on Linux and the peers installed by e2e/scripts/install-peers.sh.
//
// Everything but this file needs the build tag e2e.
package local
