package app

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkIdleRSS builds the real binary (CGO_ENABLED=0), runs it with the
// seed's single-provider opencode.json against a loopback IdP, one proxy,
// the token endpoint and the probe listener, waits until /readyz passes and
// reports its resident memory (Linux /proc only) and how long it took from
// exec to ready.
//
//	go test -run '^$' -bench IdleRSS -benchtime 1x ./internal/app/
func BenchmarkIdleRSS(b *testing.B) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		b.Skip("needs /proc")
	}
	dir := b.TempDir()
	bin := filepath.Join(dir, "fedtoken-sidecar")
	build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "../../cmd/fedtoken-sidecar")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}

	subject, _ := subjectJWT(b)
	idp := newIdP(b, subject)
	cfg := writeConfig(b, dir, idp.URL, "https://api.example.com/v1", subject)
	cmd := exec.Command(bin, "--config", cfg, "--proxy", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--health-addr", "127.0.0.1:0", "--log-level", "info")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		b.Fatal(err)
	}
	started := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	}()
	// The JSON log says where each listener is, then that a token was acquired.
	health := ""
	deadline := time.Now().Add(20 * time.Second)
	sc := bufio.NewScanner(stderr)
	for sc.Scan() && time.Now().Before(deadline) {
		line := sc.Text()
		if strings.Contains(line, `"listener":"health"`) {
			if i := strings.Index(line, `"addr":"`); i >= 0 {
				health = strings.SplitN(line[i+8:], `"`, 2)[0]
			}
		}
		if strings.Contains(line, `"msg":"token acquired"`) {
			break
		}
	}
	go func() { // keep draining the log
		for sc.Scan() {
		}
	}()
	if health == "" {
		b.Fatal("the sidecar never logged its health listener or a token")
	}
	for {
		if readyz(health) {
			break
		}
		if time.Now().After(deadline) {
			b.Fatal("the sidecar never became ready")
		}
		time.Sleep(time.Millisecond) // polling with a deadline
	}
	ready := time.Since(started)
	rss, hwm := procStatus(b, cmd.Process.Pid)
	for b.Loop() {
	}
	b.ReportMetric(float64(rss)/1024, "RSS-MiB")
	b.ReportMetric(float64(hwm)/1024, "peak-RSS-MiB")
	// From exec to the first 200 from /readyz (1 ms polling): start-up, one
	// token from the loopback IdP, listeners up.
	b.ReportMetric(float64(ready.Microseconds())/1e3, "start-to-ready-ms")
	if fi, err := os.Stat(bin); err == nil {
		b.ReportMetric(float64(fi.Size())/(1<<20), "binary-MiB")
	}
}

// procStatus returns VmRSS and VmHWM in KiB.
func procStatus(b *testing.B, pid int) (rss, hwm int64) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		v, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			rss = v
		case "VmHWM:":
			hwm = v
		}
	}
	return rss, hwm
}

// readyz reports whether GET /readyz on addr answers 200.
func readyz(addr string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/readyz", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}
