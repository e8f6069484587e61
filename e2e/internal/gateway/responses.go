package gateway

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// streamResponses writes an OpenAI Responses API event stream of text the
// way some gateways (Envoy AI Gateway in front of a local model server)
// do: every event without output_index and content_index. opencode
// (@ai-sdk/openai) cannot assemble such a stream unless something
// repairs it.
func streamResponses(w http.ResponseWriter, text string) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	fl, _ := w.(http.Flusher)
	created := time.Now().Unix()
	resp := func(status string, output []any) map[string]any {
		r := map[string]any{"id": "resp_e2e", "object": "response", "created_at": created, "model": "glm-5",
			"status": status, "output": output, "incomplete_details": nil}
		if status == "completed" {
			r["usage"] = map[string]any{"input_tokens": 10, "output_tokens": len(strings.Fields(text)), "total_tokens": 10 + len(strings.Fields(text)),
				"input_tokens_details": map[string]any{"cached_tokens": 0}, "output_tokens_details": map[string]any{"reasoning_tokens": 0}}
		}
		return r
	}
	seq := 0
	event := func(typ string, fields map[string]any) {
		fields["type"] = typ
		fields["sequence_number"] = seq
		seq++
		b, _ := json.Marshal(fields)
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", typ, b)
		if fl != nil {
			fl.Flush()
		}
	}
	const msg = "msg_e2e"
	part := func(t string) map[string]any {
		return map[string]any{"type": "output_text", "text": t, "annotations": []any{}}
	}
	item := func(status string, content []any) map[string]any {
		return map[string]any{"id": msg, "type": "message", "role": "assistant", "status": status, "content": content}
	}
	event("response.created", map[string]any{"response": resp("in_progress", []any{})})
	event("response.in_progress", map[string]any{"response": resp("in_progress", []any{})})
	event("response.output_item.added", map[string]any{"item": item("in_progress", []any{})})
	event("response.content_part.added", map[string]any{"item_id": msg, "part": part("")})
	for _, word := range strings.SplitAfter(text, " ") {
		event("response.output_text.delta", map[string]any{"item_id": msg, "delta": word, "logprobs": []any{}})
	}
	event("response.output_text.done", map[string]any{"item_id": msg, "text": text, "logprobs": []any{}})
	event("response.content_part.done", map[string]any{"item_id": msg, "part": part(text)})
	done := item("completed", []any{part(text)})
	event("response.output_item.done", map[string]any{"item": done})
	event("response.completed", map[string]any{"response": resp("completed", []any{done})})
}
