//go:build e2e

package local

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/fedtoken/fedtoken/e2e/cluster"
	"github.com/fedtoken/fedtoken/e2e/internal/pki"
	"github.com/fedtoken/fedtoken/e2e/internal/proc"
	"github.com/fedtoken/fedtoken/e2e/internal/wait"
	"github.com/fedtoken/fedtoken/e2e/peers"
)

// Options configure the local cluster. The zero value of every field but
// Peers has a working default.
type Options struct {
	Peers   peers.Layout
	WorkDir string // default: a new /tmp/fedtoken-e2e-* directory, removed by Stop
	Bridge  string // default "fedtoken0", in the run's network namespace
	// PodSubnet is the bridge's /24 (or larger); its first address is the
	// bridge gateway, the node address and HostAddress. Default 10.213.0.0/24.
	// It exists only inside the run's network namespace, so it cannot clash
	// with the host's routes.
	PodSubnet   string
	ServiceCIDR string // default 10.214.0.0/24 (no kube-proxy runs; the API server needs one)
	NodeName    string // default "fedtoken-e2e"
	Logf        func(format string, args ...any)
}

// Cluster is the local backend of cluster.Cluster.
type Cluster struct {
	o       Options
	workDir string
	ownWork bool

	nodeIP      net.IP
	apiPort     int
	etcdPort    int
	adminToken  string
	issuer      string
	caFile      string
	ctrdSock    string
	kubeletRoot string
	podLogsDir  string

	procs       []*proc.Process // in start order
	kubeletArgs []string
	restarts    int
	bridge      bool            // we created the bridge
	netns0      map[string]bool // /var/run/netns entries present before start

	cfg    *rest.Config
	client kubernetes.Interface
}

var _ cluster.Cluster = (*Cluster)(nil)

// New validates options; Start does the work.
func New(o Options) (*Cluster, error) {
	if o.Bridge == "" {
		o.Bridge = "fedtoken0"
	}
	if o.PodSubnet == "" {
		o.PodSubnet = "10.213.0.0/24"
	}
	if o.ServiceCIDR == "" {
		o.ServiceCIDR = "10.214.0.0/24"
	}
	if o.NodeName == "" {
		o.NodeName = "fedtoken-e2e"
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	ip, subnet, err := net.ParseCIDR(o.PodSubnet)
	if err != nil || ip.To4() == nil {
		return nil, fmt.Errorf("local: PodSubnet %q: want an IPv4 CIDR such as 10.213.0.0/24", o.PodSubnet)
	}
	gw := make(net.IP, 4)
	copy(gw, subnet.IP.To4())
	gw[3]++
	return &Cluster{o: o, nodeIP: gw}, nil
}

// Backend implements cluster.Cluster.
func (c *Cluster) Backend() string { return "local" }

// Client implements cluster.Cluster.
func (c *Cluster) Client() kubernetes.Interface { return c.client }

// RESTConfig implements cluster.Cluster.
func (c *Cluster) RESTConfig() *rest.Config { return rest.CopyConfig(c.cfg) }

// Issuer implements cluster.Cluster.
func (c *Cluster) Issuer() string { return c.issuer }

// CAFile implements cluster.Cluster.
func (c *Cluster) CAFile() string { return c.caFile }

// HostAddress implements cluster.Cluster: the bridge gateway, also the node
// IP, in the run's network namespace (where the tests run too).
func (c *Cluster) HostAddress() string { return c.nodeIP.String() }

// WorkDir is where configs, data and logs of this run live.
func (c *Cluster) WorkDir() string { return c.workDir }

// KubeconfigPath is an admin kubeconfig (for kubectl while debugging).
func (c *Cluster) KubeconfigPath() string { return filepath.Join(c.workDir, "admin.kubeconfig") }

// Preflight reports why this machine cannot run the local backend, if it cannot.
func (c *Cluster) Preflight() error {
	if runtime.GOOS != "linux" {
		return &cluster.UnavailableError{Backend: "local", Reason: "needs Linux (runs kubelet and containerd on the host); use E2E_CLUSTER=kind on other hosts"}
	}
	if os.Geteuid() != 0 {
		return &cluster.UnavailableError{Backend: "local", Reason: "needs root (kubelet mounts volumes, containerd creates namespaces, the harness creates a bridge); run make e2e as root"}
	}
	var need []string
	for _, b := range []string{"kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet"} {
		need = append(need, c.o.Peers.KubernetesBin(b))
	}
	need = append(need, c.o.Peers.Etcd(), c.o.Peers.PauseTarball(),
		"/usr/bin/containerd", "/usr/bin/containerd-shim-runc-v2", "/usr/bin/ctr", "/usr/sbin/runc",
		"/usr/lib/cni/bridge", "/usr/lib/cni/host-local", "/usr/lib/cni/loopback", "/usr/sbin/ip")
	if m := peers.Missing(need...); len(m) > 0 {
		return fmt.Errorf("local: missing %s: %s", strings.Join(m, ", "), peers.InstallHint)
	}
	return nil
}

// Start implements cluster.Cluster.
func (c *Cluster) Start(ctx context.Context) (err error) {
	if err := c.Preflight(); err != nil {
		return err
	}
	start := time.Now()
	if err := c.prepare(); err != nil {
		return err
	}
	steps := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"network", c.startNetwork},
		{"etcd", c.startEtcd},
		{"kube-apiserver", c.startAPIServer},
		{"issuer discovery", c.publishDiscovery},
		{"containerd", c.startContainerd},
		{"controllers", c.startControllers},
		{"kubelet", c.startKubelet},
	}
	for _, s := range steps {
		t := time.Now()
		if err := s.fn(ctx); err != nil {
			return fmt.Errorf("local: start %s: %w", s.name, err)
		}
		c.o.Logf("local: %s up in %s", s.name, time.Since(t).Round(time.Millisecond))
	}
	c.o.Logf("local: cluster ready in %s (issuer %s, node %s, work dir %s)", time.Since(start).Round(time.Millisecond), c.issuer, c.nodeIP, c.workDir)
	return nil
}

