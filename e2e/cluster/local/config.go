//go:build e2e

package local

import (
	"fmt"
	"strings"
)

// containerdConfig is a second containerd with its own root, state and
// socket, so the machine's own containerd (if any) is never touched.
// restrict_oom_score_adj: the VM forbids lowering oom_score_adj, and without
// it every sandbox fails with "can't get final child's PID from pipe".
func containerdConfig(root, state, sock, cniConfDir, pauseImage string) string {
	return fmt.Sprintf(`version = 2
root = %q
state = %q

[grpc]
  address = %q

[ttrpc]
  address = %q

[debug]
  address = %q

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = %q

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %q
  restrict_oom_score_adj = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = %q
    max_conf_num = 1
`, root, state, sock, sock+".ttrpc", sock+".debug", root+"/opt", pauseImage, cniConfDir)
}

// cniConfig puts pods on the harness bridge. No default route and no
// masquerading: pods reach the bridge subnet (the node address, where the
// IdPs listen) and nothing else.
func cniConfig(bridge, subnet, gateway, ipamDir string) string {
	return fmt.Sprintf(`{
  "cniVersion": "0.4.0",
  "name": "fedtoken-e2e",
  "plugins": [
    {
      "type": "bridge",
      "bridge": %q,
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": %q, "gateway": %q}]],
        "dataDir": %q
      }
    }
  ]
}
`, bridge, subnet, gateway, ipamDir)
}

// kubeletConfig: cgroupfs (cgroup v1 here), anonymous read access for the
// API server's logs/exec calls, relaxed eviction for a shared CI disk.
type kubeletParams struct {
	Address, ClientCA, TLSCert, TLSKey, RuntimeSocket, PodLogsDir string
	Port                                                          int
}

func kubeletConfig(p kubeletParams) string {
	return fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: %s
port: %d
readOnlyPort: 0
healthzPort: 0
authentication:
  anonymous:
    enabled: true
  webhook:
    enabled: false
  x509:
    clientCAFile: %q
authorization:
  mode: AlwaysAllow
tlsCertFile: %q
tlsPrivateKeyFile: %q
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
containerRuntimeEndpoint: unix://%s
podLogsDir: %q
resolvConf: ""
clusterDomain: cluster.local
evictionHard:
  memory.available: "1Mi"
  nodefs.available: "1%%"
  nodefs.inodesFree: "1%%"
  imagefs.available: "1%%"
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
rotateCertificates: false
serverTLSBootstrap: false
protectKernelDefaults: false
localStorageCapacityIsolation: false
syncFrequency: 10s
fileCheckFrequency: 10s
nodeStatusUpdateFrequency: 5s
`, p.Address, p.Port, p.ClientCA, p.TLSCert, p.TLSKey, p.RuntimeSocket, p.PodLogsDir)
}

// kubeconfig for a component authenticating with a bearer token.
func kubeconfig(server, caFile, token string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster:
    server: %s
    certificate-authority: %s
users:
- name: admin
  user:
    token: %s
contexts:
- name: e2e
  context: {cluster: e2e, user: admin}
current-context: e2e
`, server, caFile, token)
}

// tokenAuthFile: one static admin token in system:masters.
func tokenAuthFile(token string) string {
	return strings.Join([]string{token, "admin", "admin", `"system:masters"`}, ",") + "\n"
}
