// Package local runs a single-node Kubernetes cluster as host processes:
// etcd, kube-apiserver (a public OIDC issuer on https://127.0.0.1),
// kube-controller-manager, kube-scheduler, a private containerd instance and
// a kubelet whose node address lives on a bridge the harness creates. All of
// it, the IdPs and the tests' connections run in a network namespace the run
// creates (Isolate), so the host's own network namespace gets no interface,
// route or listener. It needs root on Linux and the peers installed by
// e2e/scripts/install-peers.sh.
//
// Everything but this file needs the build tag e2e.
package local
