package models

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"

	"github.com/fedtoken/fedtoken/core/config"
)

// npm packages opencode loads for an OpenAI-compatible provider: Chat
// Completions, or the Responses API (responseApi), as the plugin sets them.
const (
	NPMChatCompletions = "@ai-sdk/openai-compatible"
	NPMResponses       = "@ai-sdk/openai"
)

// Fragment is the opencode configuration that puts lists (provider id →
// models) into provider.<id>.models, each model as {"id", "name"}. opencode
// merges it over its other configuration files (OPENCODE_CONFIG_CONTENT),
// so settings written for a model elsewhere are kept.
func Fragment(lists map[string][]Model) map[string]any {
	providers := make(map[string]any, len(lists))
	for id, list := range lists {
		ms := make(map[string]any, len(list))
		for _, m := range list {
			ms[m.ID] = map[string]any{"id": m.ID, "name": m.Name}
		}
		providers[id] = map[string]any{"models": ms}
	}
	return map[string]any{"provider": providers}
}

// merge returns base with over merged in, the way opencode merges its
// configuration files: objects key by key, recursively; any other value of
// over replaces base's. Neither argument is modified.
func merge(base, over map[string]any) map[string]any {
	out := maps.Clone(base)
	if out == nil {
		out = map[string]any{}
	}
	for k, v := range over {
		if vm, ok := v.(map[string]any); ok {
			if bm, ok := out[k].(map[string]any); ok {
				out[k] = merge(bm, vm)
				continue
			}
			out[k] = merge(nil, vm)
			continue
		}
		out[k] = v
	}
	return out
}

// MergeJSON merges over into the opencode.json text base (JSON with
// comments allowed; empty means {}) and returns the result as JSON.
func MergeJSON(base []byte, over map[string]any) ([]byte, error) {
	var b map[string]any
	if len(bytes.TrimSpace(base)) > 0 {
		if err := json.Unmarshal(config.PlainJSON(base), &b); err != nil {
			return nil, fmt.Errorf("not a JSON object: %w", err)
		}
	}
	return json.Marshal(merge(b, over))
}
