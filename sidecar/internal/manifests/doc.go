// Package manifests holds no code: its tests render every Kustomize
// overlay under deploy/ with the kustomize library (no kubectl needed),
// check the result (native sidecar shape, security context, audiences
// matching the configured issuers, no RBAC) and run the sidecar's own
// config loading on the rendered ConfigMaps and environment. They also
// check that every manifest and config shown in docs/ is a verbatim
// excerpt of a file that a test loads.
package manifests
