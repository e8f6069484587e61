package proc

import "syscall"

// sysProcAttr puts the child in its own process group (Stop signals the whole
// group, e.g. kc.sh and its java) and kills it if the harness dies.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
