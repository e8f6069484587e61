//go:build e2e

package local

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// CollectLogs implements cluster.Cluster: component logs, pod container logs
// (straight from the node's pod log dir), the rendered configs, and the
// API's view of nodes, pods and events.
func (c *Cluster) CollectLogs(ctx context.Context, dir string) error {
	if c.workDir == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("local: collect logs: %w", err)
	}
	for _, sub := range []string{"logs", "pod-logs"} {
		if err := copyTree(filepath.Join(c.workDir, sub), filepath.Join(dir, sub)); err != nil {
			return fmt.Errorf("local: collect %s: %w", sub, err)
		}
	}
	for _, f := range []string{"kubelet-config.yaml", "containerd/config.toml", "cni/net.d/10-fedtoken-e2e.conflist"} {
		_ = copyFile(filepath.Join(c.workDir, f), filepath.Join(dir, "config", filepath.Base(f)))
	}
	if c.client == nil {
		return nil
	}
	dump := map[string]func() (any, error){
		"nodes.yaml":  func() (any, error) { return c.client.CoreV1().Nodes().List(ctx, metav1.ListOptions{}) },
		"pods.yaml":   func() (any, error) { return c.client.CoreV1().Pods("").List(ctx, metav1.ListOptions{}) },
		"events.yaml": func() (any, error) { return c.client.CoreV1().Events("").List(ctx, metav1.ListOptions{}) },
	}
	for name, get := range dump {
		obj, err := get()
		if err != nil {
			_ = os.WriteFile(filepath.Join(dir, name), []byte("error: "+err.Error()+"\n"), 0o644)
			continue
		}
		data, err := yaml.Marshal(obj)
		if err != nil {
			continue
		}
		_ = os.WriteFile(filepath.Join(dir, name), data, 0o644)
	}
	return nil
}

func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() && d.Type()&fs.ModeSymlink == 0 {
			return nil
		}
		return copyFile(path, target)
	})
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
