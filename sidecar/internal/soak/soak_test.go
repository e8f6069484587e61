//go:build soak

package soak

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Soak parameters. The access token lives 20 s, so the sidecar replaces it
// every 5 s (half its usable life); projected tokens live 8 s and the
// kubelet (mockidp) rewrites them at 80 %, every 6.4 s.
const (
	accessTokenLife = 20 * time.Second
	refreshEvery    = 5 * time.Second
	subjectLife     = 8 * time.Second
	faultEvery      = 20 * time.Second
	workers         = 4
	requestPace     = 20 * time.Millisecond // per worker: 200 requests/s in all
)

// faults are injected in turn on the IdP's token endpoint, one every
// faultEvery; each Count bounds the extra IdP requests it may cause.
var faults = []map[string]any{
	{"type": "status", "status": 503, "count": 2},
	{"type": "drop", "count": 2},
	{"type": "rate_limit", "retryAfter": "1s", "count": 1},
	{"type": "malformed_json", "count": 1},
	{"type": "latency", "delay": "2s", "count": 1},
	{"type": "oauth_error", "error": "invalid_grant", "description": "soak", "count": 1},
	{"type": "missing_access_token", "count": 1},
}

func duration(t *testing.T) time.Duration {
	if v := os.Getenv("FEDTOKEN_SOAK_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("FEDTOKEN_SOAK_DURATION: %v", err)
		}
		return d
	}
	return 3 * time.Minute
}

// proc is a started binary whose stderr (its log) goes to a file and whose
// stdout lines are delivered on lines.
type proc struct {
	cmd   *exec.Cmd
	lines chan string
}

func start(t *testing.T, logDir, name string, args ...string) *proc {
	t.Helper()
	bin := filepath.Join(os.Getenv("FEDTOKEN_SOAK_BIN"), name)
	logf, err := os.Create(filepath.Join(logDir, name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logf.Close() })
	cmd := exec.Command(bin, args...)
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s (run make build first): %v", bin, err)
	}
	p := &proc{cmd: cmd, lines: make(chan string, 100)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			select {
			case p.lines <- sc.Text():
			default:
			}
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	return p
}

// waitLine returns the first stdout line starting with prefix.
func (p *proc) waitLine(t *testing.T, prefix string) string {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case l := <-p.lines:
			if strings.HasPrefix(l, prefix) {
				return l
			}
		case <-deadline:
			t.Fatalf("no %q line within 30s", prefix)
		}
	}
}

// listenAddr reads a listener's address from the sidecar's JSON log.
func listenAddr(t *testing.T, logPath, listener string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(logPath)
		for _, line := range bytes.Split(b, []byte("\n")) {
			var rec struct{ Msg, Listener, Addr string }
			if json.Unmarshal(line, &rec) == nil && rec.Msg == "listening" && rec.Listener == listener {
				return rec.Addr
			}
		}
		time.Sleep(20 * time.Millisecond) // polling a log file with a deadline
	}
	t.Fatalf("the sidecar did not log its %s listener", listener)
	return ""
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// idpTokenRequests sums the IdP's jwt_bearer token requests.
func idpTokenRequests(t *testing.T, admin string) int {
	var counters map[string]map[string]struct{ OK, Errors int }
	getJSON(t, admin+"counters", &counters)
	c := counters["idp"]["jwt_bearer"]
	return c.OK + c.Errors
}

func rss(t *testing.T, pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("read RSS: %v", err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb
		}
	}
	return 0
}

func goroutines(t *testing.T, metricsURL string) int {
	resp, err := http.Get(metricsURL)
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_goroutines "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return int(f)
		}
	}
	return 0
}

type sample struct {
	at         time.Duration
	rssKB      int64
	goroutines int
}

