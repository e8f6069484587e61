//go:build unix

package app

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets a test run this package's Main in a child process.
func TestMain(m *testing.M) {
	if os.Getenv("FEDTOKEN_APP_TEST_MAIN") == "1" {
		os.Args = append([]string{"fedtoken"}, strings.Fields(os.Getenv("FEDTOKEN_APP_TEST_ARGS"))...)
		Main()
	}
	os.Exit(m.Run())
}

// TestConfigFIFONeverWedgesTheCLI is W4 for the CLI: `--config <fifo>`
// used to block in open forever and ignore SIGTERM. Now the FIFO is
// refused at once; and should anything block, SIGTERM still ends the run.
func TestConfigFIFONeverWedgesTheCLI(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "config.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	child := exec.Command(self, "-test.run=^$")
	child.Env = append(os.Environ(), "FEDTOKEN_APP_TEST_MAIN=1",
		"FEDTOKEN_APP_TEST_ARGS=--config "+fifo+" --cache-dir "+filepath.Join(dir, "cache")+" token")
	child.Stderr = &stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- child.Wait() }()
	var writer *os.File
	defer func() {
		if writer != nil {
			writer.Close()
		}
	}()
	deadline := time.Now().Add(20 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for writer == nil {
		select {
		case err := <-exited:
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 3 || !strings.Contains(stderr.String(), "not a regular file") {
				t.Fatalf("fedtoken --config <fifo>: %v, stderr %q; want exit status 3 naming a non-regular file", err, stderr.String())
			}
			return
		case <-tick.C:
		}
		if time.Now().After(deadline) {
			child.Process.Kill()
			t.Fatal("fedtoken neither refused the FIFO nor opened it within 20s")
		}
		// A non-blocking open for writing succeeds once the child has the
		// FIFO open for reading: it is then stuck reading it.
		writer, _ = os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0)
	}
	child.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(15 * time.Second):
		child.Process.Kill()
		t.Fatal("fedtoken ignored SIGTERM while reading a FIFO")
	}
}
