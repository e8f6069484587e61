//go:build unix

package subject

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
)

// killProcessGroup runs the command in its own process group and kills
// the whole group on timeout or cancellation, so a shell's children
// (`sh -c 'sleep 60; …'`) die with it instead of holding stdout open.
func killProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		if errors.Is(err, syscall.ESRCH) {
			return os.ErrProcessDone
		}
		return err
	}
}