func (c *Cluster) prepare() error {
	removeStaleWorkDirs(c.o.Logf)
	c.workDir = c.o.WorkDir
	if c.workDir == "" {
		d, err := os.MkdirTemp("", "fedtoken-e2e-")
		if err != nil {
			return fmt.Errorf("local: work dir: %w", err)
		}
		c.workDir, c.ownWork = d, true
	}
	for _, d := range []string{"pki", "logs", "etcd", "containerd", "cni/net.d", "cni/ipam", "kubelet", "pod-logs", "run"} {
		if err := os.MkdirAll(filepath.Join(c.workDir, d), 0o700); err != nil {
			return fmt.Errorf("local: %w", err)
		}
	}
	if err := os.WriteFile(filepath.Join(c.workDir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return fmt.Errorf("local: %w", err)
	}
	// The kubelet's pod directories must be traversable by pod users.
	if err := os.Chmod(c.workDir, 0o755); err != nil {
		return fmt.Errorf("local: %w", err)
	}
	var err error
	if c.apiPort, err = freePort(); err != nil {
		return err
	}
	if c.etcdPort, err = freePort(); err != nil {
		return err
	}
	c.adminToken = randomHex(24)
	c.issuer = "https://127.0.0.1:" + strconv.Itoa(c.apiPort)
	c.caFile = filepath.Join(c.workDir, "pki", "ca.crt")
	c.ctrdSock = filepath.Join(c.workDir, "containerd", "containerd.sock")
	c.kubeletRoot = filepath.Join(c.workDir, "kubelet")
	c.podLogsDir = filepath.Join(c.workDir, "pod-logs")
	return c.writePKI()
}

// writePKI makes the throwaway CA, the API server's serving certificate
// (127.0.0.1 and the node address), the kubelet's serving certificate and the
// service-account signing key.
func (c *Cluster) writePKI() error {
	dir := filepath.Join(c.workDir, "pki")
	ca, err := pki.NewCA("fedtoken-e2e-ca", 48*time.Hour)
	if err != nil {
		return err
	}
	svcIP := firstIP(c.o.ServiceCIDR)
	api, err := ca.Issue(pki.LeafSpec{
		CommonName: "kube-apiserver", Server: true,
		IPs:      []net.IP{net.IPv4(127, 0, 0, 1), c.nodeIP, svcIP},
		DNSNames: []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"},
	})
	if err != nil {
		return err
	}
	kubelet, err := ca.Issue(pki.LeafSpec{CommonName: c.o.NodeName, Server: true, IPs: []net.IP{c.nodeIP}, DNSNames: []string{c.o.NodeName}})
	if err != nil {
		return err
	}
	sa, err := pki.NewServiceAccountKey()
	if err != nil {
		return err
	}
	saKey, err := pki.KeyPEM(sa)
	if err != nil {
		return err
	}
	saPub, err := pki.PublicKeyPEM(&sa.PublicKey)
	if err != nil {
		return err
	}
	if err := pki.WriteFiles(dir, map[string][]byte{"ca.crt": pki.CertPEM(ca.Cert), "sa.key": saKey, "sa.pub": saPub}); err != nil {
		return err
	}
	if err := pki.WriteLeaf(dir, "apiserver", api); err != nil {
		return err
	}
	if err := pki.WriteLeaf(dir, "kubelet", kubelet); err != nil {
		return err
	}
	// Everyone may read the CA (Keycloak, Dex run as root too, but be plain).
	if err := os.Chmod(c.caFile, 0o644); err != nil {
		return fmt.Errorf("local: %w", err)
	}
	files := map[string]string{
		"tokens.csv":                         tokenAuthFile(c.adminToken),
		"admin.kubeconfig":                   kubeconfig(c.issuer, c.caFile, c.adminToken),
		"cni/net.d/10-fedtoken-e2e.conflist": cniConfig(c.o.Bridge, c.o.PodSubnet, c.nodeIP.String(), filepath.Join(c.workDir, "cni", "ipam")),
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(c.workDir, name), []byte(content), 0o600); err != nil {
			return fmt.Errorf("local: %w", err)
		}
	}
	c.cfg = &rest.Config{
		Host:            c.issuer,
		BearerToken:     c.adminToken,
		TLSClientConfig: rest.TLSClientConfig{CAData: pki.CertPEM(ca.Cert)},
		QPS:             50,
		Burst:           100,
		Timeout:         30 * time.Second,
	}
	c.client, err = kubernetes.NewForConfig(c.cfg)
	if err != nil {
		return fmt.Errorf("local: clientset: %w", err)
	}
	return nil
}

