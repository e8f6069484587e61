package responsesrepair

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// omitting is a Responses stream as the non-conformant gateways send it:
// no output_index, no content_index.
const omitting = "event: response.created\n" +
	`data: {"type":"response.created","response":{"id":"resp_1","status":"in_progress","output":[]}}` + "\n\n" +
	"event: response.output_item.added\n" +
	`data: {"type":"response.output_item.added","item":{"id":"rs_1","type":"reasoning","summary":[]}}` + "\n\n" +
	"event: response.reasoning_text.delta\n" +
	`data: {"type":"response.reasoning_text.delta","item_id":"rs_1","delta":"hm"}` + "\n\n" +
	"event: response.output_item.added\n" +
	`data: {"type":"response.output_item.added","item":{"id":"msg_1","type":"message","role":"assistant","content":[]}}` + "\n\n" +
	"event: response.content_part.added\n" +
	`data: {"type":"response.content_part.added","item_id":"msg_1","part":{"type":"output_text","text":""}}` + "\n\n" +
	"event: response.output_text.delta\n" +
	`data: {"type":"response.output_text.delta","item_id":"msg_1","delta":"Hello"}` + "\n\n" +
	": keep-alive\n\n" +
	"event: response.output_item.done\n" +
	`data: {"type":"response.output_item.done","item":{"id":"msg_1","type":"message"}}` + "\n\n" +
	"event: response.completed\n" +
	`data: {"type":"response.completed","response":{"id":"resp_1","status":"completed"}}` + "\n\n" +
	"data: [DONE]\n\n"

func repairAll(t *testing.T, in string) string {
	t.Helper()
	out, err := io.ReadAll(NewReader(io.NopCloser(strings.NewReader(in))))
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// events decodes the data lines of a stream.
func events(t *testing.T, stream string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.ReplaceAll(stream, "\r\n", "\n"), "\n") {
		v, ok := strings.CutPrefix(line, "data: ")
		if !ok || !strings.HasPrefix(v, "{") {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(v), &m); err != nil {
			t.Fatalf("data line is not JSON after the repair: %v: %s", err, v)
		}
		out = append(out, m)
	}
	return out
}

func TestInjectsIndices(t *testing.T) {
	got := events(t, repairAll(t, omitting))
	type idx struct{ out, content any }
	want := map[string]idx{
		"response.created":              {nil, nil},
		"response.reasoning_text.delta": {float64(0), float64(0)},
		"response.content_part.added":   {float64(1), float64(0)},
		"response.output_text.delta":    {float64(1), float64(0)},
		"response.output_item.done":     {float64(1), nil},
		"response.completed":            {nil, nil},
	}
	added := 0
	for _, ev := range got {
		typ := ev["type"].(string)
		if typ == "response.output_item.added" {
			if ev["output_index"] != float64(added) {
				t.Errorf("output_item.added #%d: output_index %v", added, ev["output_index"])
			}
			added++
			continue
		}
		w := want[typ]
		if ev["output_index"] != w.out || ev["content_index"] != w.content {
			t.Errorf("%s: output_index %v content_index %v, want %v %v", typ, ev["output_index"], ev["content_index"], w.out, w.content)
		}
	}
	if added != 2 || len(got) != 8 {
		t.Fatalf("%d events, %d items added", len(got), added)
	}
}

func TestConformantStreamUnchanged(t *testing.T) {
	// The repaired stream is conformant; repairing it again changes
	// nothing, byte for byte.
	once := repairAll(t, omitting)
	if twice := repairAll(t, once); twice != once {
		t.Errorf("conformant stream changed:\n%s\n---\n%s", once, twice)
	}
}

func TestNeverOverwrites(t *testing.T) {
	in := `data: {"type":"response.output_item.added","output_index":7,"item":{"id":"a"}}` + "\n\n" +
		`data: {"type":"response.output_text.delta","item_id":"a","output_index":3,"content_index":2}` + "\n\n" +
		`data: {"type":"response.output_text.delta","item_id":"a","output_index":null}` + "\n\n"
	got := events(t, repairAll(t, in))
	if got[0]["output_index"] != float64(7) || got[1]["output_index"] != float64(3) || got[1]["content_index"] != float64(2) {
		t.Errorf("existing indices changed: %v", got)
	}
	if got[2]["output_index"] != nil || got[2]["content_index"] != float64(0) {
		t.Errorf("null output_index must stay, content_index added: %v", got[2])
	}
}

