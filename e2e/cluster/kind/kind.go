//go:build e2e

package kind

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	kindcluster "sigs.k8s.io/kind/pkg/cluster"
	"sigs.k8s.io/kind/pkg/cluster/nodeutils"

	"github.com/fedtoken/fedtoken/e2e/cluster"
	"github.com/fedtoken/fedtoken/e2e/internal/wait"
)

// NodeImageEnv names a node image built on this host (no registry is
// reachable here, so kind cannot pull kindest/node).
const NodeImageEnv = "E2E_KIND_NODE_IMAGE"

// ReasonNoNodeImage and ReasonPrivileged are why kind cannot run on the
// project's CI machines yet (environment.md); a later issue provides both.
const (
	ReasonNoNodeImage = "no kind node image: kind pulls kindest/node from a container registry, which this machine cannot reach; build one locally and set " + NodeImageEnv
	ReasonPrivileged  = "docker run --privileged fails on this VM (\"unable to apply caps\": the capability bounding set lacks CAP_SYS_RESOURCE); dockerd needs a runtime shim around runc that drops CAP_SYS_RESOURCE before kind's node containers can start"
)

// Options configure the kind cluster.
type Options struct {
	Name      string // kind cluster name, default "fedtoken-e2e"
	NodeImage string // default $E2E_KIND_NODE_IMAGE
	WorkDir   string // default a new temp dir
	Logf      func(format string, args ...any)
}

// Cluster is the kind backend of cluster.Cluster.
type Cluster struct {
	o        Options
	provider *kindcluster.Provider
	workDir  string
	apiPort  int
	issuer   string
	caFile   string
	hostAddr string
	cfg      *rest.Config
	client   kubernetes.Interface
	created  bool
}

var _ cluster.Cluster = (*Cluster)(nil)

