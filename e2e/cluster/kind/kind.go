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
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	kindcluster "sigs.k8s.io/kind/pkg/cluster"
	"sigs.k8s.io/kind/pkg/cluster/nodes"
	"sigs.k8s.io/kind/pkg/cluster/nodeutils"

	"github.com/fedtoken/fedtoken/e2e/cluster"
	"github.com/fedtoken/fedtoken/e2e/internal/ctr"
	"github.com/fedtoken/fedtoken/e2e/internal/wait"
	"github.com/fedtoken/fedtoken/e2e/peers"
)

// NodeImageEnv overrides the node image (e.g. the upstream kindest/node
// pinned by digest on hosts that can pull it).
const NodeImageEnv = "E2E_KIND_NODE_IMAGE"

// LocalImagePrefix names node images built by e2e/scripts/build-kind-node.sh.
// Those carry a bridge CNI instead of kindnetd, no kube-proxy and no CoreDNS
// image, and etcd tagged with the pinned etcd version; the cluster config
// says so (see config).
const LocalImagePrefix = "fedtoken.local/kind-node:"

// Network is the docker network the run creates for the node and the IdP
// containers (kind's KIND_EXPERIMENTAL_DOCKER_NETWORK). Its gateway is the
// host's address on it: the API server's port is published there, so the
// issuer URL is the same for the tests, the node's pods and the IdPs.
const Network = "fedtoken-e2e"

