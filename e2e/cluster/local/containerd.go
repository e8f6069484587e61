//go:build e2e

package local

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/fedtoken/fedtoken/e2e/internal/wait"
)

func (c *Cluster) startContainerd(ctx context.Context) error {
	dir := filepath.Join(c.workDir, "containerd")
	cfgPath := filepath.Join(dir, "config.toml")
	cfg := containerdConfig(filepath.Join(dir, "root"), filepath.Join(dir, "state"), c.ctrdSock,
		filepath.Join(c.workDir, "cni", "net.d"), c.o.Peers.Versions.PauseImage)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return fmt.Errorf("containerd config: %w", err)
	}
	p, err := c.run("containerd", "/usr/bin/containerd", "--config", cfgPath)
	if err != nil {
		return err
	}
	if err := wait.Until(ctx, "containerd at "+c.ctrdSock, 60*time.Second, 250*time.Millisecond, func(ctx context.Context) (bool, error) {
		if err := p.Alive(); err != nil {
			return false, err
		}
		if _, err := c.ctr(ctx, "version"); err != nil {
			return false, wait.NotYet("%v", err)
		}
		return true, nil
	}); err != nil {
		return err
	}
	return c.LoadImage(ctx, c.o.Peers.PauseTarball())
}

// LoadImage implements cluster.Cluster: ctr -n k8s.io images import.
func (c *Cluster) LoadImage(ctx context.Context, tarball string) error {
	if _, err := os.Stat(tarball); err != nil {
		return fmt.Errorf("load image: %w", err)
	}
	if _, err := c.ctr(ctx, "-n", "k8s.io", "images", "import", tarball); err != nil {
		return fmt.Errorf("load image %s: %w", tarball, err)
	}
	return nil
}

// Images lists image references in the node's k8s.io namespace.
func (c *Cluster) Images(ctx context.Context) ([]string, error) {
	out, err := c.ctr(ctx, "-n", "k8s.io", "images", "ls", "-q")
	if err != nil {
		return nil, err
	}
	return strings.Fields(out), nil
}

func (c *Cluster) ctr(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "/usr/bin/ctr", append([]string{"--address", c.ctrdSock}, args...)...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("ctr %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// killTasks kills and deletes every task (pod sandbox and container) of the
// node's containerd so no shim outlives the run.
func (c *Cluster) killTasks(ctx context.Context) {
	out, err := c.ctr(ctx, "-n", "k8s.io", "tasks", "ls", "-q")
	if err != nil {
		return
	}
	for _, id := range strings.Fields(out) {
		_, _ = c.ctr(ctx, "-n", "k8s.io", "tasks", "kill", "-s", "SIGKILL", id)
	}
	for _, id := range strings.Fields(out) {
		_ = wait.Until(ctx, "task "+id+" stopped", 10*time.Second, 200*time.Millisecond, func(ctx context.Context) (bool, error) {
			if _, err := c.ctr(ctx, "-n", "k8s.io", "tasks", "delete", id); err != nil {
				return false, wait.NotYet("%v", err)
			}
			return true, nil
		})
	}
}
