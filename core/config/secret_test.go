package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadClientSecret(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("secret", secretValue+"\n")
	empty := write("empty", " \n")
	big := write("big", strings.Repeat("x", maxSecretFileSize+1))
	missing := filepath.Join(dir, "missing")
	t.Setenv("FEDTOKEN_TEST_SECRET", secretValue)
	t.Setenv("FEDTOKEN_TEST_EMPTY", "")

	tests := []struct {
		name    string
		p       Provider
		want    string
		wantErr string // substring
	}{
		{"none", Provider{ID: "p"}, "", ""},
		{"inline, untrimmed", Provider{ID: "p", ClientSecret: " " + secretValue}, " " + secretValue, ""},
		{"file, trimmed", Provider{ID: "p", ClientSecretFile: good}, secretValue, ""},
		{"file missing", Provider{ID: "p", ClientSecretFile: missing}, "", "config: provider p: clientSecretFile: open " + missing},
		{"file empty", Provider{ID: "p", ClientSecretFile: empty}, "", "clientSecretFile " + empty + " is empty"},
		{"file too big", Provider{ID: "p", ClientSecretFile: big}, "", "larger than 65536 bytes"},
		{"env", Provider{ID: "p", ClientSecretEnv: "FEDTOKEN_TEST_SECRET"}, secretValue, ""},
		{"env unset", Provider{ID: "p", ClientSecretEnv: "FEDTOKEN_TEST_UNSET_VAR"}, "", "$FEDTOKEN_TEST_UNSET_VAR is not set"},
		{"env empty", Provider{ID: "p", ClientSecretEnv: "FEDTOKEN_TEST_EMPTY"}, "", "$FEDTOKEN_TEST_EMPTY is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.p.LoadClientSecret()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v; want it to contain %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "xxxx") {
					t.Errorf("error shows file contents: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Reveal() != tt.want {
				t.Errorf("secret = %q; want %q", got.Reveal(), tt.want)
			}
			if tt.p.HasClientSecret() != (tt.want != "") {
				t.Errorf("HasClientSecret() = %v", tt.p.HasClientSecret())
			}
		})
	}
}
