package peers

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPinnedMatchesWrapperModules(t *testing.T) {
	v, err := Pinned()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		gomod string
		want  string
	}{
		{"kubernetes/go.mod", "k8s.io/kubernetes " + v.Kubernetes},
		{"etcd/go.mod", "go.etcd.io/etcd/server/v3 " + v.Etcd},
		// Dex v2.45.1 is pinned by pseudo-version; versions.env names the tag.
		{"dex/go.mod", "github.com/dexidp/dex v0.0.0-20260303133905-11d2eeb52b42"},
	}
	for _, tt := range tests {
		data, err := os.ReadFile(tt.gomod)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), tt.want) {
			t.Errorf("%s does not require %q", tt.gomod, tt.want)
		}
	}
	if v.Dex != "v2.45.1" {
		t.Errorf("DEX_VERSION = %s, but dex/go.mod pins the v2.45.1 pseudo-version: update both", v.Dex)
	}
	// Every staging module of k8s.io/kubernetes must be pinned to the matching v0.x.
	data, err := os.ReadFile("kubernetes/go.mod")
	if err != nil {
		t.Fatal(err)
	}
	staging := "v0" + strings.TrimPrefix(v.Kubernetes, "v1")
	if n := strings.Count(string(data), " "+staging+"\n"); n != 31 {
		t.Errorf("kubernetes/go.mod pins %d staging modules to %s, want 31", n, staging)
	}
}

func TestParseVersions(t *testing.T) {
	tests := []struct {
		name, text, wantErr string
	}{
		{"ok", "KUBERNETES_VERSION=v1\nETCD_VERSION=e\nDEX_VERSION=d\nKEYCLOAK_VERSION=k\nKIND_VERSION=x\nPAUSE_IMAGE=p:1\n", ""},
		{"missing key", "KUBERNETES_VERSION=v1\n", "is missing"},
		{"bad line", "# c\nnonsense\n", "line 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseVersions(tt.text)
			if tt.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestLayoutPaths(t *testing.T) {
	l, err := FromEnv(func(k string) string {
		if k == "FEDTOKEN_E2E_CACHE" {
			return "/c"
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	v := l.Versions
	tests := map[string]string{
		l.KubernetesBin("kubelet"): filepath.Join("/c", "kubernetes-"+v.Kubernetes, "bin", "kubelet"),
		l.Etcd():                   filepath.Join("/c", "etcd-"+v.Etcd, "bin", "etcd"),
		l.Dex():                    filepath.Join("/c", "dex-"+v.Dex, "bin", "dex"),
		l.KeycloakHome():           filepath.Join("/c", "keycloak-"+v.Keycloak),
		l.PauseTarball():           filepath.Join("/c", "pause-3.10", "pause.tar"),
	}
	for got, want := range tests {
		if got != want {
			t.Errorf("path %s, want %s", got, want)
		}
	}
	if got := Missing(t.TempDir(), "/nonexistent/fedtoken"); len(got) != 1 || got[0] != "/nonexistent/fedtoken" {
		t.Errorf("Missing = %v", got)
	}
}
