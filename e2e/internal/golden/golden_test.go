package golden

import (
	"path/filepath"
	"testing"
)

// recorder captures failures without ending the test that checks them.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Errorf(string, ...any) { r.failed = true }
func (r *recorder) Fatalf(string, ...any) { r.failed = true }
func (r *recorder) Fatal(...any)          { r.failed = true }

func TestCheck(t *testing.T) {
	path := filepath.Join(t.TempDir(), "testdata", "x.golden")
	r := &recorder{TB: t}
	Check(r, path, []byte("a"), "fix it")
	if !r.failed {
		t.Fatal("a missing golden file passed")
	}
	*update = true
	r = &recorder{TB: t}
	Check(r, path, []byte("a"), "fix it")
	*update = false
	if r.failed {
		t.Fatal("-update did not write the golden file")
	}
	r = &recorder{TB: t}
	Check(r, path, []byte("a"), "fix it")
	if r.failed {
		t.Fatal("equal content failed")
	}
	r = &recorder{TB: t}
	Check(r, path, []byte("b"), "fix it")
	if !r.failed {
		t.Fatal("different content passed")
	}
}
