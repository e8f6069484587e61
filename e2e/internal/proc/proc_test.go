package proc

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestStartStopAndAlive(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name      string
		script    string
		wantAlive bool
		wantLog   string
	}{
		{"long running, stopped by SIGTERM", "echo started; exec sleep 60", true, "started"},
		{"ignores SIGTERM, killed", "trap '' TERM; echo stubborn; while :; do sleep 1; done", true, "stubborn"},
		{"exits by itself", "echo boom >&2; exit 3", false, "boom"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logPath := filepath.Join(dir, tt.name+".log")
			p, err := Start(Spec{Name: "sh" + string(rune('a'+i)), Path: "/bin/sh", Args: []string{"-c", tt.script}, LogPath: logPath})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = p.Stop(time.Second) })
			if !tt.wantAlive {
				select {
				case <-p.Done():
				case <-time.After(10 * time.Second):
					t.Fatal("process did not exit within 10s")
				}
				err := p.Alive()
				if err == nil || !strings.Contains(err.Error(), "exited") || !strings.Contains(err.Error(), tt.wantLog) {
					t.Fatalf("Alive() = %v, want exit with log tail %q", err, tt.wantLog)
				}
				return
			}
			deadline := time.Now().Add(10 * time.Second)
			for !strings.Contains(Tail(logPath, 5), tt.wantLog) {
				if time.Now().After(deadline) {
					t.Fatalf("log never showed %q", tt.wantLog)
				}
				select {
				case <-p.Done():
					t.Fatalf("exited early: %v", p.Alive())
				case <-time.After(10 * time.Millisecond):
				}
			}
			if err := p.Alive(); err != nil {
				t.Fatal(err)
			}
			if err := p.Stop(200 * time.Millisecond); err != nil {
				t.Fatal(err)
			}
			if p.Alive() == nil {
				t.Fatal("still alive after Stop")
			}
		})
	}
}

func TestStartErrors(t *testing.T) {
	if _, err := Start(Spec{Name: "x"}); err == nil {
		t.Error("want error for missing Path/LogPath")
	}
	_, err := Start(Spec{Name: "nope", Path: "/nonexistent/bin", LogPath: filepath.Join(t.TempDir(), "l")})
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/bin") {
		t.Errorf("err = %v, want it to name the path", err)
	}
}

func TestTail(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte("a\nb\nc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := Tail(p, 2); got != "b\nc" {
		t.Errorf("Tail = %q", got)
	}
	if got := Tail(p+"missing", 2); got != "" {
		t.Errorf("Tail(missing) = %q", got)
	}
}
