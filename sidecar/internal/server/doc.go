// Package server is fedtoken-sidecar's long-running process: per provider
// a proactive refresher, an auth-injecting proxy listener and a file sink,
// plus an admin listener (token endpoint, health, readiness, metrics, quit)
// and an optional health listener for kubelet probes. Server.Run owns all
// of them and drains in-flight requests, streams included, on shutdown.
//
// The decomposition follows Vault Agent's (auth → refresh loop → sinks →
// API proxy); the refresh loop and token cache live in core.
package server
