// Package soak holds the sidecar's soak test (build tag soak, `make soak`):
// the real fedtoken-sidecar and fedtoken-mockidp binaries, steady proxy
// traffic, projected-token rotations written by mockidp's kubelet atomic
// writer and IdP faults injected in between. See docs/security.md.
package soak
