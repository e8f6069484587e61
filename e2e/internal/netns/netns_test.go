//go:build linux

package netns

import (
	"context"
	"os"
	"os/exec"
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
	cmd := exec.Command("sleep", "60")
	cmd.Env = append(os.Environ(), env)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
	})
	return cmd.Process.Pid
}
