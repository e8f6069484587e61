package settings

import (
	"strings"
	"testing"
)

// TestFileSinkModeRefusesUnsafeModes: a token file readable by every user
// of the node (0644, 0777), writable by the group, or executable hands the
// workload's identity around; refuse it at start-up, naming the fix.
func TestFileSinkModeRefusesUnsafeModes(t *testing.T) {
	for _, m := range []string{"0777", "0666", "0644", "0604", "0660", "0700", "0750", "0000", "0200"} {
		if _, err := (FileSink{Mode: m}).FileMode(); err == nil || !strings.Contains(err.Error(), "0640") {
			t.Errorf("mode %s accepted (err %v); want a refusal suggesting 0640", m, err)
		}
	}
	for _, m := range []string{"", "0600", "0640", "0440", "0400", "600"} {
		if _, err := (FileSink{Mode: m}).FileMode(); err != nil {
			t.Errorf("mode %q refused: %v", m, err)
		}
	}
}