// New returns an unstarted kind cluster.
func New(o Options) *Cluster {
	if o.Name == "" {
		o.Name = "fedtoken-e2e"
	}
	if o.NodeImage == "" {
		o.NodeImage = os.Getenv(NodeImageEnv)
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	return &Cluster{o: o}
}

// Backend implements cluster.Cluster.
func (c *Cluster) Backend() string { return "kind" }

// Client implements cluster.Cluster.
func (c *Cluster) Client() kubernetes.Interface { return c.client }

// RESTConfig implements cluster.Cluster.
func (c *Cluster) RESTConfig() *rest.Config { return rest.CopyConfig(c.cfg) }

// Issuer implements cluster.Cluster.
func (c *Cluster) Issuer() string { return c.issuer }

// CAFile implements cluster.Cluster.
func (c *Cluster) CAFile() string { return c.caFile }

// HostAddress implements cluster.Cluster: the gateway of kind's docker network.
func (c *Cluster) HostAddress() string { return c.hostAddr }

// Preflight reports why kind cannot run here, if it cannot.
func (c *Cluster) Preflight(ctx context.Context) error {
	var reasons []string
	if _, err := exec.LookPath("docker"); err != nil {
		reasons = append(reasons, "no docker CLI in PATH")
	} else if out, err := exec.CommandContext(ctx, "docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput(); err != nil {
		reasons = append(reasons, "no Docker daemon answers (docker info: "+strings.TrimSpace(string(out))+")")
	}
	if c.o.NodeImage == "" {
		reasons = append(reasons, ReasonNoNodeImage, ReasonPrivileged)
	}
	if len(reasons) > 0 {
		return &cluster.UnavailableError{Backend: "kind", Reason: strings.Join(reasons, "; ")}
	}
	return nil
}

// config is the kind cluster config: a fixed loopback API port so the
// issuer URL is known before creation, and the issuer set to it.
func (c *Cluster) config() string {
	return fmt.Sprintf(`kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
networking:
  apiServerAddress: 127.0.0.1
  apiServerPort: %d
nodes:
- role: control-plane
  kubeadmConfigPatches:
  - |
    kind: ClusterConfiguration
    apiServer:
      extraArgs:
        service-account-issuer: %s
        api-audiences: %s
        anonymous-auth: "true"
`, c.apiPort, c.issuer, c.issuer)
}

// Start implements cluster.Cluster.
func (c *Cluster) Start(ctx context.Context) error {
	if err := c.Preflight(ctx); err != nil {
		return err
	}
	c.workDir = c.o.WorkDir
	if c.workDir == "" {
		d, err := os.MkdirTemp("", "fedtoken-e2e-kind-")
		if err != nil {
			return fmt.Errorf("kind: %w", err)
		}
		c.workDir = d
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("kind: free port: %w", err)
	}
	c.apiPort = l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	c.issuer = "https://127.0.0.1:" + strconv.Itoa(c.apiPort)

	c.provider = kindcluster.NewProvider(kindcluster.ProviderWithDocker())
	c.created = true
	if err := c.provider.Create(c.o.Name,
		kindcluster.CreateWithRawConfig([]byte(c.config())),
		kindcluster.CreateWithNodeImage(c.o.NodeImage),
		kindcluster.CreateWithWaitForReady(3*time.Minute),
		kindcluster.CreateWithKubeconfigPath(filepath.Join(c.workDir, "kubeconfig")),
		kindcluster.CreateWithDisplayUsage(false),
		kindcluster.CreateWithDisplaySalutation(false),
	); err != nil {
		return fmt.Errorf("kind: create cluster %s: %w", c.o.Name, err)
	}
	kc, err := c.provider.KubeConfig(c.o.Name, false)
	if err != nil {
		return fmt.Errorf("kind: kubeconfig: %w", err)
	}
	c.cfg, err = clientcmd.RESTConfigFromKubeConfig([]byte(kc))
	if err != nil {
		return fmt.Errorf("kind: kubeconfig: %w", err)
	}
	c.caFile = filepath.Join(c.workDir, "ca.crt")
	if err := os.WriteFile(c.caFile, c.cfg.CAData, 0o644); err != nil {
		return fmt.Errorf("kind: %w", err)
	}
	if c.client, err = kubernetes.NewForConfig(c.cfg); err != nil {
		return fmt.Errorf("kind: clientset: %w", err)
	}
	out, err := exec.CommandContext(ctx, "docker", "network", "inspect", "kind", "--format", "{{range .IPAM.Config}}{{.Gateway}} {{end}}").Output()
	if err != nil {
		return fmt.Errorf("kind: docker network inspect kind: %w", err)
	}
	for _, gw := range strings.Fields(string(out)) {
		if ip := net.ParseIP(gw); ip != nil && ip.To4() != nil {
			c.hostAddr = gw
		}
	}
	if err := cluster.AllowAnonymousDiscovery(ctx, c.client); err != nil {
		return err
	}
	return wait.Until(ctx, "anonymous GET "+c.issuer+"/.well-known/openid-configuration", 60*time.Second, 500*time.Millisecond, func(ctx context.Context) (bool, error) {
		if _, err := cluster.FetchDiscoveryAnonymously(ctx, c.issuer, c.caFile); err != nil {
			return false, wait.NotYet("%v", err)
		}
		return true, nil
	})
}

// Stop implements cluster.Cluster.
func (c *Cluster) Stop(context.Context) error {
	if !c.created {
		return nil
	}
	if err := c.provider.Delete(c.o.Name, ""); err != nil {
		return fmt.Errorf("kind: delete cluster %s: %w", c.o.Name, err)
	}
	return nil
}

// LoadImage implements cluster.Cluster (kind load image-archive).
func (c *Cluster) LoadImage(_ context.Context, tarball string) error {
	nodes, err := c.provider.ListInternalNodes(c.o.Name)
	if err != nil {
		return fmt.Errorf("kind: list nodes: %w", err)
	}
	for _, n := range nodes {
		f, err := os.Open(tarball)
		if err != nil {
			return fmt.Errorf("kind: load image: %w", err)
		}
		err = nodeutils.LoadImageArchive(n, f)
		f.Close()
		if err != nil {
			return fmt.Errorf("kind: load %s into %s: %w", tarball, n.String(), err)
		}
	}
	return nil
}

// PodVolumeDir implements cluster.Cluster; the node's filesystem is inside a
// container, so suites read the token through the pod instead.
func (c *Cluster) PodVolumeDir(*corev1.Pod, string) (string, error) {
	return "", errors.New("kind: pod volumes live inside the node container; not readable from the host")
}

// CollectLogs implements cluster.Cluster (kind export logs).
func (c *Cluster) CollectLogs(_ context.Context, dir string) error {
	if !c.created {
		return nil
	}
	return c.provider.CollectLogs(c.o.Name, dir)
}
