package netns

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// Name is the namespace name for a run whose creating process is pid.
func Name(pid int) string { return Prefix + strconv.Itoa(pid) }

// Path is the file naming the namespace (a bind mount of its nsfs inode).
func Path(name string) string { return filepath.Join(Dir, name) }

// ID identifies a network namespace (device and inode of its nsfs file).
type ID struct{ Dev, Ino uint64 }

func (id ID) String() string { return fmt.Sprintf("net:[%d]", id.Ino) }

// stalePID parses a name made by Name.
func stalePID(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, Prefix)
	if !ok {
		return 0, false
	}
	pid, err := strconv.Atoi(rest)
	return pid, err == nil && pid > 0
}

// Proc is a process found by Outside.
type Proc struct {
	Pid  int
	Comm string
}

func (p Proc) String() string { return fmt.Sprintf("pid %d (%s)", p.Pid, p.Comm) }

// hasVar reports whether the NUL-separated environment env holds kv exactly.
func hasVar(env, kv []byte) bool {
	for _, v := range bytes.Split(env, []byte{0}) {
		if bytes.Equal(v, kv) {
			return true
		}
	}
	return false
}
