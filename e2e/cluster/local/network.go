//go:build e2e

package local

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"

	"github.com/fedtoken/fedtoken/e2e/internal/netns"
)

// startNetwork creates the harness bridge with the node address, in the
// run's own network namespace (Isolate made it; the process must be inside
// it, so the bridge can never land in the host's namespace). Pods join the
// bridge through the CNI bridge plugin; IdPs the pods call listen on its
// address. The namespace is new, so no leftover bridge or route is in it.
func (c *Cluster) startNetwork(ctx context.Context) error {
	name := os.Getenv(netns.Env)
	if name == "" {
		return fmt.Errorf("not inside a network namespace of its own: the local backend runs in one (%s is empty); start it through local.Isolate, as the suites' TestMain does", netns.Env)
	}
	if err := netns.Inside(name); err != nil {
		return err
	}
	c.netns0 = listNetns()
	_, subnet, _ := net.ParseCIDR(c.o.PodSubnet)
	ones, _ := subnet.Mask.Size()
	for _, args := range [][]string{
		{"link", "add", "name", c.o.Bridge, "type", "bridge"},
		{"addr", "add", fmt.Sprintf("%s/%d", c.nodeIP, ones), "dev", c.o.Bridge},
		{"link", "set", c.o.Bridge, "up"},
	} {
		if _, err := ipCmd(ctx, args...); err != nil {
			return err
		}
		c.bridge = true
	}
	return nil
}

func (c *Cluster) stopNetwork(ctx context.Context) error {
	var errs []string
	// Network namespaces the CNI plugin made for pods the kubelet did not
	// tear down (only ones that appeared during this run and hold no process).
	for ns := range listNetns() {
		if c.netns0[ns] || !strings.HasPrefix(ns, "cni-") {
			continue
		}
		if pids, _ := ipCmd(ctx, "netns", "pids", ns); strings.TrimSpace(pids) != "" {
			continue
		}
		if _, err := ipCmd(ctx, "netns", "delete", ns); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if c.bridge {
		if _, err := ipCmd(ctx, "link", "del", c.o.Bridge); err != nil {
			errs = append(errs, err.Error())
		} else {
			c.bridge = false
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("network: %s", strings.Join(errs, "; "))
	}
	return nil
}

func ipCmd(ctx context.Context, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "/usr/sbin/ip", args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

func listNetns() map[string]bool {
	out := map[string]bool{}
	entries, _ := os.ReadDir("/var/run/netns")
	for _, e := range entries {
		out[e.Name()] = true
	}
	return out
}