func TestCRLF(t *testing.T) {
	in := strings.ReplaceAll(omitting, "\n", "\r\n")
	out := repairAll(t, in)
	if strings.Count(out, "\r\n\r\n") != strings.Count(in, "\r\n\r\n") || strings.Contains(strings.ReplaceAll(out, "\r\n", ""), "\n") {
		t.Errorf("CRLF framing not kept:\n%q", out)
	}
	lf := events(t, repairAll(t, omitting))
	crlf := events(t, out)
	if len(lf) != len(crlf) {
		t.Fatalf("%d events with CRLF, %d with LF", len(crlf), len(lf))
	}
	for i := range lf {
		if lf[i]["output_index"] != crlf[i]["output_index"] || lf[i]["content_index"] != crlf[i]["content_index"] {
			t.Errorf("event %d: CRLF %v, LF %v", i, crlf[i], lf[i])
		}
	}
}

func TestPassThrough(t *testing.T) {
	for name, in := range map[string]string{
		"comment":       ": hello\n\n",
		"done":          "data: [DONE]\n\n",
		"not json":      "data: {oops\n\n",
		"multi-line":    "data: {\"type\":\"response.output_text.delta\",\ndata: \"item_id\":\"x\"}\n\n",
		"no type":       `data: {"a":1}` + "\n\n",
		"unknown item":  `data: {"type":"response.function_call_arguments.delta","item_id":"zz"}` + "\n\n",
		"no final line": `data: {"type":"response.created"}`,
		"empty":         "",
	} {
		if got := repairAll(t, in); got != in {
			t.Errorf("%s: %q became %q", name, in, got)
		}
	}
}

// A frame is handed on as soon as its blank line is read: the next frame
// is written only after the previous one has been read back whole, so a
// reader that waited for more would block (and the test time out).
func TestStreamsFrameByFrame(t *testing.T) {
	pr, pw := io.Pipe()
	r := NewReader(pr)
	want := strings.SplitAfter(repairAll(t, omitting), "\n\n")
	for i, f := range strings.SplitAfter(omitting, "\n\n") {
		if f == "" {
			continue
		}
		go func() { _, _ = pw.Write([]byte(f)) }()
		got := make([]byte, len(want[i]))
		if _, err := io.ReadFull(r, got); err != nil {
			t.Fatal(err)
		}
		if string(got) != want[i] {
			t.Fatalf("frame %d: %q, want %q", i, got, want[i])
		}
	}
	pw.Close()
	if n, err := r.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Errorf("after the last frame: %d, %v", n, err)
	}
}

func TestOversizedFramePassesThrough(t *testing.T) {
	big := `data: {"type":"response.output_text.delta","item_id":"x","delta":"` + strings.Repeat("a", MaxEvent) + `"}` + "\n\n"
	in := big + `data: {"type":"response.output_text.delta","item_id":"x"}` + "\n\n"
	out := repairAll(t, in)
	if !strings.HasPrefix(out, big) {
		t.Error("oversized frame changed")
	}
	if !strings.HasSuffix(out, `data: {"content_index":0,"type":"response.output_text.delta","item_id":"x"}`+"\n\n") {
		t.Errorf("frame after an oversized one not repaired: %q", out[len(big):])
	}
}

func TestApplies(t *testing.T) {
	mk := func(path, ct, ce string) *http.Response {
		h := http.Header{"Content-Type": {ct}}
		if ce != "" {
			h.Set("Content-Encoding", ce)
		}
		return &http.Response{Header: h, Body: io.NopCloser(strings.NewReader("")),
			Request: &http.Request{URL: &url.URL{Path: path}}}
	}
	for _, c := range []struct {
		resp *http.Response
		want bool
	}{
		{mk("/v1/responses", "text/event-stream", ""), true},
		{mk("/v1/responses", "Text/Event-Stream; charset=utf-8", ""), true},
		{mk("/v1/responses", "application/json", ""), false},
		{mk("/v1/chat/completions", "text/event-stream", ""), false},
		{mk("/v1/responses", "text/event-stream", "gzip"), false},
	} {
		if got := Applies(c.resp); got != c.want {
			t.Errorf("%s %s %s: %v", c.resp.Request.URL.Path, c.resp.Header.Get("Content-Type"), c.resp.Header.Get("Content-Encoding"), got)
		}
	}
	resp := mk("/v1/responses", "text/event-stream", "")
	resp.Header.Set("Content-Length", "5")
	if err := ModifyResponse(resp); err != nil {
		t.Fatal(err)
	}
	if _, ok := resp.Body.(*Reader); !ok || resp.Header.Get("Content-Length") != "" || resp.ContentLength != -1 {
		t.Errorf("body %T, Content-Length %q", resp.Body, resp.Header.Get("Content-Length"))
	}
}
