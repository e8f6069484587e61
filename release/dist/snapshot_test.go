package dist

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestSnapshotVerify builds a snapshot (this machine, linux/arm64 and
// windows/arm64; images for linux/amd64 and linux/arm64), checks that
// Verify accepts it, then that Verify catches each kind of damage.
func TestSnapshotVerify(t *testing.T) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("the snapshot test runs on linux/amd64 (it runs this machine's binaries and image)")
	}
	if _, err := os.Stat(DefaultCABundle); err != nil {
		t.Skipf("no CA bundle at %s (apt-get install ca-certificates): %v", DefaultCABundle, err)
	}
	o := Options{
		Root: filepath.Join("..", ".."), Dist: filepath.Join(t.TempDir(), "dist"),
		Stamp: Stamp{Version: "v1.2.3-test.1", Commit: "0123456789abcdef0123456789abcdef01234567"}, Created: time.Unix(1767225600, 0),
		CABundle: DefaultCABundle, Log: testWriter{t},
		Platforms:      []Platform{{"linux", "amd64"}, {"linux", "arm64"}, {"windows", "arm64"}},
		ImagePlatforms: []Platform{{"linux", "amd64"}, {"linux", "arm64"}},
	}
	if err := Snapshot(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	if err := Verify(t.Context(), o); err != nil {
		t.Fatalf("a fresh snapshot fails verification: %v", err)
	}

	damage := []struct {
		name    string
		file    string
		change  func(data []byte) []byte
		o       func(Options) Options
		wantErr string
	}{
		{name: "binary changed", file: "fedtoken-windows-arm64.exe", change: func(b []byte) []byte { return append(b, 0) }, wantErr: "fedtoken-windows-arm64.exe: sha256"},
		{name: "file not listed", file: Checksums, change: func(b []byte) []byte {
			var keep []string
			for _, l := range strings.SplitAfter(string(b), "\n") {
				if !strings.HasSuffix(l, "  fedtoken-sidecar-linux-arm64.spdx.json\n") {
					keep = append(keep, l)
				}
			}
			return []byte(strings.Join(keep, ""))
		}, wantErr: "fedtoken-sidecar-linux-arm64.spdx.json: not in SHA256SUMS"},
		{name: "other version", o: func(o Options) Options { o.Stamp.Version = "v9.9.9"; return o }, wantErr: "the version v9.9.9 is not in the binary"},
		{name: "index lacks a platform", o: func(o Options) Options {
			o.ImagePlatforms = []Platform{{"linux", "amd64"}, {"linux", "arm64"}, {"linux", "s390x"}}
			return o
		}, wantErr: "index lists [linux/amd64 linux/arm64], want [linux/amd64 linux/arm64 linux/s390x]"},
	}
	for _, d := range damage {
		t.Run(d.name, func(t *testing.T) {
			vo := o
			if d.o != nil {
				vo = d.o(o)
			}
			if d.file != "" {
				p := filepath.Join(o.Dist, d.file)
				orig, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = os.WriteFile(p, orig, 0o755) })
				if err := os.WriteFile(p, d.change(orig), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			err := Verify(t.Context(), vo)
			if err == nil || !strings.Contains(err.Error(), d.wantErr) {
				t.Fatalf("Verify = %v, want an error containing %q", err, d.wantErr)
			}
		})
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
