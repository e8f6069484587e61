// Module crictl is a build wrapper: e2e/scripts/install-peers.sh builds
// crictl (cri-tools) for the kind node image from this module. It is not
// part of go.work.
module fedtoken.e2e/peers/crictl

go 1.26.0

require sigs.k8s.io/cri-tools v1.34.0
