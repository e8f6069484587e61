// Package cluster is the e2e suites' view of a Kubernetes cluster: the
// Cluster interface, implemented by cluster/local (host processes, needs root
// on Linux) and cluster/kind (Docker hosts), and helpers every suite uses
// (TokenRequest, pods with projected tokens, anonymous issuer discovery).
//
// Everything but this file needs the build tag e2e.
package cluster
