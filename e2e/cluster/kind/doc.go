// Package kind implements cluster.Cluster with sigs.k8s.io/kind for hosts
// with a working Docker daemon: the service-account issuer and API audiences
// are set through kubeadm patches in the kind config, images are loaded into
// the nodes with kind's own archive loader. The cluster has two nodes: the
// control plane, where the suites' pods run and whose kubelet RestartKubelet
// restarts, and a tainted quiet worker for one long-running pod (QuietNode).
//
// Everything but this file needs the build tag e2e.
package kind
