package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fedtoken/fedtoken/core/subject"
)

// seedSingle is the provider of the seed cookbook's CronJob ConfigMap.
func seedSingle() Provider {
	return Provider{
		ID:                 "miaou",
		Name:               "Miaou",
		BaseURL:            "https://api.example.com/v1",
		Issuer:             "https://auth.example.com/realms/prod",
		ClientID:           "k8s-runner",
		Scopes:             []string{"openid"},
		AuthFlow:           FlowJWTBearer,
		ClientAuth:         ClientAuth{OmitClientID: new(false)},
		SubjectTokenSource: &SubjectSource{Type: subject.TypeKubernetesSA, TokenPath: "/var/run/secrets/tokens/oauth2/token"},
		PKCE:               new(true),
		HTTPTimeout:        15 * time.Second,
		TokenExpirySkew:    30 * time.Second,
	}
}

// seedMulti are the providers of the seed cookbook's prod + staging ConfigMap.
func seedMulti() []Provider {
	mk := func(env, name string) Provider {
		return Provider{
			ID:                 "miaou-" + env,
			Name:               name,
			BaseURL:            "https://api-" + env + ".example.com/v1",
			Issuer:             "https://auth-" + env + ".example.com/realms/main",
			ClientID:           "k8s-bot",
			Scopes:             []string{"openid"},
			AuthFlow:           FlowJWTBearer,
			ClientAuth:         ClientAuth{OmitClientID: new(false)},
			SubjectTokenSource: &SubjectSource{Type: subject.TypeKubernetesSA, TokenPath: "/var/run/secrets/tokens/oauth2/" + env + "-token"},
			PKCE:               new(true),
			HTTPTimeout:        15 * time.Second,
			TokenExpirySkew:    30 * time.Second,
		}
	}
	return []Provider{mk("prod", "Miaou (prod)"), mk("staging", "Miaou (staging)")}
}

func mustLoad(t *testing.T, path string) *File {
	t.Helper()
	f, err := Load(path)
	if err != nil {
		t.Fatalf("Load(%s): %v", path, err)
	}
	return f
}

func TestLoadSeedFixtures(t *testing.T) {
	tests := []struct {
		path   string
		format string
		want   []Provider
	}{
		{"testdata/opencode/single.json", FormatOpenCode, []Provider{seedSingle()}},
		{"testdata/opencode/multi.json", FormatOpenCode, seedMulti()},
		{"testdata/native/single.yaml", FormatNative, []Provider{seedSingle()}},
		{"testdata/native/single.json", FormatNative, []Provider{seedSingle()}},
		{"testdata/native/multi.yaml", FormatNative, seedMulti()},
		{"testdata/native/multi.json", FormatNative, seedMulti()},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			f := mustLoad(t, tt.path)
			if diff := cmp.Diff(tt.want, f.Providers); diff != "" {
				t.Errorf("providers (-want +got):\n%s", diff)
			}
			if f.Format != tt.format || f.Path != tt.path {
				t.Errorf("Format, Path = %q, %q; want %q, %q", f.Format, f.Path, tt.format, tt.path)
			}
			if len(f.Warnings) != 0 {
				t.Errorf("unexpected warnings: %q", f.Warnings)
			}
			if f.Sidecar != nil || f.Cache != (Cache{}) {
				t.Errorf("Sidecar, Cache = %s, %+v; want empty", f.Sidecar, f.Cache)
			}
		})
	}
}

// TestNativeEqualsOpenCode: the native YAML and JSON equivalents of the
// seed's opencode.json files produce identical providers.
func TestNativeEqualsOpenCode(t *testing.T) {
	for _, name := range []string{"single", "multi"} {
		oc := mustLoad(t, "testdata/opencode/"+name+".json")
		for _, ext := range []string{".yaml", ".json"} {
			n := mustLoad(t, "testdata/native/"+name+ext)
			if diff := cmp.Diff(oc.Providers, n.Providers); diff != "" {
				t.Errorf("%s%s differs from opencode/%s.json (-opencode +native):\n%s", name, ext, name, diff)
			}
		}
	}
}

func TestLoadErrorNamesPath(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.yaml")
	_, err := Load(missing)
	if err == nil || !strings.Contains(err.Error(), missing) {
		t.Fatalf("Load(missing) = %v; want an error naming %s", err, missing)
	}

	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"providers": {"x": {"clientId": 1}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(bad)
	if err == nil || !strings.HasPrefix(err.Error(), "config "+bad+": providers.x.clientId: ") {
		t.Fatalf("Load(bad) = %v; want it to start with the path and the field", err)
	}

	big := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(big, make([]byte, MaxFileSize+1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(big); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("Load(big) = %v; want a size error", err)
	}
}

func TestFileProvider(t *testing.T) {
	multi := mustLoad(t, "testdata/opencode/multi.json")
	single := mustLoad(t, "testdata/opencode/single.json")

	p, err := single.Provider("")
	if err != nil || p.ID != "miaou" {
		t.Fatalf(`single.Provider("") = %v, %v; want miaou`, p, err)
	}
	p, err = multi.Provider("miaou-staging")
	if err != nil || p.ID != "miaou-staging" {
		t.Fatalf(`Provider("miaou-staging") = %v, %v`, p, err)
	}
	p.Scopes[0] = "changed"
	p.Name = "changed"
	p.SubjectTokenSource.TokenPath = "changed"
	*p.PKCE = false
	if diff := cmp.Diff(seedMulti(), multi.Providers); diff != "" {
		t.Errorf("changing the returned provider changed the file (-want +got):\n%s", diff)
	}

	_, err = multi.Provider("")
	wantErr := "config testdata/opencode/multi.json: 2 providers, choose one of: miaou-prod, miaou-staging"
	if err == nil || err.Error() != wantErr {
		t.Errorf(`Provider("") = %v; want %q`, err, wantErr)
	}
	_, err = multi.Provider("miaou")
	wantErr = `config testdata/opencode/multi.json: no provider "miaou"; available: miaou-prod, miaou-staging`
	if err == nil || err.Error() != wantErr {
		t.Errorf(`Provider("miaou") = %v; want %q`, err, wantErr)
	}
}
