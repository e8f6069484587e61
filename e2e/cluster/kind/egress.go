//go:build e2e

package kind

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
)

// egressChain holds the rules that keep the run's traffic on the machine.
const egressChain = "FEDTOKEN-E2E-EGRESS"

// guardEgress makes the host refuse to forward anything from the run's
// docker network or its pod subnet to an address outside the two. Docker
// lets containers reach any address through the host's default route; a
// pod that dials something the cluster does not serve (the kubernetes
// Service IP, with no kube-proxy in our node image) would leave the machine.
// The rules hang off DOCKER-USER, which Docker consults first for
// forwarded packets; with them such a dial fails at once (connection
// refused) instead.
func (c *Cluster) guardEgress(ctx context.Context) error {
	run := func(args ...string) error {
		if out, err := exec.CommandContext(ctx, "iptables", append([]string{"-w"}, args...)...).CombinedOutput(); err != nil {
			return fmt.Errorf("kind: iptables %s: %w: %s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	c.unguardEgress()
	if err := run("-N", egressChain); err != nil {
		return err
	}
	for _, dst := range []string{c.subnet, PodSubnet} {
		if err := run("-A", egressChain, "-d", dst, "-j", "RETURN"); err != nil {
			return err
		}
	}
	if err := run("-A", egressChain, "-j", "REJECT", "--reject-with", "icmp-port-unreachable"); err != nil {
		return err
	}
	for _, src := range []string{c.subnet, PodSubnet} {
		if err := run("-I", "DOCKER-USER", "-s", src, "-j", egressChain); err != nil {
			return err
		}
	}
	c.guarded = true
	return nil
}

// refusedEgress is how many packets the guard has refused so far.
func (c *Cluster) refusedEgress() string {
	out, err := exec.Command("iptables", "-w", "-L", egressChain, "-v", "-n", "-x").Output()
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 2 && f[2] == "REJECT" {
			return f[0]
		}
	}
	return "unknown"
}

// unguardEgress removes the rules (also those of a run that was killed).
func (c *Cluster) unguardEgress() {
	for _, src := range []string{c.subnet, PodSubnet} {
		for exec.Command("iptables", "-w", "-D", "DOCKER-USER", "-s", src, "-j", egressChain).Run() == nil {
		}
	}
	_ = exec.Command("iptables", "-w", "-F", egressChain).Run()
	_ = exec.Command("iptables", "-w", "-X", egressChain).Run()
	c.guarded = false
}
