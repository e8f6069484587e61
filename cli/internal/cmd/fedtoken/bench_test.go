package fedtoken_test

import (
	"strings"
	"testing"
)

// BenchmarkTokenWarmCache measures `fedtoken token` in process when the
// file cache holds a valid token: config lookup and parse, provider
// wiring, cache file load. Process start-up is measured separately with
// hyperfine (docs/benchmarks.md).
func BenchmarkTokenWarmCache(b *testing.B) {
	h := newHarness(b)
	if r := h.run("token", "jb"); r.code != 0 {
		b.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	served := h.idpRequests()
	b.ReportAllocs()
	for b.Loop() {
		if r := h.run("token", "jb"); r.code != 0 || !strings.HasPrefix(r.stdout, "eyJ") {
			b.Fatalf("exit %d: %s", r.code, r.stderr)
		}
	}
	if h.idpRequests() != served {
		b.Fatal("the warm path reached the IdP")
	}
}
