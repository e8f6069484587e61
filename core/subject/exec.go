package subject

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// DefaultExecTimeout bounds a command when Exec.Timeout is zero, and is
// the timeout configuration applies to an exec source that sets none.
const DefaultExecTimeout = 10 * time.Second

// maxStderr is how much of a command's stderr is kept (its tail).
const maxStderr = 4 << 10

// waitDelay bounds how long Exec waits for a killed command's output
// pipes to close (a grandchild may still hold them).
const waitDelay = 2 * time.Second

// Exec runs a command that prints the token on stdout, e.g.
// `gcloud auth print-identity-token --audiences=…`.
//
// It does not cache: every call runs the command. The command runs
// directly, without a shell, with stdin empty and the environment of
// the process plus Env. It is killed when Timeout passes or ctx ends.
type Exec struct {
	// Command is the program and its arguments.
	Command []string
	// Timeout bounds one run; zero means DefaultExecTimeout.
	Timeout time.Duration
	// Env holds KEY=VALUE entries added to the inherited environment
	// (a later entry wins over an inherited one).
	Env []string
	// Now is the clock of the expiry check; nil means time.Now.
	Now func() time.Time
	// Leeway tolerates clock skew: the token counts as expired once
	// Now() is past exp + Leeway. Zero means none.
	Leeway time.Duration
}

// SubjectToken runs the command.
func (s Exec) SubjectToken(ctx context.Context) (string, error) {
	return subjectToken(ctx, s)
}

// String returns "exec <program>" and how many arguments follow; the
// arguments themselves may hold credentials and are not shown.
func (s Exec) String() string {
	switch len(s.Command) {
	case 0:
		return TypeExec + " (no command)"
	case 1:
		return TypeExec + " " + s.Command[0]
	case 2:
		return TypeExec + " " + s.Command[0] + " (+1 arg)"
	default:
		return fmt.Sprintf("%s %s (+%d args)", TypeExec, s.Command[0], len(s.Command)-1)
	}
}

func (s Exec) expiry() expiryCheck {
	var path string
	if len(s.Command) > 0 {
		path = s.Command[0]
	}
	return expiryCheck{source: TypeExec, path: path, now: s.Now, leeway: s.Leeway}
}

func (s Exec) timeout() time.Duration {
	if s.Timeout <= 0 {
		return DefaultExecTimeout
	}
	return s.Timeout
}

func (s Exec) read(ctx context.Context) (string, error) {
	if len(s.Command) == 0 || s.Command[0] == "" {
		return "", fmt.Errorf("subject: exec: no command configured")
	}
	runCtx, cancel := context.WithTimeout(ctx, s.timeout())
	defer cancel()

	cmd := exec.CommandContext(runCtx, s.Command[0], s.Command[1:]...)
	if len(s.Env) > 0 {
		cmd.Env = append(os.Environ(), s.Env...)
	}
	stdout := &headBuffer{max: MaxTokenSize}
	stderr := &tailBuffer{max: maxStderr}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.WaitDelay = waitDelay
	killProcessGroup(cmd)

	err := cmd.Run()
	out := string(stdout.buf)
	switch {
	case ctx.Err() != nil:
		return "", sourceError(s, "stopped: %w%s", ctx.Err(), stderrSummary(stderr, out))
	case errors.Is(runCtx.Err(), context.DeadlineExceeded):
		return "", sourceError(s, "timed out after %s and was killed: %w%s", s.timeout(), context.DeadlineExceeded, stderrSummary(stderr, out))
	case err != nil:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", sourceError(s, "%s%s", exitStatus(ee), stderrSummary(stderr, out))
		}
		return "", sourceError(s, "cannot run: %w", err)
	case stdout.over:
		return "", sourceError(s, "printed more than %d KiB on stdout, the limit for a subject token", MaxTokenSize>>10)
	case strings.TrimSpace(out) == "":
		return "", sourceError(s, "printed nothing on stdout: %w%s", ErrNoToken, stderrSummary(stderr, out))
	}
	return cleanToken(s, out, "printed nothing on stdout")
}

func exitStatus(ee *exec.ExitError) string {
	if code := ee.ExitCode(); code >= 0 {
		return fmt.Sprintf("exited with status %d", code)
	}
	return "ended: " + ee.ProcessState.String()
}

// stderrSummary formats the tail of stderr for an error, with whatever
// the command printed on stdout (possibly a token) and anything
// token-shaped redacted.
func stderrSummary(stderr *tailBuffer, stdout string) string {
	if len(stderr.buf) == 0 {
		return ""
	}
	if s := summarise(stderr.buf, strings.Fields(stdout)...); s != "" {
		return "; stderr: " + s
	}
	return ""
}

// headBuffer keeps the first max bytes written and notes overflow. It
// never fails a write, so the command is not killed by a broken pipe.
type headBuffer struct {
	buf  []byte
	max  int
	over bool
}

func (b *headBuffer) Write(p []byte) (int, error) {
	n := len(p)
	if room := b.max - len(b.buf); n > room {
		b.over = true
		p = p[:max(room, 0)]
	}
	b.buf = append(b.buf, p...)
	return n, nil
}

// tailBuffer keeps the last max bytes written.
type tailBuffer struct {
	buf []byte
	max int
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	n := len(p)
	b.buf = append(b.buf, p...)
	if len(b.buf) > b.max {
		b.buf = append(b.buf[:0], b.buf[len(b.buf)-b.max:]...)
	}
	return n, nil
}
