//go:build e2e

package harness

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fedtoken/fedtoken/e2e/cluster"
	"github.com/fedtoken/fedtoken/e2e/cluster/kind"
	"github.com/fedtoken/fedtoken/e2e/cluster/local"
	"github.com/fedtoken/fedtoken/e2e/idp/dex"
	"github.com/fedtoken/fedtoken/e2e/idp/keycloak"
	"github.com/fedtoken/fedtoken/e2e/idp/mockidp"
	"github.com/fedtoken/fedtoken/e2e/internal/ctr"
	"github.com/fedtoken/fedtoken/e2e/internal/issued"
	"github.com/fedtoken/fedtoken/e2e/internal/proc"
	"github.com/fedtoken/fedtoken/e2e/peers"
	"github.com/fedtoken/fedtoken/release/ociimage"
)

// The workload every suite impersonates.
const (
	Namespace      = "e2e"
	ServiceAccount = "workload"
)

// Env is one running e2e environment.
type Env struct {
	Cluster  cluster.Cluster
	Keycloak *keycloak.Server // nil unless E2E_IDPS includes keycloak
	Dex      *dex.Server      // nil unless E2E_IDPS includes dex
	// MockIdP is fedtoken-mockidp (issuers prod and staging); nil unless
	// E2E_IDPS includes mockidp and bin/fedtoken-mockidp was built.
	MockIdP *mockidp.Server
	// MockIdPMissing says why MockIdP is nil when it was wanted.
	MockIdPMissing string
	Peers          peers.Layout

	// Secrets of the confidential clients the IdPs were configured with.
	KeycloakJWTGrantSecret string
	DexClientSecret        string

	// KeycloakPlannedURL is the URL Keycloak is started on, known before
	// it runs (Setup's beforeIdPs hook may use it); Keycloak.URL() is the
	// same unless another process took its port first (then it differs).
	KeycloakPlannedURL string

	// Images maps an image name (fedtoken, fedtoken-sidecar,
	// fedtoken-injector, fedtoken-mockidp) to the reference loaded into the
	// node.
	Images map[string]string

	RepoRoot     string
	Artifacts    string
	keycloakPort int // KeycloakPlannedURL's
	workDir      string
	logf         func(string, ...any)
	lock         *runLock
}

// Isolate gives the local backend a network namespace of its own
// (local.Isolate): for E2E_CLUSTER=local (the default) it runs this test
// binary again inside a new namespace and returns that run's exit code with
// ran set. For kind, and in the run inside the namespace, ran is false and
// the caller goes on to Setup. Call it first in TestMain.
func Isolate(logf func(string, ...any)) (code int, ran bool, err error) {
	if b := os.Getenv("E2E_CLUSTER"); b != "" && b != "local" {
		return 0, false, nil
	}
	return local.Isolate(local.Options{PodSubnet: os.Getenv("E2E_POD_SUBNET"), Logf: logf})
}

