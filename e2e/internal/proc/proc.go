// Package proc runs the harness's long-lived child processes (etcd,
// kube-apiserver, kubelet, containerd, Keycloak, Dex): each in its own process
// group, its output in a log file, stopped with SIGTERM then SIGKILL after a
// deadline.
package proc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Spec describes a process to start.
type Spec struct {
	Name    string   // short name for errors and the log file ("kube-apiserver")
	Path    string   // executable
	Args    []string // arguments, without argv[0]
	Env     []string // extra environment (appended to os.Environ())
	Dir     string   // working directory; "" = current
	LogPath string   // stdout+stderr go here (created, truncated)
}

// Process is a running child.
type Process struct {
	spec Spec
	cmd  *exec.Cmd
	log  *os.File
	done chan struct{}

	mu  sync.Mutex
	err error // from Wait, valid once done is closed
}

// Start starts the process described by s.
func Start(s Spec) (*Process, error) {
	if s.Name == "" || s.Path == "" || s.LogPath == "" {
		return nil, errors.New("proc: Spec needs Name, Path and LogPath")
	}
	logf, err := os.Create(s.LogPath)
	if err != nil {
		return nil, fmt.Errorf("proc: %s: create log: %w", s.Name, err)
	}
	cmd := exec.Command(s.Path, s.Args...)
	cmd.Env = append(append(os.Environ(), OwnerEnv+"="+strconv.Itoa(os.Getpid())), s.Env...)
	cmd.Dir = s.Dir
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		return nil, fmt.Errorf("proc: start %s (%s): %w", s.Name, s.Path, err)
	}
	p := &Process{spec: s, cmd: cmd, log: logf, done: make(chan struct{})}
	go func() {
		err := cmd.Wait()
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		_ = logf.Close()
		close(p.done)
	}()
	return p, nil
}

// Name is the process's short name.
func (p *Process) Name() string { return p.spec.Name }

// LogPath is where its output goes.
func (p *Process) LogPath() string { return p.spec.LogPath }

// Pid is the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Alive returns nil while the process runs, else an error naming its exit
// status and the last lines of its log, so a readiness wait fails at once
// with the reason instead of timing out.
func (p *Process) Alive() error {
	select {
	case <-p.done:
		p.mu.Lock()
		err := p.err
		p.mu.Unlock()
		return fmt.Errorf("%s exited (%v); last log lines from %s:\n%s", p.spec.Name, err, p.spec.LogPath, Tail(p.spec.LogPath, 20))
	default:
		return nil
	}
}

// Stop sends SIGTERM to the process group and waits up to grace, then sends
// SIGKILL and waits up to another grace. It returns an error only if the
// process could not be stopped; a non-zero exit after SIGTERM is expected.
func (p *Process) Stop(grace time.Duration) error {
	select {
	case <-p.done:
		return nil
	default:
	}
	pgid := -p.cmd.Process.Pid
	_ = syscall.Kill(pgid, syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(grace):
	}
	_ = syscall.Kill(pgid, syscall.SIGKILL)
	select {
	case <-p.done:
		return nil
	case <-time.After(grace):
		return fmt.Errorf("proc: %s (pid %d) did not exit %s after SIGKILL", p.spec.Name, p.cmd.Process.Pid, grace)
	}
}

// Tail returns up to n last lines of the file at path ("" if unreadable).
func Tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	const max = 64 << 10
	if st, err := f.Stat(); err == nil && st.Size() > max {
		_, _ = f.Seek(st.Size()-max, io.SeekStart)
	}
	data, _ := io.ReadAll(f)
	data = bytes.TrimRight(data, "\n")
	lines := strings.Split(string(data), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
