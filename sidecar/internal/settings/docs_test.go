package settings_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fedtoken/fedtoken/sidecar/internal/settings"
)

// repoRoot is the repository root, relative to this package.
const repoRoot = "../../.."

// TestSidecarDocsListEverySetting checks the settings table against the
// flags the binary defines.
func TestSidecarDocsListEverySetting(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot, "docs/sidecar.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	for _, f := range settings.Flags() {
		for _, want := range []string{"`--" + f.Name, "`" + f.Env + "`"} {
			if !strings.Contains(doc, want) {
				t.Errorf("docs/sidecar.md does not document %s", strings.Trim(want, "`"))
			}
		}
		if f.Field != "" && !strings.Contains(doc, "`"+f.Field+"`") && !strings.Contains(doc, "`"+strings.SplitN(f.Field, "/", 2)[0]) {
			t.Errorf("docs/sidecar.md does not document the sidecar field %s", f.Field)
		}
	}
}