// Setup starts the environment. A cluster.UnavailableError means this
// machine cannot run the selected backend: suites skip with its reason.
// On any other error Setup has already collected logs and stopped what it
// started. beforeIdPs, if not nil, runs as soon as the cluster is up and
// the images in hookImages are loaded (into every node), while Keycloak
// starts (its URL is KeycloakPlannedURL) and before the other images, Dex
// and mockidp: a pod that needs a long time on the cluster's clock can
// start there.
func Setup(ctx context.Context, logf func(string, ...any), beforeIdPs func(context.Context, *Env)) (_ *Env, err error) {
	pl, err := peers.FromEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	backend := os.Getenv("E2E_CLUSTER")
	if backend == "" {
		backend = "local"
	}
	if backend != "local" && backend != "kind" {
		return nil, fmt.Errorf("harness: E2E_CLUSTER=%q: want local or kind", backend)
	}
	lock, err := lockRun(ctx, backend, logf)
	if err != nil {
		return nil, err
	}
	if pids := proc.ReapOrphans(proc.OwnerEnv); len(pids) > 0 {
		logf("harness: killed %d processes left by an earlier run that died (pids %v)", len(pids), pids)
	}
	root := repoRoot()
	e := &Env{Peers: pl, RepoRoot: root, logf: logf, Images: map[string]string{}, lock: lock}
	e.Artifacts = os.Getenv("E2E_ARTIFACTS")
	if e.Artifacts == "" {
		e.Artifacts = filepath.Join(root, "_artifacts", "e2e")
	}
	switch backend {
	case "local":
		lc, err := local.New(local.Options{Peers: pl, PodSubnet: os.Getenv("E2E_POD_SUBNET"), Logf: logf})
		if err != nil {
			lock.release()
			return nil, err
		}
		e.Cluster = lc
	case "kind":
		e.Cluster = kind.New(kind.Options{Peers: pl, Logf: logf})
	}
	if e.workDir, err = os.MkdirTemp("", "fedtoken-e2e-idp-"); err != nil {
		return nil, err
	}
	// Marks the dir as this run's: a later run removes it if we die (see local).
	if err := os.WriteFile(filepath.Join(e.workDir, "owner.pid"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return nil, err
	}
	defer func() {
		if err == nil {
			return
		}
		if _, ok := cluster.IsUnavailable(err); ok {
			_ = os.RemoveAll(e.workDir)
			e.lock.release()
			return
		}
		e.Teardown(context.WithoutCancel(ctx), true)
	}()
	start := time.Now()
	if err := e.Cluster.Start(ctx); err != nil {
		return e, err
	}
	logf("harness: %s cluster up in %s", e.Cluster.Backend(), time.Since(start).Round(time.Second))
	if err := cluster.EnsureServiceAccount(ctx, e.Cluster.Client(), Namespace, ServiceAccount); err != nil {
		return e, err
	}
	// Keycloak takes the longest to start: it starts first, in the
	// background, while the images are loaded and the hook runs.
	if err := e.planKeycloak(); err != nil {
		return e, err
	}
	waitKeycloak, err := e.startKeycloak(ctx)
	if err != nil {
		return e, err
	}
	defer func() {
		if err != nil {
			_ = waitKeycloak() // before the deferred Teardown stops it
		}
	}()
	images, err := e.imageTarballs(ctx)
	if err != nil {
		return e, err
	}
	if err := e.loadImages(ctx, images, true); err != nil {
		return e, err
	}
	if beforeIdPs != nil {
		beforeIdPs(ctx, e)
	}
	if err := e.loadImages(ctx, images, false); err != nil {
		return e, err
	}
	if err := e.startIdPs(ctx, waitKeycloak); err != nil {
		return e, err
	}
	logf("harness: environment ready in %s", time.Since(start).Round(time.Second))
	return e, nil
}

// wantIdPs lists the IdPs E2E_IDPS asks for (default all three).
func wantIdPs() []string {
	if os.Getenv("E2E_IDPS") == "" {
		return []string{"keycloak", "dex", "mockidp"}
	}
	return strings.Split(os.Getenv("E2E_IDPS"), ",")
}

// planKeycloak picks Keycloak's port and URL (KeycloakPlannedURL) when
// Keycloak is to start.
func (e *Env) planKeycloak() error {
	if !slices.Contains(wantIdPs(), "keycloak") {
		return nil
	}
	port, err := keycloak.FreePort(e.Cluster.HostAddress())
	if err != nil {
		return err
	}
	e.keycloakPort = port
	e.KeycloakPlannedURL = keycloak.BaseURL(e.Cluster.HostAddress(), port)
	return nil
}

// startKeycloak starts Keycloak (when E2E_IDPS wants it) on
// KeycloakPlannedURL's port and configures its realms, in the background;
// wait returns the outcome (every call the same).
func (e *Env) startKeycloak(ctx context.Context) (wait func() error, err error) {
	var kcErr error
	done := make(chan struct{})
	wait = func() error { <-done; return kcErr }
	if !slices.Contains(wantIdPs(), "keycloak") {
		close(done)
		return wait, nil
	}
	place, err := e.containerPlacements()
	if err != nil {
		return nil, err
	}
	if m := peers.Missing(filepath.Join(e.Peers.KeycloakHome(), "bin", "kc.sh")); len(m) > 0 && place["keycloak"] == nil {
		return nil, fmt.Errorf("harness: keycloak: missing %s: %s", m[0], peers.InstallHint)
	}
	host := e.Cluster.HostAddress()
	go func() {
		defer close(done)
		t := time.Now()
		port := e.keycloakPort // the planned port first, any other after "address already in use"
		kc, err := retryTakenPort(e, "keycloak", func() (*keycloak.Server, error) {
			defer func() { port = 0 }()
			return keycloak.Start(ctx, keycloak.Options{
				Home: e.Peers.KeycloakHome(), Host: host, Port: port, TrustFiles: []string{e.Cluster.CAFile()}, LogDir: e.workDir,
				Container: place["keycloak"],
			})
		})
		if err != nil {
			kcErr = err
			return
		}
		e.Keycloak = kc
		e.logf("harness: keycloak up at %s in %s", kc.URL(), time.Since(t).Round(time.Second))
		kcErr = e.configureKeycloak(ctx)
	}()
	return wait, nil
}

// startIdPs starts Dex and mockidp (as E2E_IDPS wants) and waits for them
// and for Keycloak (waitKeycloak, from startKeycloak).
func (e *Env) startIdPs(ctx context.Context, waitKeycloak func() error) error {
	want := wantIdPs()
	host := e.Cluster.HostAddress()
	place, err := e.containerPlacements()
	if err != nil {
		return err
	}
	caDir := []string{filepath.Dir(e.Cluster.CAFile())}
	var wg sync.WaitGroup
	var dexErr, mockErr error
	if slices.Contains(want, "mockidp") {
		bin := filepath.Join(e.RepoRoot, "bin", "fedtoken-mockidp")
		if _, err := os.Stat(bin); err != nil {
			e.MockIdPMissing = fmt.Sprintf("needs %s (make build)", bin)
			e.logf("harness: mockidp not started: %s", e.MockIdPMissing)
		} else {
			wg.Add(1)
			go func() {
				defer wg.Done()
				e.MockIdP, mockErr = retryTakenPort(e, "mockidp", func() (*mockidp.Server, error) {
					return mockidp.Start(ctx, mockidp.Options{
						Binary: bin, Host: host, WorkDir: e.workDir, Container: place["mockidp"], Mounts: caDir,
						Params: mockidp.Params{
							K8sIssuer: e.Cluster.Issuer(), K8sCAFile: e.Cluster.CAFile(),
							Namespace: Namespace, ServiceAccount: ServiceAccount, AccessTokenLifetime: "60s",
							// The seed's multi-provider overlay runs as this one.
							ExtraSubjects: []string{"system:serviceaccount:ai-jobs:opencode-runner"},
						},
					})
				})
				if mockErr == nil {
					e.logf("harness: mockidp up at %s (issuers %s, %s)", e.MockIdP.BaseURL(), e.MockIdP.Issuer(mockidp.Prod), e.MockIdP.Issuer(mockidp.Staging))
				}
			}()
		}
	} else {
		e.MockIdPMissing = "E2E_IDPS=" + os.Getenv("E2E_IDPS")
	}
	if slices.Contains(want, "dex") {
		if m := peers.Missing(e.Peers.Dex()); len(m) > 0 && place["dex"] == nil {
			return fmt.Errorf("harness: dex: missing %s: %s", m[0], peers.InstallHint)
		}
		e.DexClientSecret = randomHex(16)
		issued.Record(e.DexClientSecret)
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.Dex, dexErr = retryTakenPort(e, "dex", func() (*dex.Server, error) {
				return dex.Start(ctx, dex.Options{
					Binary: e.Peers.Dex(), Host: host, K8sIssuer: e.Cluster.Issuer(), K8sCAFile: e.Cluster.CAFile(),
					ClientSecret: e.DexClientSecret, WorkDir: e.workDir, Container: place["dex"], Mounts: caDir,
				})
			})
			if dexErr == nil {
				e.logf("harness: dex up at %s", e.Dex.Issuer())
			}
		}()
	}
	kcErr := waitKeycloak()
	wg.Wait()
	return errors.Join(kcErr, dexErr, mockErr)
}