func (c *Cluster) run(name, path string, args ...string) (*proc.Process, error) {
	p, err := proc.Start(proc.Spec{Name: name, Path: path, Args: args, LogPath: filepath.Join(c.workDir, "logs", name+".log"), Dir: c.workDir})
	if err != nil {
		return nil, err
	}
	c.procs = append(c.procs, p)
	return p, nil
}

func (c *Cluster) startEtcd(ctx context.Context) error {
	peerPort, err := freePort()
	if err != nil {
		return err
	}
	client := "http://127.0.0.1:" + strconv.Itoa(c.etcdPort)
	peer := "http://127.0.0.1:" + strconv.Itoa(peerPort)
	p, err := c.run("etcd", c.o.Peers.Etcd(),
		"--name=e2e", "--data-dir="+filepath.Join(c.workDir, "etcd"),
		"--listen-client-urls="+client, "--advertise-client-urls="+client,
		"--listen-peer-urls="+peer, "--initial-advertise-peer-urls="+peer,
		"--initial-cluster=e2e="+peer, "--listen-metrics-urls=",
		"--unsafe-no-fsync=true", "--log-level=warn")
	if err != nil {
		return err
	}
	return c.waitHTTP(ctx, p, "etcd "+client+"/health", client+"/health", nil, 60*time.Second, `"health":"true"`)
}

func (c *Cluster) startAPIServer(ctx context.Context) error {
	pk := filepath.Join(c.workDir, "pki")
	p, err := c.run("kube-apiserver", c.o.Peers.KubernetesBin("kube-apiserver"),
		"--etcd-servers=http://127.0.0.1:"+strconv.Itoa(c.etcdPort),
		"--bind-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(c.apiPort),
		"--advertise-address="+c.nodeIP.String(),
		"--endpoint-reconciler-type=none",
		"--tls-cert-file="+filepath.Join(pk, "apiserver.crt"),
		"--tls-private-key-file="+filepath.Join(pk, "apiserver.key"),
		"--client-ca-file="+c.caFile,
		"--token-auth-file="+filepath.Join(c.workDir, "tokens.csv"),
		"--authorization-mode=RBAC",
		"--anonymous-auth=true",
		"--service-account-issuer="+c.issuer,
		"--service-account-signing-key-file="+filepath.Join(pk, "sa.key"),
		"--service-account-key-file="+filepath.Join(pk, "sa.pub"),
		// Discovery would otherwise advertise the JWKS on the advertise
		// address, where nothing listens: IdPs must fetch it from the issuer.
		"--service-account-jwks-uri="+c.issuer+"/openid/v1/jwks",
		"--service-cluster-ip-range="+c.o.ServiceCIDR,
		"--kubelet-preferred-address-types=InternalIP",
		"--allow-privileged=true",
		"--enable-priority-and-fairness=false",
		"--profiling=false",
		"--cert-dir="+filepath.Join(c.workDir, "run"),
		"--v=1")
	if err != nil {
		return err
	}
	return c.waitHTTP(ctx, p, "kube-apiserver "+c.issuer+"/readyz", c.issuer+"/readyz", c.authHeader(), 120*time.Second, "ok")
}

