// Package dist builds the project's distribution — binaries for every
// platform, their SBOMs, checksums and multi-arch images — and checks one
// (docs/releasing.md). `make build`, `make images` and `make
// release-snapshot` all go through it, so a local binary, an e2e image and
// a release artefact are built the same way.
package dist

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// Command is one binary of the project.
type Command struct {
	Name       string   // binary name, e.g. fedtoken
	Module     string   // module directory, e.g. cli
	Package    string   // package in the module, e.g. ./cmd/fedtoken
	VersionVar string   // -X target of the version string ("" = none)
	CommitVar  string   // -X target of the commit ("" = none)
	VersionArg []string // arguments that print "<name> <version>…"
	ImageEnv   []string // environment of its image
	Released   bool     // released (binaries for every platform, a published image)
	LinuxOnly  bool     // released for Linux only (it runs in a cluster)
}

// Platforms are the platforms among all that c is built for.
func (c Command) Platforms(all []Platform) []Platform {
	if !c.LinuxOnly {
		return all
	}
	var out []Platform
	for _, p := range all {
		if p.OS == "linux" {
			out = append(out, p)
		}
	}
	return out
}

// Commands are the project's binaries.
var Commands = []Command{
	{
		Name: "fedtoken", Module: "cli", Package: "./cmd/fedtoken",
		VersionVar: "github.com/fedtoken/fedtoken/cli/internal/cmd/fedtoken/version.version",
		CommitVar:  "github.com/fedtoken/fedtoken/cli/internal/cmd/fedtoken/version.commit",
		VersionArg: []string{"version"},
		// The token cache needs a writable directory; /tmp is one (an emptyDir in deploy/).
		ImageEnv: []string{"FEDTOKEN_CACHE_DIR=/tmp/fedtoken"},
		Released: true,
	},
	{
		Name: "fedtoken-sidecar", Module: "sidecar", Package: "./cmd/fedtoken-sidecar",
		VersionVar: "github.com/fedtoken/fedtoken/sidecar/internal/app.buildVersion",
		VersionArg: []string{"--version"},
		Released:   true,
	},
	// The admission webhook: it runs in a cluster, so Linux only.
	{
		Name: "fedtoken-injector", Module: "injector", Package: "./cmd/fedtoken-injector",
		VersionVar: "github.com/fedtoken/fedtoken/injector/internal/app.buildVersion",
		VersionArg: []string{"--version"},
		Released:   true, LinuxOnly: true,
	},
	// The test IdP: built for `make demo` and the e2e image, not released.
	{Name: "fedtoken-mockidp", Module: "mockidp", Package: "./cmd/fedtoken-mockidp"},
}

// Platform is GOOS/GOARCH.
type Platform struct{ OS, Arch string }

func (p Platform) String() string { return p.OS + "/" + p.Arch }

// Host is the platform of this machine.
var Host = Platform{runtime.GOOS, runtime.GOARCH}

// ReleasePlatforms get released binaries; ImagePlatforms get images.
var (
	ReleasePlatforms = []Platform{
		{"linux", "amd64"}, {"linux", "arm64"},
		{"darwin", "amd64"}, {"darwin", "arm64"},
		{"windows", "amd64"}, {"windows", "arm64"},
	}
	ImagePlatforms = []Platform{{"linux", "amd64"}, {"linux", "arm64"}}
)

// ImageUser is the numeric non-root user of every image ("nonroot" in
// distroless images; deploy/ runs as it).
const ImageUser = "65532:65532"

// Source is the repository, for labels and SBOMs.
const Source = "https://github.com/fedtoken/fedtoken"

// License is the project's licence (SPDX identifier).
const License = "Apache-2.0"

// Stamp is what a build records about itself.
type Stamp struct {
	Version string // e.g. v1.2.3
	Commit  string // full revision, "" if unknown
}

// BinaryName is the file name of c for p in dist/: fedtoken-linux-amd64,
// fedtoken-windows-arm64.exe.
func BinaryName(c Command, p Platform) string {
	n := c.Name + "-" + p.OS + "-" + p.Arch
	if p.OS == "windows" {
		n += ".exe"
	}
	return n
}

// Build compiles c for p into out: static (CGO_ENABLED=0), stripped (-s -w),
// -trimpath, no VCS stamping (the commit is passed explicitly), so the same
// source and toolchain give the same bytes. root is the repository (its
// go.work is used).
func Build(ctx context.Context, root string, c Command, p Platform, st Stamp, out string) error {
	ldflags := []string{"-s", "-w"}
	if c.VersionVar != "" && st.Version != "" {
		ldflags = append(ldflags, "-X", c.VersionVar+"="+st.Version)
	}
	if c.CommitVar != "" && st.Commit != "" {
		ldflags = append(ldflags, "-X", c.CommitVar+"="+st.Commit)
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return fmt.Errorf("dist: %w", err)
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=false",
		"-ldflags", strings.Join(ldflags, " "), "-o", out, c.Package)
	cmd.Dir = filepath.Join(root, c.Module)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+p.OS, "GOARCH="+p.Arch)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("dist: go build %s for %s: %w\n%s", c.Name, p, err, b)
	}
	return nil
}
