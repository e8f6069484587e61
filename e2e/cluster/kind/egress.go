//go:build e2e

package kind

import (
	"context"
	"fmt"
	"os"
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
	// Where refused packets were headed goes to the kernel log (read back by
	// refusedEgress); a kernel without the LOG target only loses that detail.
	c.logPrefix = fmt.Sprintf("ft-e2e-egress-%d: ", os.Getpid())
	if err := run("-A", egressChain, "-m", "limit", "--limit", "20/second", "-j", "LOG", "--log-prefix", c.logPrefix); err != nil {
		c.o.Logf("kind: egress guard: no LOG rule (%v); refused packets are counted only", err)
		c.logPrefix = ""
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

// refusedEgress says how many packets the guard has refused so far and,
// from the kernel log, where the first of them were headed.
func (c *Cluster) refusedEgress() string {
	out, err := exec.Command("iptables", "-w", "-L", egressChain, "-v", "-n", "-x").Output()
	if err != nil {
		return "unknown"
	}
	n := "unknown"
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 2 && f[2] == "REJECT" {
			n = f[0]
		}
	}
	if c.logPrefix == "" || n == "0" {
		return n
	}
	klog, err := exec.Command("dmesg").Output()
	if err != nil {
		return n
	}
	count := map[string]int{}
	var order []string
	for _, line := range strings.Split(string(klog), "\n") {
		if !strings.Contains(line, c.logPrefix) {
			continue
		}
		var src, dst, proto, port string
		for _, f := range strings.Fields(line) {
			switch k, v, _ := strings.Cut(f, "="); k {
			case "SRC":
				src = v
			case "DST":
				dst = v
			case "PROTO":
				proto = v
			case "DPT":
				port = v
			}
		}
		key := src + " -> " + dst + ":" + port + "/" + proto
		if count[key] == 0 {
			order = append(order, key)
		}
		count[key]++
	}
	if len(order) == 0 {
		return n
	}
	var b strings.Builder
	for i, k := range order {
		if i == 10 {
			fmt.Fprintf(&b, ", … (%d more)", len(order)-i)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s ×%d", k, count[k])
	}
	return n + " (logged: " + b.String() + ")"
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