// dockerNetworked is a backend whose node is a container on a docker
// network (kind): the IdPs then run as containers on that network.
type dockerNetworked interface {
	NetworkName() string
}

// IdPImageEnv names the variable that overrides an IdP's image (e.g. the
// official quay.io/keycloak/keycloak or ghcr.io/dexidp/dex where they can
// be pulled): E2E_KEYCLOAK_IMAGE, E2E_DEX_IMAGE, E2E_MOCKIDP_IMAGE.
func IdPImageEnv(name string) string { return "E2E_" + strings.ToUpper(name) + "_IMAGE" }

// containerPlacements says, per IdP, which image to run as a container
// (testcontainers-go) on the cluster's docker network; empty for the local
// backend, whose IdPs are host processes. The images are the variable
// IdPImageEnv names, else the ones e2e/scripts/build-idp-images.sh built.
func (e *Env) containerPlacements() (map[string]*ctr.Placement, error) {
	dn, ok := e.Cluster.(dockerNetworked)
	if !ok {
		return map[string]*ctr.Placement{}, nil
	}
	out := map[string]*ctr.Placement{}
	for _, name := range []string{"keycloak", "dex", "mockidp"} {
		img := os.Getenv(IdPImageEnv(name))
		if img == "" {
			b, err := os.ReadFile(filepath.Join(e.Peers.Root, "idp-images", name))
			if err != nil {
				return nil, fmt.Errorf("harness: no %s image for the %s backend: run e2e/scripts/build-idp-images.sh (make e2e does) or set %s", name, e.Cluster.Backend(), IdPImageEnv(name))
			}
			img = strings.TrimSpace(string(b))
		}
		out[name] = &ctr.Placement{Image: img, Network: dn.NetworkName()}
	}
	return out, nil
}