// publishDiscovery makes issuer discovery anonymous and proves it.
func (c *Cluster) publishDiscovery(ctx context.Context) error {
	if err := cluster.AllowAnonymousDiscovery(ctx, c.client); err != nil {
		return err
	}
	return wait.Until(ctx, "anonymous GET "+c.issuer+"/.well-known/openid-configuration", 30*time.Second, 250*time.Millisecond, func(ctx context.Context) (bool, error) {
		if _, err := cluster.FetchDiscoveryAnonymously(ctx, c.issuer, c.caFile); err != nil {
			return false, wait.NotYet("%v", err)
		}
		return true, nil
	})
}

func (c *Cluster) startControllers(ctx context.Context) error {
	pk := filepath.Join(c.workDir, "pki")
	kc := filepath.Join(c.workDir, "admin.kubeconfig")
	kcmPort, err := freePort()
	if err != nil {
		return err
	}
	schedPort, err := freePort()
	if err != nil {
		return err
	}
	kcm, err := c.run("kube-controller-manager", c.o.Peers.KubernetesBin("kube-controller-manager"),
		"--kubeconfig="+kc,
		"--authentication-kubeconfig="+kc, "--authorization-kubeconfig="+kc,
		"--bind-address=127.0.0.1", "--secure-port="+strconv.Itoa(kcmPort),
		"--cert-dir="+filepath.Join(c.workDir, "run"),
		"--service-account-private-key-file="+filepath.Join(pk, "sa.key"),
		"--root-ca-file="+c.caFile,
		"--service-cluster-ip-range="+c.o.ServiceCIDR,
		"--leader-elect=false", "--v=1")
	if err != nil {
		return err
	}
	sched, err := c.run("kube-scheduler", c.o.Peers.KubernetesBin("kube-scheduler"),
		"--kubeconfig="+kc,
		"--authentication-kubeconfig="+kc, "--authorization-kubeconfig="+kc,
		"--bind-address=127.0.0.1", "--secure-port="+strconv.Itoa(schedPort),
		"--cert-dir="+filepath.Join(c.workDir, "run"),
		"--leader-elect=false", "--v=1")
	if err != nil {
		return err
	}
	// The service-account controller creating "default" proves the
	// controller manager works (and the token controller can sign).
	return wait.Until(ctx, "kube-controller-manager to create serviceaccount default/default", 90*time.Second, 500*time.Millisecond, func(ctx context.Context) (bool, error) {
		for _, p := range []*proc.Process{kcm, sched} {
			if err := p.Alive(); err != nil {
				return false, err
			}
		}
		_, err := c.client.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		if err != nil {
			return false, wait.NotYet("%v", err)
		}
		return true, nil
	})
}

func (c *Cluster) startKubelet(ctx context.Context) error {
	pk := filepath.Join(c.workDir, "pki")
	port, err := freePort()
	if err != nil {
		return err
	}
	cfgPath := filepath.Join(c.workDir, "kubelet-config.yaml")
	cfg := kubeletConfig(kubeletParams{
		Address: c.nodeIP.String(), Port: port, ClientCA: c.caFile,
		TLSCert: filepath.Join(pk, "kubelet.crt"), TLSKey: filepath.Join(pk, "kubelet.key"),
		RuntimeSocket: c.ctrdSock, PodLogsDir: c.podLogsDir,
	})
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return fmt.Errorf("kubelet config: %w", err)
	}
	c.kubeletArgs = []string{
		"--config=" + cfgPath,
		"--kubeconfig=" + filepath.Join(c.workDir, "admin.kubeconfig"),
		"--root-dir=" + c.kubeletRoot,
		"--cert-dir=" + filepath.Join(c.workDir, "run"),
		"--hostname-override=" + c.o.NodeName,
		"--node-ip=" + c.nodeIP.String(),
		"--v=1",
	}
	p, err := c.run("kubelet", c.o.Peers.KubernetesBin("kubelet"), c.kubeletArgs...)
	if err != nil {
		return err
	}
	return c.waitNodeReady(ctx, p, time.Time{})
}

