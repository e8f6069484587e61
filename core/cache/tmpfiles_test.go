package cache

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/oauth2"
)

// TestDeleteRemovesLeftoverTempFiles: a process killed mid-save leaves
// ".<key>.*.tmp" holding a token; logout (Delete) must not leave it behind.
func TestDeleteRemovesLeftoverTempFiles(t *testing.T) {
	dir := t.TempDir()
	s := FileStore{Dir: dir}
	key := Key("issuer", "client")
	other := Key("someone", "else")
	ctx := context.Background()
	if err := s.Save(ctx, key, tokenFor("at-saved")); err != nil {
		t.Fatal(err)
	}
	crashed := filepath.Join(dir, "."+key+".123456.tmp")
	if err := os.WriteFile(crashed, []byte(`{"access_token":"at-crashed"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	foreign := filepath.Join(dir, "."+other+".42.tmp")
	if err := os.WriteFile(foreign, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(crashed); !os.IsNotExist(err) {
		t.Errorf("the crashed save's temporary file survived Delete (%v)", err)
	}
	if _, err := os.Stat(foreign); err != nil {
		t.Errorf("Delete removed another key's temporary file: %v", err)
	}
}

func tokenFor(access string) *oauth2.Token {
	return &oauth2.Token{AccessToken: access, TokenType: "Bearer"}
}
