//go:build e2e

package local

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fedtoken/fedtoken/e2e/internal/wait"
)

// Stop implements cluster.Cluster. It removes every pod first (so the
// kubelet unmounts volumes and the CNI plugin releases namespaces), stops
// the components in reverse order, then cleans what a crash could leave:
// shims, mounts under the work dir, the bridge. (The network namespace it
// all ran in is Isolate's to delete.)
func (c *Cluster) Stop(ctx context.Context) error {
	var errs []error
	if c.client != nil && c.running("kubelet") {
		if err := c.drainPods(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	for _, name := range []string{"kubelet", "kube-scheduler", "kube-controller-manager"} {
		errs = append(errs, c.stopProc(name))
	}
	if c.running("containerd") {
		c.killTasks(ctx)
	}
	for _, name := range []string{"containerd", "kube-apiserver", "etcd"} {
		errs = append(errs, c.stopProc(name))
	}
	errs = append(errs, c.killShims(), c.unmountAll(), c.stopNetwork(ctx))
	if c.ownWork && os.Getenv("E2E_KEEP_WORKDIR") == "" && c.workDir != "" {
		if err := os.RemoveAll(c.workDir); err != nil {
			errs = append(errs, fmt.Errorf("remove work dir: %w", err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("local: stop: %w", err)
	}
	return nil
}

func (c *Cluster) running(name string) bool {
	for _, p := range c.procs {
		if p.Name() == name {
			return p.Alive() == nil
		}
	}
	return false
}

func (c *Cluster) stopProc(name string) error {
	for _, p := range c.procs {
		if p.Name() == name {
			return p.Stop(15 * time.Second)
		}
	}
	return nil
}

// drainPods deletes every pod with a short grace period and waits until the
// kubelet has confirmed each deletion (containers gone, volumes unmounted).
func (c *Cluster) drainPods(ctx context.Context) error {
	grace := int64(1)
	nss, err := c.client.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("drain pods: %w", err)
	}
	for _, ns := range nss.Items {
		_ = c.client.CoreV1().Pods(ns.Name).DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: &grace}, metav1.ListOptions{})
	}
	return wait.Until(ctx, "kubelet to remove every pod", 90*time.Second, 500*time.Millisecond, func(ctx context.Context) (bool, error) {
		pods, err := c.client.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, wait.NotYet("%v", err)
		}
		if n := len(pods.Items); n > 0 {
			return false, wait.NotYet("%d pods left, e.g. %s/%s", n, pods.Items[0].Namespace, pods.Items[0].Name)
		}
		return true, nil
	})
}

// killShims kills containerd-shim processes started for this run's
// containerd (their command line names its socket), by pid.
func (c *Cluster) killShims() error {
	if c.ctrdSock == "" {
		return nil
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(cmdline), "\x00")
		if len(args) == 0 || !strings.Contains(args[0], "containerd-shim") {
			continue
		}
		for i, a := range args {
			if a == "-address" && i+1 < len(args) && args[i+1] == c.ctrdSock {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
	return nil
}

// ownerFile, in a work dir, holds the pid of the harness that made it.
const ownerFile = "owner.pid"

// removeStaleWorkDirs unmounts and removes the work dirs of earlier runs
// whose harness died without stopping (its pid is gone).
// When it finds one, it also deletes the pod network namespaces that run's
// CNI plugin left: /var/run/netns/cni-* entries with no process inside.
func removeStaleWorkDirs(logf func(string, ...any)) {
	stale := false
	defer func() {
		if !stale {
			return
		}
		for ns := range listNetns() {
			if !strings.HasPrefix(ns, "cni-") {
				continue
			}
			if pids, err := ipCmd(context.Background(), "netns", "pids", ns); err != nil || strings.TrimSpace(pids) != "" {
				continue
			}
			if _, err := ipCmd(context.Background(), "netns", "delete", ns); err == nil {
				logf("local: deleted empty network namespace %s of a run that died", ns)
			}
		}
	}()
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "fedtoken-e2e-*", ownerFile))
	for _, f := range dirs {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
		if err != nil || pid <= 0 || syscall.Kill(pid, 0) == nil || errors.Is(syscall.Kill(pid, 0), syscall.EPERM) {
			continue
		}
		dir := filepath.Dir(f)
		stale = true
		if err := unmountBelow(dir); err != nil {
			logf("local: stale work dir %s: %v", dir, err)
			continue
		}
		if err := os.RemoveAll(dir); err == nil {
			logf("local: removed the work dir of a run that died: %s", dir)
		}
	}
}

// unmountAll detaches every mount below the work dir, deepest first.
func (c *Cluster) unmountAll() error {
	if c.workDir == "" {
		return nil
	}
	return unmountBelow(c.workDir)
}

func unmountBelow(root string) error {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var mounts []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && strings.HasPrefix(fields[4], root+"/") {
			mounts = append(mounts, fields[4])
		}
	}
	var errs []error
	for i := len(mounts) - 1; i >= 0; i-- {
		if err := syscall.Unmount(mounts[i], syscall.MNT_DETACH); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOENT) {
			errs = append(errs, fmt.Errorf("unmount %s: %w", mounts[i], err))
		}
	}
	return errors.Join(errs...)
}
