package inject_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fedtoken/fedtoken/injector/inject"
)

var update = flag.Bool("update", false, "rewrite the annotation reference in docs/kubernetes.md")

const (
	docsFile  = "../../docs/kubernetes.md"
	beginMark = "<!-- annotations:begin -->\n"
	endMark   = "<!-- annotations:end -->"
)

// reference renders inject.Annotations as the Markdown table of the docs.
func reference() string {
	var b strings.Builder
	b.WriteString("| annotation | example | default | what it changes |\n|---|---|---|---|\n")
	for _, a := range inject.Annotations {
		b.WriteString("| `" + a.Key + "` | `" + strings.ReplaceAll(a.Example, " or ", "` or `") + "` | " + a.Default + " | " + strings.ReplaceAll(a.Effect, "|", "\\|") + " |\n")
	}
	return b.String()
}

// TestAnnotationReference checks that docs/kubernetes.md lists every
// annotation exactly as the code describes it (-update rewrites it).
func TestAnnotationReference(t *testing.T) {
	data, err := os.ReadFile(filepath.FromSlash(docsFile))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	i, j := strings.Index(doc, beginMark), strings.Index(doc, endMark)
	if i < 0 || j < i {
		t.Fatalf("%s: no %q … %q markers", docsFile, strings.TrimSpace(beginMark), endMark)
	}
	got, want := doc[i+len(beginMark):j], reference()
	if got == want {
		return
	}
	if *update {
		if err := os.WriteFile(filepath.FromSlash(docsFile), []byte(doc[:i+len(beginMark)]+want+doc[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("the annotation reference in %s differs from inject.Annotations: run `go test ./inject -run TestAnnotationReference -update` in injector/\ngot:\n%s\nwant:\n%s", docsFile, got, want)
}

// Every annotation the code parses is in the reference, and nothing else.
func TestAnnotationsAllDescribed(t *testing.T) {
	keys := map[string]bool{}
	for _, a := range inject.Annotations {
		if !strings.HasPrefix(a.Key, inject.Prefix) || keys[a.Key] || a.Effect == "" || a.Example == "" {
			t.Errorf("annotation entry %+v: want a unique %s key, an example and an effect", a, inject.Prefix)
		}
		keys[a.Key] = true
	}
	for _, k := range []string{
		inject.AnnotationInject, inject.AnnotationConfig, inject.AnnotationBaseURLEnv, inject.AnnotationContainers,
		inject.AnnotationAudience, inject.AnnotationTokenLifetime, inject.AnnotationProxyPort, inject.AnnotationHealthPort,
		inject.AnnotationSidecarMode, inject.AnnotationCPURequest, inject.AnnotationMemoryRequest, inject.AnnotationCPULimit,
		inject.AnnotationMemoryLimit, inject.AnnotationStatus,
	} {
		if !keys[k] {
			t.Errorf("%s is not in inject.Annotations", k)
		}
	}
	if len(keys) != 14 {
		t.Errorf("%d annotations described, 14 defined", len(keys))
	}
}
