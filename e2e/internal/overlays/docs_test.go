package overlays

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// repoRoot is the repository root, relative to this package.
const repoRoot = "../../.."

// docs are the pages whose manifests and configs must come from files that
// tests load.
var docs = []string{"docs/sidecar.md", "docs/kubernetes.md"}

// loadedRoots are where such files may live: deploy/ is rendered by
// TestOverlays, the sidecar's testdata by the app tests.
var loadedRoots = []string{"deploy/", "sidecar/internal/app/testdata/"}

type codeBlock struct {
	lang, from string
	line       int
	lines      []string
}

var fromComment = regexp.MustCompile(`^<!-- from: (\S+) -->$`)

// codeBlocks returns the fenced blocks of a Markdown file, each with the
// "<!-- from: path -->" comment on the line before it, if any.
func codeBlocks(t *testing.T, file string) []codeBlock {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot, file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var blocks []codeBlock
	var cur *codeBlock
	prev := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case cur == nil && strings.HasPrefix(trimmed, "```"):
			cur = &codeBlock{lang: strings.TrimPrefix(trimmed, "```"), line: n}
			if m := fromComment.FindStringSubmatch(prev); m != nil {
				cur.from = m[1]
			}
		case cur != nil && trimmed == "```":
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.lines = append(cur.lines, line)
		}
		if trimmed != "" {
			prev = trimmed
		}
	}
	if cur != nil {
		t.Fatalf("%s:%d: unterminated code block", file, cur.line)
	}
	return blocks
}

// dedent removes the indentation common to the non-empty lines.
func dedent(lines []string) []string {
	common := -1
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		n := len(l) - len(strings.TrimLeft(l, " "))
		if common < 0 || n < common {
			common = n
		}
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		if len(l) >= common && common > 0 {
			l = l[common:]
		}
		out[i] = strings.TrimRight(l, " ")
	}
	return out
}

// isExcerpt reports whether block, dedented, equals some run of lines of
// file, dedented the same way.
func isExcerpt(block, file []string) bool {
	want := strings.Join(dedent(block), "\n")
	for i := 0; i+len(block) <= len(file); i++ {
		if strings.Join(dedent(file[i:i+len(block)]), "\n") == want {
			return true
		}
	}
	return false
}

// TestDocsShowOnlyTestedFiles checks that every YAML or JSON block of the
// sidecar and Kubernetes docs is a verbatim excerpt of the file its
// "<!-- from: … -->" comment names, and that the file is one a test loads.
func TestDocsShowOnlyTestedFiles(t *testing.T) {
	for _, doc := range docs {
		blocks := codeBlocks(t, doc)
		if len(blocks) == 0 {
			t.Errorf("%s: no code blocks found", doc)
		}
		for _, b := range blocks {
			switch b.lang {
			case "yaml", "yml", "json":
			default:
				if b.from != "" {
					t.Errorf("%s:%d: a %q block with a from: comment; only yaml/json blocks are checked", doc, b.line, b.lang)
				}
				continue
			}
			if b.from == "" {
				t.Errorf("%s:%d: %s block without <!-- from: path --> naming the tested file it comes from", doc, b.line, b.lang)
				continue
			}
			loaded := false
			for _, root := range loadedRoots {
				loaded = loaded || strings.HasPrefix(b.from, root)
			}
			if !loaded {
				t.Errorf("%s:%d: %s is not under %v, which tests load", doc, b.line, b.from, loadedRoots)
				continue
			}
			data, err := os.ReadFile(filepath.Join(repoRoot, b.from))
			if err != nil {
				t.Errorf("%s:%d: %v", doc, b.line, err)
				continue
			}
			if !isExcerpt(b.lines, strings.Split(string(data), "\n")) {
				t.Errorf("%s:%d: the block is not a verbatim excerpt of %s", doc, b.line, b.from)
			}
		}
	}
}

var mdLink = regexp.MustCompile(`\]\(([^)#\s]*)(#[^)\s]*)?\)`)

// TestDocsLinks checks relative links and their anchors. Links into
// docs/idp/ are written by the end-to-end suite's docs and are checked
// only once those files exist.
func TestDocsLinks(t *testing.T) {
	for _, doc := range docs {
		data, err := os.ReadFile(filepath.Join(repoRoot, doc))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range mdLink.FindAllStringSubmatch(string(data), -1) {
			target, anchor := m[1], strings.TrimPrefix(m[2], "#")
			if strings.Contains(target, "://") {
				continue
			}
			path := doc
			if target != "" {
				path = filepath.Join(filepath.Dir(doc), target)
			}
			content, err := os.ReadFile(filepath.Join(repoRoot, path))
			if err != nil {
				if strings.HasPrefix(path, "docs/idp/") {
					continue
				}
				t.Errorf("%s: link to %s: %v", doc, path, err)
				continue
			}
			if anchor != "" && !hasAnchor(string(content), anchor) {
				t.Errorf("%s: link to %s#%s: no such heading", doc, path, anchor)
			}
		}
	}
}

func hasAnchor(markdown, anchor string) bool {
	for _, line := range strings.Split(markdown, "\n") {
		if !strings.HasPrefix(line, "#") {
			continue
		}
		if slug(strings.TrimLeft(line, "# ")) == anchor {
			return true
		}
	}
	return false
}

// slug is GitHub's heading anchor: lower case, punctuation dropped,
// spaces to hyphens.
func slug(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9'):
			b.WriteRune(r)
		case r > 127:
			b.WriteRune(r)
		}
	}
	return b.String()
}
