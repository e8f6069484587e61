package app

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fedtoken/fedtoken/core/config"
	"github.com/fedtoken/fedtoken/core/jwt"
	"github.com/fedtoken/fedtoken/core/subject"
)

// TestSubjectExpiryReadsThroughCore: the subject-token metric reads the
// token with the source's own checks (subject.Inspect) and still reports
// an expired token's exp.
func TestSubjectExpiryReadsThroughCore(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(-time.Hour).Truncate(time.Second)
	expired, err := jwt.Sign(map[string]any{"iss": "https://cluster.local", "sub": "system:serviceaccount:a:b", "exp": exp.Unix()}, key, "k1")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	expiryOf := func(path string) (time.Time, error) {
		p := config.Provider{SubjectTokenSource: &config.SubjectSource{Type: subject.TypeFile, Path: path}}
		return subjectExpiry(p, subject.File{Path: path})(context.Background())
	}

	got, err := expiryOf(write("expired", expired+"\n"))
	if err != nil || !got.Equal(exp) {
		t.Errorf("expired token: exp %v, %v; want %v", got, err, exp)
	}
	if _, err := expiryOf(write("two", expired+"\n"+expired)); err == nil || !strings.Contains(err.Error(), "spans several lines") {
		t.Errorf("two tokens: err %v, want the source's check", err)
	}
	if _, err := expiryOf(write("opaque", "opaque-token")); err == nil {
		t.Error("opaque token: no error")
	}
	if _, err := expiryOf(filepath.Join(dir, "missing")); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing file: err %v", err)
	}
}
