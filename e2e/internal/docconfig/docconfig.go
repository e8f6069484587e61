// Package docconfig finds the fedtoken configs a docs page shows, so the
// e2e suites apply exactly what a reader copies: the fenced code block
// under a given "## " heading whose top level is a fedtoken config
// ("provider" for opencode.json, "providers" for the native YAML).
package docconfig

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"sigs.k8s.io/yaml"
)

// Shapes of a fedtoken config (the file name suffix config.Parse expects).
const (
	Opencode = ".json" // opencode.json: top-level "provider"
	Native   = ".yaml" // fedtoken.yaml: top-level "providers"
)

// Block is one config as the page shows it.
type Block struct {
	Text string // the block's contents, byte for byte
	Line int    // line of the opening fence
}

// Find returns the one config of shape (Opencode or Native) in the section
// of the markdown file at path whose "## " heading starts with heading. It
// fails unless there is exactly one, so a page edit cannot make a suite
// silently test another block.
func Find(path, heading, shape string) (Block, error) {
	f, err := os.Open(path)
	if err != nil {
		return Block{}, err
	}
	defer f.Close()
	var (
		found    []Block
		inSect   bool
		sawSect  bool
		cur      *Block
		lang     string
		sc       = bufio.NewScanner(f)
		n        int
		wantLang = map[string]bool{"json": shape == Opencode, "jsonc": shape == Opencode, "yaml": shape == Native, "yml": shape == Native}
	)
	for sc.Scan() {
		n++
		line := sc.Text()
		switch {
		case cur == nil && strings.HasPrefix(line, "```"):
			cur, lang = &Block{Line: n}, strings.TrimPrefix(line, "```")
		case cur != nil && line == "```":
			if inSect && wantLang[lang] && isShape(cur.Text, shape) {
				found = append(found, *cur)
			}
			cur = nil
		case cur != nil:
			cur.Text += line + "\n"
		case strings.HasPrefix(line, "## "):
			inSect = strings.HasPrefix(strings.TrimPrefix(line, "## "), heading)
			sawSect = sawSect || inSect
		}
	}
	if err := sc.Err(); err != nil {
		return Block{}, err
	}
	switch {
	case !sawSect:
		return Block{}, fmt.Errorf("%s: no section \"## %s…\"", path, heading)
	case len(found) != 1:
		return Block{}, fmt.Errorf("%s, section %q: %d %s configs, want exactly one", path, heading, len(found), shapeName(shape))
	}
	return found[0], nil
}

func shapeName(shape string) string {
	if shape == Opencode {
		return "opencode.json"
	}
	return "native YAML"
}

// isShape reports whether text is a whole config of that shape.
func isShape(text, shape string) bool {
	var top map[string]any
	if shape == Opencode {
		if json.Unmarshal([]byte(text), &top) != nil {
			return false
		}
		_, ok := top["provider"]
		return ok
	}
	if yaml.Unmarshal(bytes.TrimSpace([]byte(text)), &top) != nil {
		return false
	}
	_, ok := top["providers"]
	return ok
}