// RestartKubelet stops the kubelet and starts it again with the same
// configuration; running pods keep running. A restarted kubelet re-projects
// service-account tokens, which is how suites force a rotation without
// waiting 80 % of a token's lifetime.
func (c *Cluster) RestartKubelet(ctx context.Context) error {
	for i, p := range c.procs {
		if p.Name() != "kubelet" {
			continue
		}
		if err := p.Stop(15 * time.Second); err != nil {
			return fmt.Errorf("local: restart kubelet: %w", err)
		}
		c.procs = append(c.procs[:i], c.procs[i+1:]...)
		break
	}
	c.restarts++
	since := time.Now().Truncate(time.Second)
	p, err := proc.Start(proc.Spec{
		Name: "kubelet", Path: c.o.Peers.KubernetesBin("kubelet"), Args: c.kubeletArgs, Dir: c.workDir,
		LogPath: filepath.Join(c.workDir, "logs", fmt.Sprintf("kubelet.restart-%d.log", c.restarts)),
	})
	if err != nil {
		return fmt.Errorf("local: restart kubelet: %w", err)
	}
	c.procs = append(c.procs, p)
	return c.waitNodeReady(ctx, p, since)
}

// waitNodeReady waits for the node's Ready condition, heartbeated at or
// after since (so a restarted kubelet is really back).
func (c *Cluster) waitNodeReady(ctx context.Context, p *proc.Process, since time.Time) error {
	return wait.Until(ctx, "node "+c.o.NodeName+" Ready", 120*time.Second, 500*time.Millisecond, func(ctx context.Context) (bool, error) {
		if err := p.Alive(); err != nil {
			return false, err
		}
		n, err := c.client.CoreV1().Nodes().Get(ctx, c.o.NodeName, metav1.GetOptions{})
		if err != nil {
			return false, wait.NotYet("%v", err)
		}
		for _, cond := range n.Status.Conditions {
			if cond.Type == corev1.NodeReady {
				if cond.LastHeartbeatTime.Time.Before(since) {
					return false, wait.NotYet("last heartbeat %s is from before the kubelet started", cond.LastHeartbeatTime.Format(time.RFC3339))
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

// PodVolumeDir implements cluster.Cluster.
func (c *Cluster) PodVolumeDir(pod *corev1.Pod, volume string) (string, error) {
	sub, err := cluster.PodVolumeSubdir(pod, volume)
	if err != nil {
		return "", fmt.Errorf("local: %w", err)
	}
	return filepath.Join(c.kubeletRoot, sub), nil
}

func (c *Cluster) authHeader() http.Header {
	return http.Header{"Authorization": []string{"Bearer " + c.adminToken}}
}

// waitHTTP polls url until it answers 200 with wantBody in its body, failing
// at once if p exits.
func (c *Cluster) waitHTTP(ctx context.Context, p *proc.Process, what, url string, hdr http.Header, timeout time.Duration, wantBody string) error {
	client, err := cluster.HTTPClientTrusting(c.caFile)
	if err != nil {
		return err
	}
	client.Timeout = 5 * time.Second
	return wait.Until(ctx, what, timeout, 250*time.Millisecond, func(ctx context.Context) (bool, error) {
		if err := p.Alive(); err != nil {
			return false, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return false, err
		}
		for k, v := range hdr {
			req.Header[k] = v
		}
		resp, err := client.Do(req)
		if err != nil {
			return false, wait.NotYet("%v", err)
		}
		defer resp.Body.Close()
		body := make([]byte, 512)
		n, _ := resp.Body.Read(body)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body[:n]), wantBody) {
			return false, wait.NotYet("HTTP %d %q", resp.StatusCode, body[:n])
		}
		return true, nil
	})
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("local: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func firstIP(cidr string) net.IP {
	_, n, err := net.ParseCIDR(cidr)
	if err != nil {
		return nil
	}
	ip := make(net.IP, 4)
	copy(ip, n.IP.To4())
	ip[3]++
	return ip
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
