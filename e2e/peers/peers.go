// Package peers names the pinned versions of the programs the e2e harness
// runs (Kubernetes, etcd, Dex, Keycloak) and where e2e/scripts/install-peers.sh
// put them. The versions come from versions.env, which the script sources too.
package peers

import (
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

//go:embed versions.env
var versionsEnv string

// DefaultCache is the cache root used when FEDTOKEN_E2E_CACHE is unset.
const DefaultCache = "/var/cache/fedtoken-e2e"

// Versions are the pinned peer versions.
type Versions struct {
	Kubernetes string // e.g. v1.34.3
	Etcd       string // e.g. v3.6.16
	Dex        string // e.g. v2.45.1
	Keycloak   string // e.g. 26.7.3
	// Opencode is the npm version of opencode-ai (optional: the opencode
	// suites skip without it), e.g. 1.18.33.
	Opencode   string
	Kind       string // sigs.k8s.io/kind module version
	PauseImage string // image reference the pause tarball is tagged with
}

// Pinned returns the versions from versions.env.
func Pinned() (Versions, error) { return parseVersions(versionsEnv) }

func parseVersions(text string) (Versions, error) {
	vals := map[string]string{}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return Versions{}, fmt.Errorf("peers: versions.env line %d: want KEY=VALUE, got %q", i+1, line)
		}
		vals[k] = v
	}
	v := Versions{
		Kubernetes: vals["KUBERNETES_VERSION"],
		Etcd:       vals["ETCD_VERSION"],
		Dex:        vals["DEX_VERSION"],
		Keycloak:   vals["KEYCLOAK_VERSION"],
		Opencode:   vals["OPENCODE_VERSION"],
		Kind:       vals["KIND_VERSION"],
		PauseImage: vals["PAUSE_IMAGE"],
	}
	for name, val := range map[string]string{
		"KUBERNETES_VERSION": v.Kubernetes, "ETCD_VERSION": v.Etcd, "DEX_VERSION": v.Dex,
		"KEYCLOAK_VERSION": v.Keycloak, "KIND_VERSION": v.Kind, "PAUSE_IMAGE": v.PauseImage,
	} {
		if val == "" {
			return Versions{}, fmt.Errorf("peers: versions.env: %s is missing", name)
		}
	}
	return v, nil
}

// Layout locates the installed peers under one cache root.
type Layout struct {
	Root     string
	Versions Versions
}

// FromEnv returns the layout for $FEDTOKEN_E2E_CACHE (else DefaultCache).
func FromEnv(getenv func(string) string) (Layout, error) {
	v, err := Pinned()
	if err != nil {
		return Layout{}, err
	}
	root := getenv("FEDTOKEN_E2E_CACHE")
	if root == "" {
		root = DefaultCache
	}
	return Layout{Root: root, Versions: v}, nil
}

// KubernetesBin is the path of a Kubernetes binary (kube-apiserver, kubelet…).
func (l Layout) KubernetesBin(name string) string {
	return filepath.Join(l.Root, "kubernetes-"+l.Versions.Kubernetes, "bin", name)
}

// Etcd is the path of the etcd server binary.
func (l Layout) Etcd() string { return filepath.Join(l.Root, "etcd-"+l.Versions.Etcd, "bin", "etcd") }

// Dex is the path of the dex binary.
func (l Layout) Dex() string { return filepath.Join(l.Root, "dex-"+l.Versions.Dex, "bin", "dex") }

// KeycloakHome is the unpacked Keycloak distribution (bin/kc.sh inside).
func (l Layout) KeycloakHome() string { return filepath.Join(l.Root, "keycloak-"+l.Versions.Keycloak) }

// Opencode is opencode's linux binary from the npm package opencode-ai
// (its optional dependency opencode-linux-<arch>), installed by
// install-peers.sh.
func (l Layout) Opencode() string {
	arch := map[string]string{"amd64": "x64", "arm64": "arm64"}[runtime.GOARCH]
	return filepath.Join(l.Root, "opencode-"+l.Versions.Opencode, "node_modules", "opencode-linux-"+arch, "bin", "opencode")
}

// PauseTarball is the image tarball of the sandbox (pause) image.
func (l Layout) PauseTarball() string {
	tag := l.Versions.PauseImage[strings.LastIndex(l.Versions.PauseImage, ":")+1:]
	return filepath.Join(l.Root, "pause-"+tag, "pause.tar")
}

// KindNodeImageFile holds the reference of the kind node image
// e2e/scripts/build-kind-node.sh built and imported into Docker.
func (l Layout) KindNodeImageFile() string {
	return filepath.Join(l.Root, "kind-node-"+l.Versions.Kubernetes, "image")
}

// Missing returns the paths among want that do not exist, for an error that
// says exactly what to install.
func Missing(want ...string) []string {
	var out []string
	for _, p := range want {
		if _, err := os.Stat(p); err != nil {
			out = append(out, p)
		}
	}
	return out
}

// InstallHint is the command that installs every peer.
const InstallHint = "run e2e/scripts/install-peers.sh (as root) or make e2e-peers"
