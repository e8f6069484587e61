//go:build unix

package fedtoken_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fedtoken/fedtoken/cli/internal/exitcode"
)

// TestSubjectReadsGoThroughCore: inspect and doctor read the subject token
// through core, with the checks every grant applies. A FIFO at the token
// path is refused at once (os.Open on it used to block for ever), a file
// holding two tokens is refused naming the line break, and an expired
// token from an exec source is shown rather than refused, as an expired
// file always was.
func TestSubjectReadsGoThroughCore(t *testing.T) {
	h := newHarness(t)
	h.now = func() time.Time { return fixedNow }
	fifo := filepath.Join(h.dir, "fifo-token")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	valid := projectedToken(t, time.Date(2026, 11, 26, 16, 26, 4, 0, time.UTC).Unix())
	h.writeFile("two-tokens", valid+"\n"+valid+"\n")
	// Expired by the real clock, which the subject sources use.
	h.writeFile("expired.jwt", projectedToken(t, time.Date(2026, 11, 26, 16, 19, 0, 0, time.UTC).Unix()))
	cat, err := exec.LookPath("cat")
	if err != nil {
		t.Skip("no cat")
	}
	h.config = h.writeConfig(`providers:
  fifo:
    issuer: {{IDP}}
    clientId: k8s-runner
    authFlow: jwt_bearer
    subjectTokenSource: {type: kubernetes_sa, tokenPath: {{DIR}}/fifo-token}
  two:
    issuer: {{IDP}}
    clientId: k8s-runner
    authFlow: jwt_bearer
    subjectTokenSource: {type: file, path: {{DIR}}/two-tokens}
  expired-exec:
    issuer: {{IDP}}
    clientId: k8s-runner
    authFlow: jwt_bearer
    subjectTokenSource: {type: exec, command: [` + cat + `, {{DIR}}/expired.jwt]}
`)

	refused := []struct {
		name string
		args []string
		want []string
	}{
		{"inspect fifo provider", []string{"inspect", "fifo"}, []string{"FIFO", "not a regular file"}},
		{"inspect --file fifo", []string{"inspect", "--file", fifo}, []string{"FIFO", "not a regular file"}},
		{"doctor fifo provider", []string{"doctor", "fifo"}, []string{"FIFO", "not a regular file"}},
		{"inspect two tokens", []string{"inspect", "two"}, []string{"spans several lines"}},
		{"doctor two tokens", []string{"doctor", "two"}, []string{"spans several lines"}},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			r := runBounded(t, h, fifo, tt.args...)
			if r.code != exitcode.Subject {
				t.Errorf("exit %d, want %d (subject token)", r.code, exitcode.Subject)
			}
			out := r.stdout + r.stderr
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if strings.Contains(out, valid[:40]) {
				t.Error("the output shows the token")
			}
		})
	}

	t.Run("inspect expired exec token", func(t *testing.T) {
		r := runBounded(t, h, fifo, "inspect", "expired-exec")
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		for _, w := range []string{"provider expired-exec subject token, exec " + cat, "sub               system:serviceaccount:ai-jobs:opencode-runner", "EXPIRED 1m ago"} {
			if !strings.Contains(r.stdout, w) {
				t.Errorf("output lacks %q:\n%s", w, r.stdout)
			}
		}
	})
}

// runBounded runs fedtoken and fails the test if it has not returned
// within a minute; a reader stuck on the FIFO is then released.
func runBounded(t *testing.T, h *harness, fifo string, args ...string) result {
	t.Helper()
	done := make(chan result, 1)
	go func() { done <- h.run(args...) }()
	select {
	case r := <-done:
		return r
	case <-time.After(time.Minute):
		if f, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
		t.Fatalf("fedtoken %s did not return within a minute (blocked on the FIFO?)", strings.Join(args, " "))
		return result{}
	}
}