// Options configure the kind cluster.
type Options struct {
	Name      string // kind cluster name, default "fedtoken-e2e"
	NodeImage string // default $E2E_KIND_NODE_IMAGE, else the locally built one
	Peers     peers.Layout
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
	subnet   string
	node     string   // the control-plane container
	worker   string   // the quiet worker's container (QuietNode)
	routes   []string // "<podCIDR> via <node address>" routes on the host
	// workerImages is the directory mounted at the worker's /kind/images
	// ("" when the worker imports all the image carries).
	workerImages string
	guarded      bool   // guardEgress's rules are in place
	logPrefix    string // guardEgress's kernel-log prefix ("" without a LOG rule)
	cfg          *rest.Config
	client       kubernetes.Interface
	created      bool
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
	if o.NodeImage == "" && o.Peers.Root != "" {
		if b, err := os.ReadFile(o.Peers.KindNodeImageFile()); err == nil {
			o.NodeImage = strings.TrimSpace(string(b))
		}
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	return &Cluster{o: o, node: o.Name + "-control-plane", worker: o.Name + "-worker"}
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

// HostAddress implements cluster.Cluster: the gateway of the run's docker
// network (the host's address on it).
func (c *Cluster) HostAddress() string { return c.hostAddr }

// NetworkName is the docker network the node is attached to; IdP
// containers join it.
func (c *Cluster) NetworkName() string { return Network }

// NodeContainer is the name of the control-plane node's container, where
// every pod runs but the quiet node's.
func (c *Cluster) NodeContainer() string { return c.node }

// QuietTaint keeps every pod off the quiet worker node but those that
// tolerate it (QuietNode).
const QuietTaint = "fedtoken.dev/e2e-quiet"

// QuietNode is the worker node kept for one long-running pod that must not
// see what the suites do to the control-plane node (RestartKubelet restarts
// only that node's kubelet): the natural rotation suite's pod, pinned there
// by nodeName with tolerations. The worker carries the NoSchedule taint
// QuietTaint from the moment it joins, so nothing else is scheduled there.
func (c *Cluster) QuietNode() (string, []corev1.Toleration) {
	return c.worker, []corev1.Toleration{{Key: QuietTaint, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}
}

// Preflight reports why kind cannot run here, if it cannot.
func (c *Cluster) Preflight(ctx context.Context) error {
	var reasons []string
	if _, err := exec.LookPath("docker"); err != nil {
		reasons = append(reasons, "no docker CLI in PATH")
	} else if out, err := exec.CommandContext(ctx, "docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput(); err != nil {
		reasons = append(reasons, "no Docker daemon answers (docker info: "+strings.TrimSpace(string(out))+"); e2e/scripts/start-dockerd.sh starts one")
	}
	if c.o.NodeImage == "" {
		reasons = append(reasons, "no kind node image: build one with e2e/scripts/build-kind-node.sh (make e2e does) or set "+NodeImageEnv+" (e.g. the pinned upstream kindest/node)")
	}
	if len(reasons) > 0 {
		return &cluster.UnavailableError{Backend: "kind", Reason: strings.Join(reasons, "; ")}
	}
	return nil
}

// localImage reports whether the node image was built here.
func (c *Cluster) localImage() bool { return strings.HasPrefix(c.o.NodeImage, LocalImagePrefix) }

// config is the kind cluster config. The API server's port is published on
// the network's gateway at a port picked beforehand, so the issuer URL is
// known before creation; kind puts that address in the serving
// certificate's SANs. The issuer is an https URL every party reaches: the
// tests and host processes (local address), the IdP containers and the
// node's pods (through the gateway).
func (c *Cluster) config() string {
	var b strings.Builder
	fmt.Fprintf(&b, `kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
networking:
  apiServerAddress: %s
  apiServerPort: %d
  podSubnet: %s
`, c.hostAddr, c.apiPort, PodSubnet)
	if c.localImage() {
		// No kindnetd, kube-proxy or CoreDNS images here: the node image
		// brings a bridge CNI config; pods reach the IdPs by address.
		b.WriteString("  disableDefaultCNI: true\n  kubeProxyMode: none\n")
	}
	// Two nodes: the control plane runs every pod (kind keeps its NoSchedule
	// taint once there is a worker; Start removes it), the worker only the
	// pods that tolerate QuietTaint (QuietNode). KubeletConfiguration is
	// cluster-wide: syncFrequency 10s instead of 1m makes the kubelet write a
	// refreshed projected token within ~10 s of deciding to refresh it (at
	// ~80 % of its life) rather than at the pod's next 1-minute sync. A
	// test-speed setting: when to rotate is still the kubelet's own decision.
	fmt.Fprintf(&b, `nodes:
- role: control-plane
- role: worker
`)
	if c.workerImages != "" {
		// The local node image imports the control plane's images at boot;
		// the worker needs only the pause image, and importing the others
		// would take the cores the control plane's boot needs.
		fmt.Fprintf(&b, `  extraMounts:
  - hostPath: %s
    containerPath: /kind/images
    readOnly: true
`, c.workerImages)
	}
	fmt.Fprintf(&b, `  kubeadmConfigPatches:
  - |
    kind: JoinConfiguration
    nodeRegistration:
      taints:
      - key: %s
        effect: NoSchedule
kubeadmConfigPatches:
- |
  kind: KubeletConfiguration
  syncFrequency: 10s
- |
  kind: ClusterConfiguration
  apiServer:
    extraArgs:
      service-account-issuer: %s
      service-account-jwks-uri: %s/openid/v1/jwks
      api-audiences: %s
      anonymous-auth: "true"
      # No kube-proxy runs with the local node image, so a Service's
      # ClusterIP leads nowhere the run created: the API server calls
      # webhooks (fedtoken-injector) at the Service's endpoints, pod IPs on
      # the node's bridge.
      enable-aggregator-routing: "true"
`, QuietTaint, c.issuer, c.issuer, c.issuer)
	if c.localImage() {
		fmt.Fprintf(&b, `  etcd:
    local:
      imageTag: %s
- |
  kind: InitConfiguration
  skipPhases: [preflight, addon/kube-proxy, addon/coredns]
`, c.o.Peers.Versions.Etcd)
	}
	return b.String()
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
	c.provider = kindcluster.NewProvider(kindcluster.ProviderWithDocker())
	if err := c.removeLeftovers(ctx); err != nil {
		return err
	}
	if err := c.ensureNetwork(ctx); err != nil {
		return err
	}
	if err := c.guardEgress(ctx); err != nil {
		return err
	}
	l, err := net.Listen("tcp", net.JoinHostPort(c.hostAddr, "0"))
	if err != nil {
		return fmt.Errorf("kind: free port on %s: %w", c.hostAddr, err)
	}
	c.apiPort = l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	c.issuer = "https://" + net.JoinHostPort(c.hostAddr, strconv.Itoa(c.apiPort))
	if err := c.prepareWorkerImages(); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(c.workDir, "kind-config.yaml"), []byte(c.config()), 0o644); err != nil {
		return fmt.Errorf("kind: %w", err)
	}

	c.o.Logf("kind: creating cluster %s (node image %s, network %s, issuer %s)", c.o.Name, c.o.NodeImage, Network, c.issuer)
	os.Setenv("KIND_EXPERIMENTAL_DOCKER_NETWORK", Network)
	c.created = true
	start := time.Now()
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
	c.o.Logf("kind: cluster created in %s", time.Since(start).Round(time.Second))
	kc, err := c.provider.KubeConfig(c.o.Name, false)
	if err != nil {
		return fmt.Errorf("kind: kubeconfig: %w", err)
	}
	if err := os.WriteFile(filepath.Join(c.workDir, "kubeconfig"), []byte(kc), 0o600); err != nil {
		return fmt.Errorf("kind: %w", err)
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
	if err := c.untaintControlPlane(ctx); err != nil {
		return err
	}
	if err := c.routePods(ctx); err != nil {
		return err
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

// removeLeftovers deletes what an earlier run that was killed left: the
// cluster's node container and the IdP containers (package ctr). Runs are serialised by a lock (docs/e2e.md), so anything found
// here is from a run that is gone.
func (c *Cluster) removeLeftovers(ctx context.Context) error {
	names, err := c.provider.List()
	if err != nil {
		return fmt.Errorf("kind: list clusters: %w", err)
	}
	for _, n := range names {
		if n == c.o.Name {
			c.o.Logf("kind: deleting cluster %s left by an earlier run", n)
			if err := c.provider.Delete(n, ""); err != nil {
				return fmt.Errorf("kind: delete leftover cluster %s: %w", n, err)
			}
		}
	}
	n, err := ctr.RemoveLeftovers(ctx)
	if n > 0 {
		c.o.Logf("kind: removed %d containers left by an earlier run", n)
	}
	return err
}

// PodSubnet is the cluster's pod network (kind's default). Each node's
// podCIDR is a /24 of it (the controller manager's allocation): the host
// routes each to its node (routePods), and with the local node image each
// node's bridge CNI hands out addresses from its own (nodeCNI).
const PodSubnet = "10.244.0.0/16"

// DefaultSubnet is the run's docker network unless E2E_KIND_SUBNET says
// otherwise. A 10.x subnet, not one of Docker's 172.x pools: Keycloak's
// sslRequired=external treats requests from 172.x as external and answers
// "HTTPS required" (measured with Keycloak 26.7 here), while the tests and
// the pods call it over plain http on this network.
const DefaultSubnet = "10.214.0.0/24"

// ensureNetwork creates the run's docker network (IPv4, E2E_KIND_SUBNET or
// DefaultSubnet), replacing one of the same name with another subnet, and
// reads its gateway.
func (c *Cluster) ensureNetwork(ctx context.Context) error {
	want := os.Getenv("E2E_KIND_SUBNET")
	if want == "" {
		want = DefaultSubnet
	}
	if sub, _, err := networkSubnet(ctx); err == nil && sub != want {
		c.o.Logf("kind: docker network %s has subnet %s, want %s: recreating it", Network, sub, want)
		if out, err := exec.CommandContext(ctx, "docker", "network", "rm", Network).CombinedOutput(); err != nil {
			return fmt.Errorf("kind: docker network rm %s: %w: %s", Network, err, out)
		}
	}
	if _, _, err := networkSubnet(ctx); err != nil {
		args := []string{"network", "create", "--driver", "bridge", "--label", ctr.Label + "=network", "--subnet", want, Network}
		if out, err := exec.CommandContext(ctx, "docker", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("kind: docker network create %s: %w: %s", Network, err, out)
		}
	}
	sub, gw, err := networkSubnet(ctx)
	if err != nil {
		return err
	}
	c.subnet, c.hostAddr = sub, gw
	return nil
}

// networkSubnet returns the IPv4 subnet and gateway of the run's network.
func networkSubnet(ctx context.Context) (subnet, gateway string, err error) {
	out, err := exec.CommandContext(ctx, "docker", "network", "inspect", Network, "--format", "{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}|{{end}}").Output()
	if err != nil {
		return "", "", fmt.Errorf("kind: docker network inspect %s: %w", Network, err)
	}
	for _, cfg := range strings.Split(string(out), "|") {
		f := strings.Fields(cfg)
		if len(f) == 2 {
			if ip := net.ParseIP(f[1]); ip != nil && ip.To4() != nil {
				return f[0], f[1], nil
			}
		}
		// Older dockerd leave Gateway out when the subnet was given: it is
		// the subnet's first address.
		if len(f) == 1 {
			if _, n, err := net.ParseCIDR(f[0]); err == nil && n.IP.To4() != nil {
				gw := n.IP.To4()
				gw[3]++
				return f[0], gw.String(), nil
			}
		}
	}
	return "", "", fmt.Errorf("kind: docker network %s has no IPv4 gateway (%q)", Network, strings.TrimSpace(string(out)))
}

// prepareWorkerImages fills the directory the worker of a local node image
// gets as /kind/images: the pause image only (the peers' copy, the one the
// node image was built with).
func (c *Cluster) prepareWorkerImages() error {
	if !c.localImage() || c.o.Peers.Root == "" {
		return nil
	}
	src, err := os.ReadFile(c.o.Peers.PauseTarball())
	if err != nil {
		return fmt.Errorf("kind: the worker's pause image: %w", err)
	}
	dir := filepath.Join(c.workDir, "worker-images")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("kind: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pause.tar"), src, 0o644); err != nil {
		return fmt.Errorf("kind: %w", err)
	}
	c.workerImages = dir
	return nil
}

// untaintControlPlane lets pods run on the control-plane node: with a
// worker, kind keeps its NoSchedule taint, but every suite's pod runs there
// (only the quiet worker's pod does not; see QuietNode).
func (c *Cluster) untaintControlPlane(ctx context.Context) error {
	const key = "node-role.kubernetes.io/control-plane"
	return wait.Until(ctx, "the control-plane taint of "+c.node+" removed", 30*time.Second, 500*time.Millisecond, func(ctx context.Context) (bool, error) {
		n, err := c.client.CoreV1().Nodes().Get(ctx, c.node, metav1.GetOptions{})
		if err != nil {
			return false, wait.NotYet("%v", err)
		}
		taints := n.Spec.Taints[:0:0]
		for _, t := range n.Spec.Taints {
			if t.Key != key {
				taints = append(taints, t)
			}
		}
		if len(taints) == len(n.Spec.Taints) {
			return true, nil
		}
		n.Spec.Taints = taints
		if _, err := c.client.CoreV1().Nodes().Update(ctx, n, metav1.UpdateOptions{}); err != nil {
			return false, wait.NotYet("%v", err) // a conflict with the kubelet's status: read again
		}
		return true, nil
	})
}

// routePods waits for every node to be Ready with a podCIDR, gives each
// node's bridge CNI its own podCIDR (local node image) and routes each
// podCIDR from the host to its node's address on the run's network, so that
// the tests reach a pod's port (a probe, the sidecar's health port) as on
// the local backend's bridge. Without the routes such a request would
// follow the host's default route off the machine; a route to the subnet
// through anything but the run's network is refused.
func (c *Cluster) routePods(ctx context.Context) error {
	// Routes inside the pod subnet: through the run's network they are a
	// killed run's and go; through anything else they are not ours.
	routes, err := exec.CommandContext(ctx, "ip", "-o", "route", "show", "root", PodSubnet).Output()
	if err != nil {
		return fmt.Errorf("kind: ip route show root %s: %w", PodSubnet, err)
	}
	_, netw, _ := net.ParseCIDR(c.subnet)
	_, pods, _ := net.ParseCIDR(PodSubnet)
	for _, line := range strings.Split(strings.TrimSpace(string(routes)), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 || f[1] != "via" {
			continue
		}
		if netw == nil || !netw.Contains(net.ParseIP(f[2])) {
			return fmt.Errorf("kind: pod subnet %s is already routed on this machine (%q)", PodSubnet, line)
		}
		_ = exec.CommandContext(ctx, "ip", "route", "del", f[0], "via", f[2]).Run()
	}
	for _, node := range []string{c.node, c.worker} {
		var cidr string
		if err := wait.Until(ctx, "node "+node+" Ready with a podCIDR", 2*time.Minute, 500*time.Millisecond, func(ctx context.Context) (bool, error) {
			n, err := c.client.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
			if err != nil {
				return false, wait.NotYet("%v", err)
			}
			if cidr = n.Spec.PodCIDR; cidr == "" {
				return false, wait.NotYet("no podCIDR yet")
			}
			for _, cond := range n.Status.Conditions {
				if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
					return true, nil
				}
			}
			return false, wait.NotYet("not Ready")
		}); err != nil {
			return fmt.Errorf("kind: %w", err)
		}
		if _, sub, err := net.ParseCIDR(cidr); err != nil || !pods.Contains(sub.IP) {
			return fmt.Errorf("kind: node %s has podCIDR %q, not inside %s", node, cidr, PodSubnet)
		}
		if c.localImage() {
			if err := c.nodeCNI(ctx, node, cidr); err != nil {
				return err
			}
		}
		out, err := exec.CommandContext(ctx, "docker", "inspect", "--format", `{{(index .NetworkSettings.Networks "`+Network+`").IPAddress}}`, node).Output()
		if err != nil {
			return fmt.Errorf("kind: address of node %s: %w", node, err)
		}
		ip := strings.TrimSpace(string(out))
		if net.ParseIP(ip) == nil {
			return fmt.Errorf("kind: node %s has no address on %s (%q)", node, Network, ip)
		}
		if out, err := exec.CommandContext(ctx, "ip", "route", "replace", cidr, "via", ip).CombinedOutput(); err != nil {
			return fmt.Errorf("kind: ip route replace %s via %s: %w: %s", cidr, ip, err, out)
		}
		c.routes = append(c.routes, cidr+" via "+ip)
	}
	return nil
}

// cniConfig is the bridge CNI configuration the local node image carries
// (e2e/cluster/kind/node, its subnet filled in by build-kind-node.sh).
const cniConfig = "/etc/cni/net.d/10-fedtoken-bridge.conflist"

// nodeCNI makes a node's bridge CNI hand out addresses from the node's own
// podCIDR: the image carries the first /24 of PodSubnet, right for the
// control plane only, so the worker's pods would otherwise get addresses
// that collide with the control plane's. containerd reloads the file when
// it changes; the worker runs no pod before Start returns.
func (c *Cluster) nodeCNI(ctx context.Context, node, cidr string) error {
	script := `grep -q "\"subnet\": \"$1\"" ` + cniConfig + ` || sed -i -E "s|\"subnet\": *\"[^\"]*\"|\"subnet\": \"$1\"|" ` + cniConfig + ` && grep -q "\"subnet\": \"$1\"" ` + cniConfig
	if out, err := exec.CommandContext(ctx, "docker", "exec", node, "sh", "-c", script, "sh", cidr).CombinedOutput(); err != nil {
		return fmt.Errorf("kind: set the pod subnet %s in %s:%s: %w: %s", cidr, node, cniConfig, err, out)
	}
	return nil
}

// Stop implements cluster.Cluster. The network stays for the next run
// (it holds nothing once the containers are gone).
func (c *Cluster) Stop(context.Context) error {
	if !c.created {
		if c.guarded {
			c.unguardEgress()
		}
		return nil
	}
	if os.Getenv("E2E_KEEP_CLUSTER") != "" {
		c.o.Logf("kind: E2E_KEEP_CLUSTER set: cluster %s kept (kubeconfig %s)", c.o.Name, filepath.Join(c.workDir, "kubeconfig"))
		return nil
	}
	for _, r := range c.routes {
		_ = exec.Command("ip", append([]string{"route", "del"}, strings.Fields(r)...)...).Run()
	}
	if c.guarded {
		c.o.Logf("kind: the egress guard refused %s packets bound off the run's networks", c.refusedEgress())
		c.unguardEgress()
	}
	if err := c.provider.Delete(c.o.Name, ""); err != nil {
		return fmt.Errorf("kind: delete cluster %s: %w", c.o.Name, err)
	}
	return nil
}

// LoadImage implements cluster.Cluster (kind's image-archive loader), into
// every node at once.
func (c *Cluster) LoadImage(ctx context.Context, tarball string) error {
	return c.loadImage(ctx, tarball, true)
}

// LoadImageExceptQuiet loads an image only into the nodes other than the
// quiet one (QuietNode): for images its pod does not use.
func (c *Cluster) LoadImageExceptQuiet(ctx context.Context, tarball string) error {
	return c.loadImage(ctx, tarball, false)
}

func (c *Cluster) loadImage(_ context.Context, tarball string, quiet bool) error {
	all, err := c.provider.ListInternalNodes(c.o.Name)
	if err != nil {
		return fmt.Errorf("kind: list nodes: %w", err)
	}
	var targets []nodes.Node
	for _, n := range all {
		if quiet || n.String() != c.worker {
			targets = append(targets, n)
		}
	}
	errs := make([]error, len(targets))
	var wg sync.WaitGroup
	for i, n := range targets {
		wg.Go(func() {
			f, err := os.Open(tarball)
			if err != nil {
				errs[i] = fmt.Errorf("kind: load image: %w", err)
				return
			}
			defer f.Close()
			if err := nodeutils.LoadImageArchive(n, f); err != nil {
				errs[i] = fmt.Errorf("kind: load %s into %s: %w", tarball, n.String(), err)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// PodVolumeDir implements cluster.Cluster: the /var/lib/kubelet of the
// pod's node seen through /proc/<pid>/root of that node container's init
// (needs root, as the local backend does). A kind node's name is its
// container's.
func (c *Cluster) PodVolumeDir(pod *corev1.Pod, volume string) (string, error) {
	sub, err := cluster.PodVolumeSubdir(pod, volume)
	if err != nil {
		return "", fmt.Errorf("kind: %w", err)
	}
	node := pod.Spec.NodeName
	if node != c.node && node != c.worker {
		return "", fmt.Errorf("kind: pod %s/%s is on node %q, not one of this cluster's (%s, %s)", pod.Namespace, pod.Name, node, c.node, c.worker)
	}
	out, err := exec.Command("docker", "inspect", "--format", "{{.State.Pid}}", node).Output()
	if err != nil {
		return "", fmt.Errorf("kind: docker inspect %s: %w", node, err)
	}
	pid := strings.TrimSpace(string(out))
	return filepath.Join("/proc", pid, "root", "var", "lib", "kubelet", sub), nil
}

// RestartKubelet restarts the control-plane node's kubelet unit (where the
// suites' pods run; never the quiet worker's, see QuietNode); running pods
// keep running and their projected tokens are written anew. It returns once
// the node reports Ready with a heartbeat from the new kubelet.
func (c *Cluster) RestartKubelet(ctx context.Context) error {
	since := time.Now().Truncate(time.Second)
	if out, err := exec.CommandContext(ctx, "docker", "exec", c.node, "systemctl", "restart", "kubelet").CombinedOutput(); err != nil {
		return fmt.Errorf("kind: restart kubelet: %w: %s", err, out)
	}
	return wait.Until(ctx, "node "+c.node+" Ready after the kubelet restart", 120*time.Second, 500*time.Millisecond, func(ctx context.Context) (bool, error) {
		n, err := c.client.CoreV1().Nodes().Get(ctx, c.node, metav1.GetOptions{})
		if err != nil {
			return false, wait.NotYet("%v", err)
		}
		for _, cond := range n.Status.Conditions {
			if cond.Type == corev1.NodeReady {
				if cond.LastHeartbeatTime.Time.Before(since) {
					return false, wait.NotYet("last heartbeat %s is from before the restart", cond.LastHeartbeatTime.Format(time.RFC3339))
				}
				if cond.Status == corev1.ConditionTrue {
					return true, nil
				}
				return false, wait.NotYet("Ready=%s: %s", cond.Status, cond.Message)
			}
		}
		return false, wait.NotYet("no Ready condition yet")
	})
}

// CollectLogs implements cluster.Cluster (kind export logs).
func (c *Cluster) CollectLogs(_ context.Context, dir string) error {
	if !c.created {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	_ = os.WriteFile(filepath.Join(dir, "kind-config.yaml"), []byte(c.config()), 0o644)
	return c.provider.CollectLogs(c.o.Name, dir)
}
