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
	files := map[string]string{"expired": expired + "\n", "two": expired + "\n" + expired, "opaque": "opaque-token"}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct{ file, wantErr string }{
		{"expired", ""}, // its exp, though expired
		{"two", "spans several lines"},
		{"opaque", "expected 3 segments"},
		{"missing", "no such file"},
	} {
		path := filepath.Join(dir, tt.file)
		p := config.Provider{SubjectTokenSource: &config.SubjectSource{Type: subject.TypeFile, Path: path}}
		got, err := subjectExpiry(p, subject.File{Path: path})(context.Background())
		switch {
		case tt.wantErr == "" && (err != nil || !got.Equal(exp)):
			t.Errorf("%s: exp %v, %v; want %v", tt.file, got, err, exp)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%s: err %v, want %q", tt.file, err, tt.wantErr)
		}
	}
}
