// Package overlays holds no code: its tests render every Kustomize overlay
// under deploy/ with the kustomize library (no kubectl needed) and check
// the result (native sidecar shape, security context, audiences matching
// the configured issuers, no RBAC), as package chart does for the Helm
// chart; the e2e suites apply the same overlays to a real cluster. The
// sidecar's start-up inputs of each overlay (its environment and config
// file) are kept in sidecar/internal/app/testdata/overlays, where the
// sidecar's own tests start it from them. They also check that every
// manifest and config shown in docs/ is a verbatim excerpt of a file that
// a test loads.
package overlays
