package secretscan

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestScanFindsEverySecretWithoutRevealingIt(t *testing.T) {
	dir := t.TempDir()
	secrets := filepath.Join(dir, "secrets")
	logs := filepath.Join(dir, "logs")
	os.MkdirAll(secrets, 0o700)
	os.MkdirAll(logs, 0o700)
	jwt := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
	os.WriteFile(filepath.Join(secrets, "issued-1.secrets"), []byte(jwt+"\nrefresh-abcdef123456\npw\n"), 0o600)
	os.WriteFile(filepath.Join(logs, "clean.log"), []byte("ok  \tgithub.com/x\t0.1s\nBearer [REDACTED]\n"), 0o600)
	os.WriteFile(filepath.Join(logs, "leaky.log"), []byte("line one\nAuthorization: Bearer "+jwt+"\n{\"refresh_token\":\"refresh-abcdef123456\"}"), 0o600)
	set, hits, files, err := Run(secrets, []string{logs})
	if err != nil {
		t.Fatal(err)
	}
	if set.Len() != 2 || set.Short() != 1 || files != 2 {
		t.Fatalf("secrets %d (short %d), files %d; want 2 (1), 2", set.Len(), set.Short(), files)
	}
	if len(hits) != 2 || hits[0].Line != 2 || hits[1].Line != 3 || !strings.HasSuffix(hits[0].File, "leaky.log") {
		t.Fatalf("hits = %v", hits)
	}
	for _, h := range hits {
		if strings.Contains(h.String(), jwt) || strings.Contains(h.String(), "refresh-abcdef123456") {
			t.Errorf("a hit reveals the secret: %s", h)
		}
	}
}
