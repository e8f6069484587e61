package proc

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestReapOrphans(t *testing.T) {
	// A marker of the test's own, so that the test never reaps what a
	// crashed e2e run left (that is the harness's job, with OwnerEnv).
	const key = OwnerEnv + "_UNIT_TEST"
	// A pid that existed and is gone: the "dead harness".
	gone := exec.Command("/bin/true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	deadOwner := gone.Process.Pid
	dir := t.TempDir()
	// The orphan has a child without the marker (like a container under a
	// shim): it must go too. The child writes its pid to the log.
	orphan, err := Start(Spec{Name: "orphan", Path: "/bin/sh", Args: []string{"-c", "env -u " + key + " sleep 60 & echo child=$!; wait"},
		LogPath: filepath.Join(dir, "o.log"), Env: []string{key + "=" + strconv.Itoa(deadOwner)}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = orphan.Stop(time.Second) })
	mine, err := Start(Spec{Name: "mine", Path: "/bin/sleep", Args: []string{"60"}, LogPath: filepath.Join(dir, "m.log"),
		Env: []string{key + "=" + strconv.Itoa(os.Getpid())}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mine.Stop(time.Second) })

	// /proc/<pid>/environ is readable once the child has exec'd.
	deadline := time.Now().Add(5 * time.Second)
	var child int
	for child == 0 {
		if time.Now().After(deadline) {
			t.Fatal("orphan never reported its child")
		}
		if v, ok := strings.CutPrefix(Tail(filepath.Join(dir, "o.log"), 1), "child="); ok {
			child, _ = strconv.Atoi(v)
		}
	}
	var killed []int
	for !slices.Contains(killed, orphan.Pid()) {
		if time.Now().After(deadline) {
			t.Fatalf("ReapOrphans never killed the orphan (pid %d); killed %v", orphan.Pid(), killed)
		}
		killed = append(killed, ReapOrphans(key)...)
	}
	for !slices.Contains(killed, child) {
		if time.Now().After(deadline) {
			t.Fatalf("ReapOrphans never killed the orphan's child (pid %d); killed %v", child, killed)
		}
		killed = append(killed, ReapOrphans(key)...)
	}
	if slices.Contains(killed, mine.Pid()) {
		t.Fatal("ReapOrphans killed a process of the live harness")
	}
	select {
	case <-orphan.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("orphan still running after ReapOrphans")
	}
	if err := mine.Alive(); err != nil {
		t.Fatal(err)
	}
}
