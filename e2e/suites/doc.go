// Package suites holds the end-to-end suites (build tag e2e): a real
// cluster whose service-account tokens are exchanged at real Keycloak and
// Dex, first over raw HTTP (proving the harness) and then through core's
// grant package. Run them with `make e2e` (see docs/e2e.md).
package suites