// KeycloakParams are the values the realms were rendered with.
func (e *Env) KeycloakParams() keycloak.Params {
	return keycloak.Params{Issuer: e.Cluster.Issuer(), Namespace: Namespace, ServiceAccount: ServiceAccount, ClientSecret: e.KeycloakJWTGrantSecret}
}

func (e *Env) configureKeycloak(ctx context.Context) error {
	e.KeycloakJWTGrantSecret = randomHex(16)
	issued.Record(e.KeycloakJWTGrantSecret)
	p := e.KeycloakParams()
	for _, rep := range []map[string]any{keycloak.FederatedRealmRepresentation(p), keycloak.JWTGrantRealmRepresentation(p)} {
		if err := e.Keycloak.CreateRealm(ctx, rep); err != nil {
			return err
		}
	}
	return nil
}

// hookImages are the images a beforeIdPs hook's pod may use (Setup): they
// are loaded into every node before the hook runs, the others after it —
// and, on a backend with a quiet node (kind), not into that node.
var hookImages = []string{"fedtoken-sidecar", ProbeImage}

// imageTarball is an image to load: its name (Images' key) and tarball.
type imageTarball struct{ name, tar string }

// exceptQuietLoader is a backend whose quiet node needs only hookImages.
type exceptQuietLoader interface {
	LoadImageExceptQuiet(ctx context.Context, tarball string) error
}

// imageTarballs lists fedtoken's image tarballs (make images) and builds
// the e2eprobe and exec images.
func (e *Env) imageTarballs(ctx context.Context) ([]imageTarball, error) {
	dir := os.Getenv("E2E_IMAGES")
	if dir == "" {
		dir = filepath.Join(e.RepoRoot, "bin", "images")
	}
	var out []imageTarball
	for _, name := range []string{"fedtoken", "fedtoken-sidecar", "fedtoken-injector", "fedtoken-mockidp"} {
		tar := filepath.Join(dir, name+".tar")
		if _, err := os.Stat(tar); err == nil {
			out = append(out, imageTarball{name, tar})
		}
	}
	built, err := e.buildProbeImages(ctx)
	return append(out, built...), err
}

// loadImages loads the images that are (hook) or are not (!hook) among
// hookImages into the node(s) and records them in Images.
func (e *Env) loadImages(ctx context.Context, images []imageTarball, hook bool) error {
	for _, im := range images {
		if slices.Contains(hookImages, im.name) != hook {
			continue
		}
		load := e.Cluster.LoadImage
		if l, ok := e.Cluster.(exceptQuietLoader); ok && !hook {
			load = l.LoadImageExceptQuiet
		}
		if err := load(ctx, im.tar); err != nil {
			return err
		}
		e.Images[im.name] = ImageRef(im.name)
		e.logf("harness: loaded %s as %s", im.tar, ImageRef(im.name))
	}
	return nil
}

// ProbeImage is the rotation suite's app: e2e/cmd/e2eprobe, built by Setup.
const ProbeImage = "e2eprobe"

// buildProbeImages compiles e2e/cmd/e2eprobe statically and writes its image
// and the exec image (when bin/fedtoken was built).
func (e *Env) buildProbeImages(ctx context.Context) ([]imageTarball, error) {
	bin := filepath.Join(e.workDir, ProbeImage)
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", bin, "./cmd/e2eprobe")
	cmd.Dir = filepath.Join(e.RepoRoot, "e2e")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("harness: build e2eprobe: %w\n%s", err, out)
	}
	tar := bin + ".tar"
	if err := ociimage.Build(ociimage.Options{Binary: bin, Ref: ImageRef(ProbeImage), Out: tar, User: "65532:65532"}); err != nil {
		return nil, err
	}
	out := []imageTarball{{ProbeImage, tar}}
	// The exec image: fedtoken as entrypoint, e2eprobe on PATH as the
	// command `fedtoken exec` runs.
	cli := filepath.Join(e.RepoRoot, "bin", "fedtoken")
	if _, err := os.Stat(cli); err != nil {
		e.logf("harness: no %s image: %s not built", ExecImage, cli)
		return out, nil
	}
	execTar := filepath.Join(e.workDir, ExecImage+".tar")
	if err := ociimage.Build(ociimage.Options{Binary: cli, Extra: []string{bin}, Ref: ImageRef(ExecImage), Out: execTar, User: "65532:65532"}); err != nil {
		return nil, err
	}
	return append(out, imageTarball{ExecImage, execTar}), nil
}

