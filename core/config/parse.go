package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/fedtoken/fedtoken/core/internal/regularfile"
)

// MaxFileSize bounds a config file; larger input is refused.
const MaxFileSize = 4 << 20

// Load reads and parses the config file at path (see Parse). Errors name
// the path.
//
// A FIFO, device or socket at path is refused rather than read: reading
// one could block forever.
func Load(path string) (*File, error) {
	f, err := regularfile.Open(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("config: %w", err)
		}
		return nil, fmt.Errorf("config: %s %w", path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("config: read %s: %w", path, err)
	}
	return Parse(data, path)
}

// Parse parses a config file's contents; name (a path or any label) is
// used in errors and to pick the syntax: .json and .jsonc are JSON (with
// // and /* */ comments and trailing commas, as opencode allows), .yaml and
// .yml are YAML, anything else is JSON when it starts with "{" and YAML
// otherwise.
//
// The shape is detected from the top-level keys: "provider" or
// "pluginConfig" means opencode.json, "providers" means native.
//
// Parse reports every invalid field it finds, each as a *FieldError, joined
// with errors.Join.
func Parse(data []byte, name string) (*File, error) {
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("config %s: larger than %d bytes", name, MaxFileSize)
	}
	root, err := decode(data, name)
	if err != nil {
		return nil, err
	}
	if root == nil {
		return nil, fmt.Errorf("config %s: empty document", name)
	}
	top, ok := root.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("config %s: the top level must be an object, got %s", name, typeName(root))
	}

	d := &decoder{file: name}
	o := object{d: d, m: top}
	_, native := top["providers"]
	_, provider := top["provider"]
	_, plugin := top["pluginConfig"]

	var file *File
	switch {
	case native && (provider || plugin):
		return nil, fmt.Errorf("config %s: has both \"providers\" (fedtoken native) and \"provider\"/\"pluginConfig\" (opencode.json); use one shape", name)
	case native:
		file = parseNative(o)
	case provider || plugin:
		file = parseOpenCode(o)
	default:
		return nil, fmt.Errorf("config %s: expected a top-level \"providers\" (fedtoken native config) or \"provider\"/\"pluginConfig\" (opencode.json); found %s",
			name, describeKeys(o.keys()))
	}
	if len(d.errs) > 0 {
		return nil, errors.Join(d.errs...)
	}
	file.Path = name
	file.Warnings = d.warns
	slices.SortFunc(file.Providers, func(a, b Provider) int { return strings.Compare(a.ID, b.ID) })
	return file, nil
}

func describeKeys(keys []string) string {
	if len(keys) == 0 {
		return "no keys"
	}
	const limit = 8
	if len(keys) > limit {
		keys = append(keys[:limit:limit], "…")
	}
	return "keys " + strings.Join(keys, ", ")
}

// decode turns JSON(C) or YAML into map[string]any / []any / json.Number /
// string / bool / nil.
func decode(data []byte, name string) (any, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	asJSON := false
	switch strings.ToLower(filepath.Ext(name)) {
	case ".json", ".jsonc":
		asJSON = true
	case ".yaml", ".yml":
	default:
		t := bytes.TrimLeft(data, " \t\r\n")
		asJSON = len(t) > 0 && t[0] == '{'
	}
	if asJSON {
		data = stripJSONC(data)
	} else {
		j, err := yaml.YAMLToJSONStrict(data)
		if err != nil {
			return nil, fmt.Errorf("config %s: invalid YAML: %s", name, strings.TrimPrefix(err.Error(), "error converting YAML to JSON: "))
		}
		data = j
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("config %s: invalid JSON: unexpected end of input (an unclosed { or [ ?)", name)
		}
		return nil, fmt.Errorf("config %s: invalid JSON%s: %v", name, position(data, dec.InputOffset(), err), err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("config %s: invalid JSON%s: unexpected data after the top-level value", name, position(data, dec.InputOffset(), nil))
	}
	return v, nil
}

// position renders " at line L, column C" for a JSON error.
func position(data []byte, off int64, err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		off = se.Offset
	}
	if off < 0 || off > int64(len(data)) {
		return ""
	}
	before := data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(off) - (bytes.LastIndexByte(before, '\n') + 1)
	if col == 0 {
		col = 1
	}
	return fmt.Sprintf(" at line %d, column %d", line, col)
}
