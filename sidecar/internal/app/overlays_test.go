package app

import (
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/fedtoken/fedtoken/sidecar/internal/settings"
)

// TestDeployOverlaysStart runs the sidecar's own start-up (config,
// section, environment, providers, listeners' settings) on what each
// overlay of deploy/ gives its sidecar container: testdata/overlays holds
// one record per overlay, which e2e/internal/overlays renders from deploy/
// with kustomize and keeps up to date.
func TestDeployOverlaysStart(t *testing.T) {
	files, err := filepath.Glob("testdata/overlays/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no records in testdata/overlays: run `go test ./internal/overlays -update` in e2e/")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var rec struct {
				Overlay    string            `json:"overlay"`
				Env        map[string]string `json:"env"`
				ConfigName string            `json:"configName"`
				Config     string            `json:"config"`
				Proxies    map[string]string `json:"proxies"`
			}
			if err := json.Unmarshal(b, &rec); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			local := filepath.Join(t.TempDir(), rec.ConfigName)
			if err := os.WriteFile(local, []byte(rec.Config), 0o600); err != nil {
				t.Fatal(err)
			}
			getenv := func(k string) string {
				if k == "FEDTOKEN_CONFIG" {
					return local
				}
				return rec.Env[k]
			}
			if _, _, err := Build(Env{Stdout: io.Discard, Stderr: io.Discard, Getenv: getenv}, nil); err != nil {
				t.Fatalf("the sidecar of %s would not start with this pod's settings: %v", rec.Overlay, err)
			}
			fs := flag.NewFlagSet("x", flag.ContinueOnError)
			s := settings.Default()
			if err := settings.Register(fs).Apply(s, getenv); err != nil {
				t.Fatal(err)
			}
			proxies := map[string]string{}
			for id, p := range s.Proxy {
				proxies[id] = p.Listen
			}
			if !reflect.DeepEqual(proxies, rec.Proxies) {
				t.Errorf("%s: proxies = %v, want %v", rec.Overlay, proxies, rec.Proxies)
			}
		})
	}
}
