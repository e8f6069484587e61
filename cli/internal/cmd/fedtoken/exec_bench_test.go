package fedtoken_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fedtoken/fedtoken/mockidp"
)

// Environment of BenchmarkExecWarm (make bench sets both).
const (
	// benchBinEnv names the directory holding the fedtoken binary to time
	// (make build's bin/).
	benchBinEnv = "FEDTOKEN_BENCH_BIN"
	// benchKubeloginEnv names a kubelogin binary, timed on the same IdP.
	benchKubeloginEnv = "FEDTOKEN_BENCH_KUBELOGIN"
)

// BenchmarkExecWarm times whole processes, as a CronJob or a kubectl
// credential plugin pays them: process start-up (`fedtoken version`), a
// warm `fedtoken token` (the file cache holds a valid token: no network),
// and, when $FEDTOKEN_BENCH_KUBELOGIN names one, kubelogin's start-up and
// its warm `get-token` (client credentials, its disk token cache) against
// the same mockidp. It reports the median and p90 wall time per run.
//
//	FEDTOKEN_BENCH_BIN=$PWD/../bin go test -run '^$' -bench ExecWarm -benchtime 200x ./internal/cmd/fedtoken/
func BenchmarkExecWarm(b *testing.B) {
	dir := os.Getenv(benchBinEnv)
	if dir == "" {
		b.Skipf("set %s to the directory of the fedtoken binary (make build: bin/)", benchBinEnv)
	}
	fedtoken := filepath.Join(dir, "fedtoken")
	h := newHarness(b, func(c *mockidp.Config) {
		c.Issuers[0].Clients = append(c.Issuers[0].Clients,
			mockidp.ClientConfig{ID: "kubelogin", Secret: "kubelogin-secret", Grants: []string{"client_credentials"}})
	})
	env := append(os.Environ(), "FEDTOKEN_CONFIG="+h.config, "FEDTOKEN_CACHE_DIR="+h.cacheDir)
	type execRun struct {
		name string
		argv []string
	}
	runs := []execRun{
		{"fedtoken-version", []string{fedtoken, "version"}},
		{"fedtoken-token-warm", []string{fedtoken, "token", "jb"}},
	}
	if kl := os.Getenv(benchKubeloginEnv); kl != "" {
		runs = append(runs,
			execRun{"kubelogin-version", []string{kl, "--version"}},
			execRun{"kubelogin-get-token-warm", []string{kl, "get-token", "--oidc-issuer-url=" + h.idp.IssuerURL("idp"),
				"--oidc-client-id=kubelogin", "--oidc-client-secret=kubelogin-secret", "--grant-type=client-credentials",
				"--oidc-use-access-token", "--token-cache-dir=" + filepath.Join(h.dir, "kubelogin-cache")}})
	}
	exe := func(b *testing.B, argv []string) {
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Env = env
		out, err := cmd.Output()
		if err != nil {
			b.Fatalf("%s: %v\n%s", strings.Join(argv[:2], " "), err, out)
		}
	}
	// Warm both caches: the first token of each comes from the IdP.
	for _, r := range runs {
		exe(b, r.argv)
	}
	served := h.idpRequests()
	for _, r := range runs {
		b.Run(r.name, func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			for b.Loop() {
				start := time.Now()
				exe(b, r.argv)
				lat = append(lat, time.Since(start))
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1e3, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*9/10].Microseconds())/1e3, "p90-ms")
		})
	}
	if got := h.idpRequests(); got != served {
		b.Errorf("the warm runs made %d IdP requests", got-served)
	}
}
