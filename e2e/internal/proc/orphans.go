package proc

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// OwnerEnv marks every process Start runs (and what those processes start
// in turn, such as Keycloak's java or containerd's shims) with the pid of
// the harness that owns it.
const OwnerEnv = "FEDTOKEN_E2E_OWNER"

// ReapOrphans kills, by pid, the processes a previous harness started and
// left behind when it died without stopping them (killed test binary, go
// test -timeout): those whose OwnerEnv names a pid that no longer exists,
// and their descendants (the containers under a containerd shim). It
// returns the pids it killed. Processes of a live harness are untouched.
// key is the marker variable, OwnerEnv outside of tests.
func ReapOrphans(key string) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int][]int{}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		pids = append(pids, pid)
		if ppid := parentPID(pid); ppid > 0 {
			children[ppid] = append(children[ppid], pid)
		}
	}
	var killed []int
	var kill func(pid int)
	kill = func(pid int) {
		if syscall.Kill(pid, syscall.SIGKILL) == nil {
			killed = append(killed, pid)
		}
		for _, c := range children[pid] {
			kill(c)
		}
	}
	prefix := []byte(key + "=")
	for _, pid := range pids {
		name := strconv.Itoa(pid)
		env, err := os.ReadFile(filepath.Join("/proc", name, "environ"))
		if err != nil {
			continue
		}
		for _, kv := range bytes.Split(env, []byte{0}) {
			owner, ok := bytes.CutPrefix(kv, prefix)
			if !ok {
				continue
			}
			ownerPID, err := strconv.Atoi(string(owner))
			if err != nil || ownerPID <= 0 || alive(ownerPID) {
				break
			}
			kill(pid)
			break
		}
	}
	return killed
}

// parentPID reads the ppid field of /proc/<pid>/stat (0 if unreadable).
func parentPID(pid int) int {
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0
	}
	// "pid (comm) state ppid …"; comm may contain spaces and parentheses.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0
	}
	fields := bytes.Fields(stat[i+1:])
	if len(fields) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(string(fields[1]))
	return ppid
}

func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