// TestSoak runs the sidecar under steady proxy traffic across projected
// token rotations and IdP faults, and checks: no proxied request failed,
// the IdP saw no more requests than the refresh schedule and the faults
// explain, and RSS and goroutines stayed flat.
func TestSoak(t *testing.T) {
	d := duration(t)
	logDir := os.Getenv("FEDTOKEN_SOAK_LOGS")
	if logDir == "" {
		logDir = t.TempDir()
	}
	dir := t.TempDir()

	var upstreamOK, upstreamBad atomic.Int64
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ey") {
			upstreamBad.Add(1)
			http.Error(w, "no bearer", http.StatusUnauthorized)
			return
		}
		upstreamOK.Add(1)
		io.WriteString(w, `{"ok":true}`)
	}))
	defer upstream.Close()

	idpCfg := filepath.Join(dir, "mockidp.yaml")
	os.WriteFile(idpCfg, []byte(fmt.Sprintf(`admin: true
cluster:
  tokenLifetime: %s
  trustedBy: [idp]
  tokens:
  - dir: %s
    namespace: ai-jobs
    serviceAccount: runner
    audienceIssuers: [idp]
issuers:
- name: idp
  accessTokenLifetime: %s
  clients:
  - id: k8s-runner
    public: true
    grants: [jwt_bearer]
`, subjectLife, filepath.Join(dir, "tokens"), accessTokenLife)), 0o600)
	idp := start(t, logDir, "fedtoken-mockidp", "--config", idpCfg, "--log-format", "json")
	issuerURL := strings.Fields(idp.waitLine(t, "issuer idp "))[2]
	admin := strings.Fields(idp.waitLine(t, "admin "))[1]
	idp.waitLine(t, "ready ")

	scCfg := filepath.Join(dir, "fedtoken.yaml")
	os.WriteFile(scCfg, []byte(fmt.Sprintf(`providers:
  soak:
    issuer: %s
    clientId: k8s-runner
    authFlow: jwt_bearer
    baseURL: %s/v1
    subjectTokenSource: {type: kubernetes_sa, tokenPath: %s}
`, issuerURL, upstream.URL, filepath.Join(dir, "tokens", "token"))), 0o600)
	sc := start(t, logDir, "fedtoken-sidecar", "--config", scCfg, "--admin-addr", "127.0.0.1:0", "--proxy", "127.0.0.1:0")
	proxyURL := "http://" + listenAddr(t, filepath.Join(logDir, "fedtoken-sidecar.log"), "proxy/soak") + "/chat/completions"
	metricsURL := "http://" + listenAddr(t, filepath.Join(logDir, "fedtoken-sidecar.log"), "admin") + "/metrics"

	var rotations0 struct{ Rotations int }
	getJSON(t, admin+"cluster", &rotations0)

	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var failed, served atomic.Int64
	var failures sync.Map
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			tick := time.NewTicker(requestPace)
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
				resp, err := http.Get(proxyURL)
				if err != nil {
					if ctx.Err() == nil {
						failed.Add(1)
						failures.Store(err.Error(), true)
					}
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					failed.Add(1)
					failures.Store(resp.Status, true)
					continue
				}
				served.Add(1)
			}
		})
	}

	// Faults in between, samples all along.
	var samples []sample
	injected := 0
	extra := 0 // IdP requests the faults may add
	begin := time.Now()
	sampleTick := time.NewTicker(5 * time.Second)
	faultTick := time.NewTicker(faultEvery)
	pid := sc.cmd.Process.Pid
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-sampleTick.C:
			samples = append(samples, sample{time.Since(begin).Round(time.Second), rss(t, pid), goroutines(t, metricsURL)})
		case <-faultTick.C:
			f := faults[injected%len(faults)]
			f["issuer"], f["endpoint"] = "idp", "token"
			body, _ := json.Marshal(f)
			resp, err := http.Post(admin+"faults", "application/json", bytes.NewReader(body))
			if err != nil || resp.StatusCode/100 != 2 {
				t.Fatalf("inject fault %s: %v %v", body, err, resp)
			}
			resp.Body.Close()
			injected++
			extra += f["count"].(int) + 1
		}
	}
	sampleTick.Stop()
	faultTick.Stop()
	wg.Wait()
	samples = append(samples, sample{time.Since(begin).Round(time.Second), rss(t, pid), goroutines(t, metricsURL)})

	var rotations struct{ Rotations int }
	getJSON(t, admin+"cluster", &rotations)
	rotated := rotations.Rotations - rotations0.Rotations
	idpRequests := idpTokenRequests(t, admin)
	bound := int(math.Ceil(float64(d)/float64(refreshEvery))) + 2 + extra

	q := len(samples) / 4
	base := samples[q]
	last := samples[len(samples)-1]
	var report strings.Builder
	fmt.Fprintf(&report, "soak: %s, %d proxied requests served, %d failed; %d subject rotations (kubelet atomic writer); %d IdP faults injected\n",
		d, served.Load(), failed.Load(), rotated, injected)
	fmt.Fprintf(&report, "soak: IdP token requests %d (bound %d = %d refreshes + 2 + %d for the faults)\n",
		idpRequests, bound, int(math.Ceil(float64(d)/float64(refreshEvery))), extra)
	fmt.Fprintf(&report, "soak: sidecar RSS %d KiB at %s, %d KiB at the end; goroutines %d then %d\n",
		base.rssKB, base.at, last.rssKB, base.goroutines, last.goroutines)
	for _, s := range samples {
		fmt.Fprintf(&report, "soak: sample t=%s rss=%dKiB goroutines=%d\n", s.at, s.rssKB, s.goroutines)
	}
	t.Log("\n" + report.String())
	os.WriteFile(filepath.Join(logDir, "soak-figures.txt"), []byte(report.String()), 0o644)

	if failed.Load() != 0 {
		var kinds []string
		failures.Range(func(k, _ any) bool { kinds = append(kinds, k.(string)); return true })
		t.Errorf("%d proxied requests failed while a valid token existed: %v", failed.Load(), kinds)
	}
	if upstreamBad.Load() != 0 {
		t.Errorf("the upstream received %d requests without a bearer token", upstreamBad.Load())
	}
	if rotated < 20 && d >= 3*time.Minute {
		t.Errorf("only %d subject rotations, want at least 20", rotated)
	}
	if idpRequests > bound {
		t.Errorf("IdP token requests = %d, above the bound %d", idpRequests, bound)
	}
	if last.rssKB > base.rssKB*5/4+4096 {
		t.Errorf("RSS grew from %d KiB to %d KiB", base.rssKB, last.rssKB)
	}
	if last.goroutines > base.goroutines+10 {
		t.Errorf("goroutines grew from %d to %d", base.goroutines, last.goroutines)
	}
}
