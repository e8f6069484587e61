package issued

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRecord: each value once, one per line, in a 0600 *.secrets file in
// the directory; empty and multi-line values are skipped.
func TestRecord(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "secrets")
	r := New(dir)
	if r.Path() != "" {
		t.Fatal("file created before the first value")
	}
	r.Record("access-token-1", " ", "two\nlines")
	r.RecordTokenResponse(map[string]any{
		"access_token": "access-token-1", "refresh_token": "refresh-token-1",
		"id_token": "id-token-1", "token_type": "Bearer", "expires_in": 60.0,
	})
	r.Record("client-secret-1")
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(r.Path()) != dir || !strings.HasSuffix(r.Path(), ".secrets") {
		t.Fatalf("file %s, want a *.secrets file in %s", r.Path(), dir)
	}
	data, err := os.ReadFile(r.Path())
	if err != nil {
		t.Fatal(err)
	}
	want := "access-token-1\nrefresh-token-1\nid-token-1\nclient-secret-1\n"
	if string(data) != want {
		t.Fatalf("file =\n%s\nwant\n%s", data, want)
	}
	st, err := os.Stat(r.Path())
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
}

// TestRecordWithoutDir: no directory, no file, no error.
func TestRecordWithoutDir(t *testing.T) {
	r := New("")
	r.Record("access-token-1")
	if r.Path() != "" || r.Err() != nil {
		t.Fatalf("path %q err %v, want none", r.Path(), r.Err())
	}
}

// TestRecordUnwritableDir: the error is kept, nothing panics.
func TestRecordUnwritableDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	r := New(filepath.Join(file, "secrets"))
	r.Record("access-token-1")
	if r.Err() == nil {
		t.Fatal("no error for a directory under a regular file")
	}
}
