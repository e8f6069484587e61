// Package golden compares what a test renders with a file under testdata,
// and rewrites that file when the test binary runs with -update.
package golden

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// Check fails t when got differs from the file at path; with -update it
// first writes got there. fix says what to do besides -update when the
// rendering changed on purpose (e.g. which docs page quotes the file).
func Check(t testing.TB, path string, got []byte, fix string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs; %s\ngot:\n%s", path, fix, got)
	}
}
