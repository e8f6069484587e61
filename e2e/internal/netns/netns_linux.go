package netns

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// IDOf reads the namespace a path refers to: /proc/<pid>/ns/net or Path(name).
func IDOf(path string) (ID, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return ID{}, fmt.Errorf("netns: stat %s: %w", path, err)
	}
	return ID{Dev: uint64(st.Dev), Ino: st.Ino}, nil
}

// Self is the namespace of this process (its main thread).
func Self() (ID, error) { return IDOf("/proc/self/ns/net") }

// Create makes the named namespace and brings its loopback up. It holds
// nothing else: no route and no interface leads out of it.
func Create(ctx context.Context, name string) error {
	if _, err := ip(ctx, "netns", "add", name); err != nil {
		return err
	}
	if _, err := ip(ctx, "-n", name, "link", "set", "lo", "up"); err != nil {
		_ = Delete(context.WithoutCancel(ctx), name)
		return err
	}
	return nil
}

// Delete removes the namespace's name; the namespace itself goes when the
// last process in it exits.
func Delete(ctx context.Context, name string) error {
	_, err := ip(ctx, "netns", "delete", name)
	return err
}

// RemoveStale deletes the namespaces of runs whose creating process is gone
// (killed with SIGKILL, say) and returns their names.
func RemoveStale(ctx context.Context) []string {
	entries, _ := os.ReadDir(Dir)
	var removed []string
	for _, e := range entries {
		pid, ok := stalePID(e.Name())
		if !ok || alive(pid) {
			continue
		}
		if err := Delete(ctx, e.Name()); err == nil {
			removed = append(removed, e.Name())
		}
	}
	return removed
}

func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// Nsenter is util-linux's nsenter, which Command runs.
const Nsenter = "/usr/bin/nsenter"

// Command returns a command that runs path with args inside the named
// namespace: nsenter enters the network namespace only, then execs path
// (same pid, same mounts). Only the new process and what it starts are
// inside; this process stays where it is.
//
// Not `ip netns exec`: it also unshares the mount namespace and mounts a new
// /sys, which hides the cgroup hierarchy under /sys/fs/cgroup that the
// kubelet and containerd need. Not setns(2) on a locked thread of this
// process either: Go may run that goroutine on the main thread, which then
// stays in the namespace for good.
func Command(name, path string, args ...string) *exec.Cmd {
	return exec.Command(Nsenter, append([]string{"--net=" + Path(name), "--", path}, args...)...)
}

// Inside returns an error unless this process runs in the named namespace
// (and that namespace is not the one of pid 1, the host's).
func Inside(name string) error {
	self, err := Self()
	if err != nil {
		return err
	}
	want, err := IDOf(Path(name))
	if err != nil {
		return err
	}
	if self != want {
		return fmt.Errorf("netns: this process is in %s, not in network namespace %s (%s)", self, name, want)
	}
	if host, err := IDOf("/proc/1/ns/net"); err == nil && host == self {
		return fmt.Errorf("netns: %s is the host's network namespace", name)
	}
	return nil
}

// Outside scans /proc for the processes whose environment holds Env=name:
// it returns their pids and those of them whose network namespace is
// forbidden (the host's, for a run that must stay in its own).
func Outside(name string, forbidden ID) (members []int, outside []Proc) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, nil
	}
	marker := []byte(Env + "=" + name)
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		dir := filepath.Join("/proc", e.Name())
		env, err := os.ReadFile(filepath.Join(dir, "environ"))
		if err != nil || !hasVar(env, marker) {
			continue
		}
		id, err := IDOf(filepath.Join(dir, "ns", "net"))
		if err != nil {
			continue // exited meanwhile
		}
		members = append(members, pid)
		if id == forbidden {
			comm, _ := os.ReadFile(filepath.Join(dir, "comm"))
			outside = append(outside, Proc{Pid: pid, Comm: strings.TrimSpace(string(comm))})
		}
	}
	return members, outside
}

// Entering reports whether p is the nsenter that launches a run (pid
// launcher) and has not yet entered the namespace: it carries the run's
// environment from its start but is in the host's namespace until its
// setns, after which it execs the run and its name changes.
func (p Proc) Entering(launcher int) bool {
	return p.Pid == launcher && p.Comm == filepath.Base(Nsenter)
}

func ip(ctx context.Context, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "/usr/sbin/ip", args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}
