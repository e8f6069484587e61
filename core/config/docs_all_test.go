package config

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestEveryDocsConfigParses finds every fedtoken config anywhere in docs/
// and parses it: each json/jsonc/yaml block whose top level is a config
// (providers, provider or pluginConfig), each document of a multi-document
// YAML block, and each opencode.json / fedtoken.yaml embedded in a
// ConfigMap. A block whose file name (see docs/configuration.md) starts with
// "invalid" is the documented failure and is checked by TestDocsExamples.
// Blocks that are not fedtoken configs (realms, Dex, manifests) are skipped;
// a fedtoken config that does not parse fails the test.
func TestEveryDocsConfigParses(t *testing.T) {
	var files []string
	err := filepath.WalkDir("../../docs", func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".md") {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, f := range files {
		for _, b := range readDocBlocks(t, f) {
			if strings.HasPrefix(filepath.Base(b.file), "invalid") {
				continue
			}
			var configs []docConfig
			switch b.lang {
			case "json", "jsonc":
				configs = configsIn(b.text, ".json")
			case "yaml", "yml":
				for _, doc := range splitYAML(b.text) {
					configs = append(configs, configsIn(doc, ".yaml")...)
				}
			}
			for _, c := range configs {
				total++
				if _, err := Parse([]byte(c.text), "doc"+c.ext); err != nil {
					t.Errorf("%s:%d: a config in this block does not parse:\n%v", f, b.line, err)
				}
			}
		}
	}
	if total < 10 {
		t.Errorf("found only %d configs in docs/; the scan is broken", total)
	}
	t.Logf("%d configs in %d docs parse", total, len(files))
}

type docConfig struct{ text, ext string }

// configsIn returns text itself when it is a fedtoken config, or the
// configs a ConfigMap in it embeds.
func configsIn(text, ext string) []docConfig {
	var top map[string]any
	data := []byte(text)
	if ext == ".json" {
		data = stripJSONC(data)
		if json.Unmarshal(data, &top) != nil {
			return nil // a fragment, not a document
		}
	} else if yaml.Unmarshal(data, &top) != nil {
		return nil
	}
	for _, k := range []string{"providers", "provider", "pluginConfig"} {
		if _, ok := top[k]; ok {
			return []docConfig{{text, ext}}
		}
	}
	var out []docConfig
	if top["kind"] == "ConfigMap" {
		d, _ := top["data"].(map[string]any)
		for name, v := range d {
			s, _ := v.(string)
			switch strings.ToLower(filepath.Ext(name)) {
			case ".json", ".jsonc":
				out = append(out, configsIn(s, ".json")...)
			case ".yaml", ".yml":
				out = append(out, configsIn(s, ".yaml")...)
			}
		}
	}
	return out
}

func splitYAML(text string) []string {
	var docs []string
	for _, d := range bytes.Split([]byte("\n"+text), []byte("\n---")) {
		if s := strings.TrimSpace(string(d)); s != "" {
			docs = append(docs, string(d))
		}
	}
	return docs
}