// ExecImage is the image of the `fedtoken exec` suite: /fedtoken as
// entrypoint and /e2eprobe (on PATH) as the command it runs; built from
// bin/fedtoken and e2e/cmd/e2eprobe and loaded by Setup.
const ExecImage = "fedtoken-exec"

// ImageRef is the reference `make images` tags an image with.
func ImageRef(name string) string { return "fedtoken.local/" + name + ":e2e" }

// Teardown collects logs when failed (or E2E_ALWAYS_COLLECT is set), then
// stops everything.
func (e *Env) Teardown(ctx context.Context, failed bool) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	if failed || os.Getenv("E2E_ALWAYS_COLLECT") != "" {
		if err := e.CollectLogs(ctx); err != nil {
			e.logf("harness: collect logs: %v", err)
		} else {
			e.logf("harness: logs of every component are in %s", e.Artifacts)
		}
	}
	if e.Keycloak != nil {
		if err := e.Keycloak.Stop(); err != nil {
			e.logf("harness: stop keycloak: %v", err)
		}
	}
	if e.Dex != nil {
		if err := e.Dex.Stop(); err != nil {
			e.logf("harness: stop dex: %v", err)
		}
	}
	if e.MockIdP != nil {
		if err := e.MockIdP.Stop(); err != nil {
			e.logf("harness: stop mockidp: %v", err)
		}
	}
	if e.Cluster != nil {
		if err := e.Cluster.Stop(ctx); err != nil {
			e.logf("harness: stop cluster: %v", err)
		}
	}
	if e.workDir != "" {
		_ = os.RemoveAll(e.workDir)
	}
	e.lock.release()
}

// CollectLogs writes the cluster's and the IdPs' logs into e.Artifacts.
func (e *Env) CollectLogs(ctx context.Context) error {
	if err := os.MkdirAll(e.Artifacts, 0o755); err != nil {
		return err
	}
	var errs []error
	if e.Cluster != nil {
		errs = append(errs, e.Cluster.CollectLogs(ctx, filepath.Join(e.Artifacts, "cluster")))
	}
	for _, f := range []string{"keycloak.log", "dex.log", "dex-config.yaml", "mockidp.log", "mockidp-config.yaml"} {
		src := filepath.Join(e.workDir, f)
		if data, err := os.ReadFile(src); err == nil {
			errs = append(errs, os.WriteFile(filepath.Join(e.Artifacts, f), e.redact(data), 0o644))
		}
	}
	return errors.Join(errs...)
}

// redact replaces the client secrets the harness configured the IdPs with
// (dex-config.yaml holds Dex's): collected artifacts must pass the secret
// scan.
func (e *Env) redact(data []byte) []byte {
	for _, s := range []string{e.DexClientSecret, e.KeycloakJWTGrantSecret} {
		if s != "" {
			data = bytes.ReplaceAll(data, []byte(s), []byte("<redacted>"))
		}
	}
	return data
}

// repoRoot is the directory holding go.work above the working directory.
func repoRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return "."
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.work")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return dir
		}
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// retryTakenPort runs start again, up to three times, while it fails because
// its port was taken. The IdPs get their ports by listening on port 0 and
// closing the listener before the server binds it; Keycloak, Dex and mockidp
// start at the same time on the same address, so another process can take a
// port in between ("bind: address already in use").
func retryTakenPort[T any](e *Env, name string, start func() (T, error)) (T, error) {
	var (
		v   T
		err error
	)
	for attempt := 1; attempt <= 3; attempt++ {
		v, err = start()
		if err == nil || !strings.Contains(strings.ToLower(err.Error()), "address already in use") {
			return v, err
		}
		e.logf("harness: %s: its port was taken (attempt %d of 3), starting again on another", name, attempt)
	}
	return v, err
}
