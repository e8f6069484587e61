// Package harness wires one e2e environment from the process environment:
// a cluster backend (E2E_CLUSTER=local|kind), Keycloak and Dex configured to
// trust the cluster's service-account issuer, the workload's namespace and
// service account, fedtoken's images loaded into the node, and an artifacts
// directory that receives every component's logs when a suite fails.
//
// Environment:
//
//	E2E_CLUSTER          local (default; root on Linux) or kind (Docker hosts)
//	E2E_ARTIFACTS        where logs go on failure (default <repo>/_artifacts/e2e)
//	E2E_IDPS             comma list of IdPs to start (default keycloak,dex,mockidp)
//	E2E_KEEP_WORKDIR     non-empty: keep the local cluster's work dir
//	FEDTOKEN_E2E_CACHE   where install-peers.sh put the peers (default /var/cache/fedtoken-e2e)
//	E2E_IMAGES           directory of image tarballs to load (default <repo>/bin/images)
//	E2E_POD_SUBNET       the local backend's bridge subnet (default 10.213.0.0/24)
//	E2E_NETNS            set by Isolate: the local run's network namespace
//
// For the local backend, TestMain calls Isolate first: the suites then run
// in a network namespace of their own (see cluster/local.Isolate).
//
// Everything but this file needs the build tag e2e.
package harness
