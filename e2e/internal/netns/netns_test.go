//go:build linux

package netns

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestNameRoundTrip(t *testing.T) {
	pid, ok := stalePID(Name(4242))
	if !ok || pid != 4242 {
		t.Fatalf("stalePID(%q) = %d, %v; want 4242, true", Name(4242), pid, ok)
	}
	for _, n := range []string{"cni-1234", Prefix, Prefix + "x", Prefix + "-3", "fedtoken0"} {
		if _, ok := stalePID(n); ok {
			t.Errorf("stalePID(%q) accepted a name Name does not make", n)
		}
	}
}

// A process carrying the marker in this (host) namespace is reported;
// one without the marker is not.
func TestOutsideFindsMarkedProcessesInTheForbiddenNamespace(t *testing.T) {
	name := "unit-" + Name(os.Getpid())
	marked := startSleep(t, Env+"="+name)
	unmarked := startSleep(t, Env+"="+name+"-other")
	self, err := Self()
	if err != nil {
		t.Fatal(err)
	}
	members, outside := Outside(name, self)
	if !slices.Contains(members, marked) || slices.Contains(members, unmarked) {
		t.Fatalf("members = %v; want %d and not %d", members, marked, unmarked)
	}
	if len(outside) != 1 || outside[0].Pid != marked || outside[0].Comm != "sleep" {
		t.Fatalf("outside = %v; want only pid %d (sleep)", outside, marked)
	}
	if _, outside := Outside(name, ID{}); len(outside) != 0 {
		t.Fatalf("outside of an unrelated namespace = %v; want none", outside)
	}
}

// The launcher is still named nsenter before it enters the namespace: that
// one process, and only while it has that name, is not a breach.
func TestEnteringExemptsOnlyTheLauncherBeforeItEnters(t *testing.T) {
	name := "unit-" + Name(os.Getpid())
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Fatal(err)
	}
	launcherPath := filepath.Join(t.TempDir(), filepath.Base(Nsenter)) // comm is the name exec'd
	if err := os.Symlink(sleep, launcherPath); err != nil {
		t.Fatal(err)
	}
	launcher := startProc(t, launcherPath, Env+"="+name)
	other := startProc(t, sleep, Env+"="+name)
	self, err := Self()
	if err != nil {
		t.Fatal(err)
	}
	_, outside := Outside(name, self)
	byPid := map[int]Proc{}
	for _, p := range outside {
		byPid[p.Pid] = p
	}
	if p, ok := byPid[launcher]; !ok || p.Comm != "nsenter" || !p.Entering(launcher) {
		t.Fatalf("launcher %d: %+v, %v; want reported as nsenter and Entering", launcher, p, ok)
	}
	if p := byPid[launcher]; p.Entering(other) {
		t.Fatalf("%+v is Entering for launcher %d, which is another process", p, other)
	}
	if p, ok := byPid[other]; !ok || p.Entering(other) {
		t.Fatalf("sleep %d: %+v, %v; want reported and not Entering (it is not nsenter)", other, p, ok)
	}
}

func TestInsideRefusesTheWrongNamespace(t *testing.T) {
	err := Inside("no-such-namespace-" + Name(os.Getpid()))
	if err == nil || !strings.Contains(err.Error(), Path("no-such-namespace-"+Name(os.Getpid()))) {
		t.Fatalf("Inside(missing) = %v; want an error naming %s", err, Dir)
	}
}

// Needs root: a real namespace, a process run inside it that sees only
// loopback, and the namespace deleted afterwards.
func TestCreateRunDelete(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("creating a network namespace needs root")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	name := Name(os.Getpid()) // RemoveStale deletes it if this test is killed
	if err := Create(ctx, name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = Delete(context.Background(), name) })
	host, err := Self()
	if err != nil {
		t.Fatal(err)
	}
	want, err := IDOf(Path(name))
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	cmd := Command(name, "/bin/sh", "-c", "readlink /proc/self/ns/net && /usr/sbin/ip -o link show")
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if lines[0] != want.String() {
		t.Fatalf("child ran in %s; want %s (%s)", lines[0], name, want)
	}
	if links := lines[1:]; len(links) != 1 || !strings.Contains(links[0], ": lo: ") || !strings.Contains(links[0], ",UP") {
		t.Fatalf("links inside %s = %q; want loopback only, up", name, links)
	}
	if after, _ := Self(); after != host {
		t.Fatalf("this process moved from %s to %s", host, after)
	}
	if err := Delete(ctx, name); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(Path(name)); !os.IsNotExist(err) {
		t.Fatalf("%s still there after Delete: %v", Path(name), err)
	}
}

func startSleep(t *testing.T, env string) int {
	t.Helper()
	return startProc(t, "sleep", env)
}

func startProc(t *testing.T, path, env string) int {
	t.Helper()
	cmd := exec.Command(path, "60")
	cmd.Env = append(os.Environ(), env)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
	})
	// Start returns once the child has switched to its new memory, a moment
	// before the kernel records where its environment is: until then
	// /proc/<pid>/environ reads empty.
	pid := cmd.Process.Pid
	for deadline := time.Now().Add(10 * time.Second); ; {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		if err == nil && hasVar(b, []byte(env)) {
			return pid
		}
		if time.Now().After(deadline) {
			t.Fatalf("pid %d: %s not in its environment after 10s (%v)", pid, env, err)
		}
		runtime.Gosched()
	}
}
