//go:build unix

package subject

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestExec(t *testing.T) {
	tests := []struct {
		name    string
		src     Exec
		want    string
		wantIs  error
		wantErr []string
	}{
		{
			name: "prints a JWT, trimmed",
			src:  Exec{Command: []string{"sh", "-c", "printf '  %s\\n\\n' \"$TOK\""}, Env: []string{"TOK=" + freshJWT}},
			want: freshJWT,
		},
		{
			name: "no shell: arguments are passed as they are",
			src:  Exec{Command: []string{"printf", "%s", "$HOME;" + opaqueToken}},
			want: "$HOME;" + opaqueToken,
		},
		{
			name:    "fails with stderr",
			src:     Exec{Command: []string{"sh", "-c", "echo 'ERROR: (gcloud) You do not currently have an active account selected.' >&2; echo 'Please run: gcloud auth login' >&2; exit 3"}},
			wantErr: []string{"subject: exec sh (+2 args): exited with status 3; stderr: ERROR: (gcloud) You do not currently have an active account selected. Please run: gcloud auth login"},
		},
		{
			name:    "fails after printing a token, and echoes it on stderr",
			src:     Exec{Command: []string{"sh", "-c", `echo "$TOK"; echo "rejected $TOK, also $JWT" >&2; exit 1`}, Env: []string{"TOK=" + opaqueToken, "JWT=" + freshJWT}},
			wantErr: []string{"subject: exec sh (+2 args): exited with status 1; stderr: rejected [REDACTED], also [REDACTED]"},
		},
		{
			name:    "stderr is cut to its tail",
			src:     Exec{Command: []string{"sh", "-c", `i=0; while [ $i -lt 500 ]; do echo "noise line $i" >&2; i=$((i+1)); done; echo 'the real problem' >&2; exit 2`}},
			wantErr: []string{"subject: exec sh (+2 args): exited with status 2; stderr: …", "noise line 499 the real problem"},
		},
		{
			name:    "prints nothing",
			src:     Exec{Command: []string{"sh", "-c", "echo 'no cached credentials' >&2"}},
			wantIs:  ErrNoToken,
			wantErr: []string{"subject: exec sh (+2 args): printed nothing on stdout: no subject token; stderr: no cached credentials"},
		},
		{
			name:    "prints a log line before the token",
			src:     Exec{Command: []string{"sh", "-c", `echo "Fetching token..."; echo "$TOK"`}, Env: []string{"TOK=" + opaqueToken}},
			wantErr: []string{"subject: exec sh (+2 args): token has whitespace, a control character or invalid UTF-8 at byte 8; the command's stdout must hold exactly one token"},
		},
		{
			name:    "prints more than the limit",
			src:     Exec{Command: []string{"head", "-c", strconv.Itoa(MaxTokenSize + 1), "/dev/zero"}},
			wantErr: []string{"subject: exec head (+3 args): printed more than 64 KiB on stdout, the limit for a subject token"},
		},
		{
			name:    "killed by a signal",
			src:     Exec{Command: []string{"sh", "-c", "kill -TERM $$"}},
			wantErr: []string{"subject: exec sh (+2 args): ended: signal: terminated"},
		},
		{
			name:    "not found",
			src:     Exec{Command: []string{"fedtoken-no-such-command-here"}},
			wantIs:  exec.ErrNotFound,
			wantErr: []string{"subject: exec fedtoken-no-such-command-here: cannot run: exec: \"fedtoken-no-such-command-here\": executable file not found in $PATH"},
		},
		{
			name:    "no command",
			src:     Exec{},
			wantErr: []string{"subject: exec: no command configured"},
		},
		{
			name:    "expired token",
			src:     Exec{Command: []string{"sh", "-c", `echo "$TOK"`}, Env: []string{"TOK=" + expiredJWT}},
			wantErr: []string{"subject: exec sh: token expired at 2026-11-26T09:55:00Z (5m0s ago); the command printed an expired token"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.src.Now = fixedNow
			got, err := tt.src.SubjectToken(context.Background())
			if tt.wantErr != nil {
				assertErr(t, err, tt.wantIs, tt.wantErr...)
				assertNoSecret(t, err, freshJWT, expiredJWT, opaqueToken)
				if n := len(err.Error()); n > 600 {
					t.Errorf("error is %d bytes long; stderr must be summarised", n)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("token = %.30q…, want %.30q…", got, tt.want)
			}
		})
	}
}

func TestExecEnvironment(t *testing.T) {
	t.Setenv("FEDTOKEN_TEST_INHERITED", "inherited")
	t.Setenv("FEDTOKEN_TEST_OVERRIDDEN", "inherited")
	src := Exec{
		Command: []string{"sh", "-c", `printf %s "$FEDTOKEN_TEST_INHERITED-$FEDTOKEN_TEST_OVERRIDDEN"`},
		Env:     []string{"FEDTOKEN_TEST_OVERRIDDEN=set-by-env"},
	}
	got, err := src.SubjectToken(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := "inherited-set-by-env"; got != want {
		t.Errorf("token = %q, want %q", got, want)
	}
}

func TestExecTimeout(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pid")
	// The shell forks sleep and waits for it: killing only the shell
	// would leave sleep holding stdout open for 60 s.
	src := Exec{
		Command: []string{"sh", "-c", `sleep 60 & echo $! > "$PIDFILE"; wait`},
		Env:     []string{"PIDFILE=" + pidFile},
		Timeout: 200 * time.Millisecond,
	}
	start := time.Now()
	_, err := src.SubjectToken(context.Background())
	elapsed := time.Since(start)
	assertErr(t, err, context.DeadlineExceeded, "subject: exec sh (+2 args): timed out after 200ms and was killed")
	// Not a performance claim: sleep 60 ran to its end unless the kill worked.
	if elapsed > 30*time.Second {
		t.Errorf("the command was not killed: returned after %v", elapsed)
	}
	assertGone(t, pidFile)
}

func TestExecContextCancel(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "started")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	pidFile := filepath.Join(dir, "pid")
	src := Exec{
		// Opening the FIFO for writing blocks until the test opens it for
		// reading: the test knows the command runs without sleeping.
		Command: []string{"sh", "-c", `sleep 60 & echo $! > "$PIDFILE"; echo started > "$FIFO"; wait`},
		Env:     []string{"FIFO=" + fifo, "PIDFILE=" + pidFile},
		Timeout: time.Hour,
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	result := make(chan error, 1)
	go func() {
		_, err := src.SubjectToken(ctx)
		result <- err
	}()
	b, err := os.ReadFile(fifo)
	if err != nil || strings.TrimSpace(string(b)) != "started" {
		t.Fatalf("reading the FIFO: %q, %v", b, err)
	}
	cancel()
	err = <-result
	assertErr(t, err, context.Canceled, "subject: exec sh (+2 args): stopped: context canceled")
	assertGone(t, pidFile)
}

// assertGone checks that the process whose pid is in pidFile has been
// killed: gone, or a zombie waiting for its new parent to reap it.
func assertGone(t *testing.T, pidFile string) {
	t.Helper()
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("the command did not record its child: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "linux" {
		return // needs /proc to tell a zombie from a live process
	}
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
		if err != nil {
			return // reaped
		}
		// Field 3 of /proc/pid/stat, after "pid (comm)", is the state.
		if f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:])); len(f) > 0 && (f[0] == "Z" || f[0] == "X") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the command's child %d is still running: the process group was not killed", pid)
		}
		<-tick.C
	}
}
