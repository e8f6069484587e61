package config

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// docsPath is the configuration reference, relative to this package.
const docsPath = "../../docs/configuration.md"

type docBlock struct {
	lang, text, file string // file: from the "Tested as" line before the block
	line             int
}

var testedAs = regexp.MustCompile("Tested as `core/config/(testdata/docs/[^`]+)`")

// readDocBlocks returns the fenced code blocks of the markdown file.
func readDocBlocks(t *testing.T, path string) []docBlock {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("the configuration reference must exist: %v", err)
	}
	defer f.Close()
	var (
		blocks []docBlock
		cur    *docBlock
		marker string
		sc     = bufio.NewScanner(f)
		n      int
	)
	for sc.Scan() {
		n++
		line := sc.Text()
		switch {
		case cur == nil && strings.HasPrefix(line, "```"):
			cur = &docBlock{lang: strings.TrimPrefix(line, "```"), file: marker, line: n}
			marker = ""
		case cur != nil && line == "```":
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.text += line + "\n"
		default:
			if m := testedAs.FindStringSubmatch(line); m != nil {
				marker = m[1]
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if cur != nil {
		t.Fatalf("%s:%d: unclosed code block", path, cur.line)
	}
	return blocks
}

// TestDocsExamples executes docs/configuration.md: every config example is
// byte-for-byte a file under testdata/docs/ that loads (or, for
// invalid-*, fails with exactly the error shown in the next block), and
// every file there appears in the doc.
func TestDocsExamples(t *testing.T) {
	blocks := readDocBlocks(t, docsPath)
	seen := map[string]bool{}
	var verifiedErrLines []string
	for i, b := range blocks {
		switch b.lang {
		case "json", "jsonc", "yaml", "yml":
		default:
			continue
		}
		if b.file == "" {
			t.Errorf("%s:%d: %s example without a \"Tested as `core/config/testdata/docs/…`\" line before it", docsPath, b.line, b.lang)
			continue
		}
		seen[b.file] = true
		data, err := os.ReadFile(b.file)
		if err != nil {
			t.Errorf("%s:%d: %v", docsPath, b.line, err)
			continue
		}
		if string(data) != b.text {
			t.Errorf("%s:%d: the example differs from %s; keep them identical", docsPath, b.line, b.file)
			continue
		}
		if !strings.HasPrefix(filepath.Base(b.file), "invalid") {
			if _, err := Load(b.file); err != nil {
				t.Errorf("%s:%d: example does not load: %v", docsPath, b.line, err)
			}
			continue
		}
		_, err = Parse(data, "fedtoken"+filepath.Ext(b.file))
		if err == nil {
			t.Errorf("%s:%d: invalid example %s loads without error", docsPath, b.line, b.file)
			continue
		}
		if i+1 >= len(blocks) || blocks[i+1].lang != "text" {
			t.Errorf("%s:%d: invalid example must be followed by a text block with its error", docsPath, b.line)
			continue
		}
		if got, want := err.Error()+"\n", blocks[i+1].text; got != want {
			t.Errorf("%s:%d: documented error differs.\ndoc:\n%s\nactual:\n%s", docsPath, blocks[i+1].line, want, got)
		}
		verifiedErrLines = append(verifiedErrLines, strings.Split(err.Error(), "\n")...)
	}

	// Error lines quoted elsewhere in the doc must be real ones.
	for _, b := range blocks {
		if b.lang != "text" || !strings.HasPrefix(b.text, "config fedtoken") {
			continue
		}
		for _, l := range strings.Split(strings.TrimSuffix(b.text, "\n"), "\n") {
			if !slices.Contains(verifiedErrLines, l) {
				t.Errorf("%s:%d: error line not produced by any invalid example: %s", docsPath, b.line, l)
			}
		}
	}

	files, err := filepath.Glob("testdata/docs/*")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no files under testdata/docs")
	}
	for _, f := range files {
		if !seen[f] {
			t.Errorf("%s is not shown in %s", f, docsPath)
		}
	}
}
