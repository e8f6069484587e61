// Package responsesrepair repairs OpenAI Responses API event streams from
// gateways that leave out output_index and content_index (seen with Envoy
// AI Gateway in front of a local model server). The AI SDK behind
// opencode keys message parts by those indices; without them opencode
// fails with "text part <id> not found".
//
// The rules are the opencode-oauth2 plugin's (responseApi): only a
// response to a path containing /responses with Content-Type
// text/event-stream is touched; output_index is assigned per item in the
// order of its response.output_item.added event; content_index is 0 on
// content_part, output_text and reasoning_text events; an index that is
// present is never changed. Frames may end in LF or CRLF. A frame is
// passed on as soon as its blank line arrives — nothing is buffered beyond
// the event being read — and a frame that needs no index goes out byte for
// byte as it came, so a conformant stream passes through unchanged.
package responsesrepair

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// MaxEvent is the largest frame the repair parses; a longer one is passed
// on untouched, as it arrives.
const MaxEvent = 1 << 20

// Applies reports whether resp is a Responses API event stream that
// the repair is for: a request path containing /responses, Content-Type
// text/event-stream, and no Content-Encoding.
func Applies(resp *http.Response) bool {
	if resp == nil || resp.Request == nil || resp.Request.URL == nil || resp.Body == nil || resp.Body == http.NoBody {
		return false
	}
	if !strings.Contains(resp.Request.URL.Path, "/responses") {
		return false
	}
	if ce := resp.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return false
	}
	mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return err == nil && mt == "text/event-stream"
}

// ModifyResponse is an httputil.ReverseProxy.ModifyResponse hook: it
// replaces the body of a response for which Applies holds with a repairing
// reader, and leaves every other response alone.
func ModifyResponse(resp *http.Response) error {
	if !Applies(resp) {
		return nil
	}
	resp.Body = NewReader(resp.Body)
	resp.ContentLength = -1
	resp.Header.Del("Content-Length")
	return nil
}

// Reader repairs the event stream read from its source. Each stream needs
// its own Reader (the item → index map lasts for the whole stream).
type Reader struct {
	src      io.ReadCloser
	br       *bufio.Reader
	frame    []byte // the frame being read
	out      []byte // bytes ready for Read
	passing  bool   // inside an oversized frame: copy until its blank line
	err      error
	outIndex map[string]int
	next     int
}

// NewReader returns a Reader over src; closing it closes src.
func NewReader(src io.ReadCloser) *Reader {
	return &Reader{src: src, br: bufio.NewReaderSize(src, 16<<10), outIndex: map[string]int{}}
}

// Close closes the source.
func (r *Reader) Close() error { return r.src.Close() }

// Read returns repaired bytes. It blocks only until one more frame (or,
// for an oversized frame, one more line) has arrived.
func (r *Reader) Read(p []byte) (int, error) {
	for len(r.out) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		r.step()
	}
	n := copy(p, r.out)
	r.out = r.out[n:]
	return n, nil
}

// step reads one line and moves a complete frame (or an oversized frame's
// bytes) to out.
func (r *Reader) step() {
	line, err := r.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		err = nil // a long line: keep reading it
	}
	blank := err == nil && (len(line) == 1 || (len(line) == 2 && line[0] == '\r')) && endsLine(line)
	switch {
	case r.passing:
		r.out = append(r.out, line...)
		if blank {
			r.passing = false
		}
	default:
		r.frame = append(r.frame, line...)
		switch {
		case blank && len(r.frame) == len(line):
			// a blank line between frames
			r.out, r.frame = append(r.out, r.frame...), r.frame[:0]
		case blank:
			r.out = append(r.out, r.repair(r.frame)...)
			r.frame = r.frame[:0]
		case len(r.frame) > MaxEvent:
			r.out, r.frame = append(r.out, r.frame...), r.frame[:0]
			r.passing = true
		}
	}
	if err != nil {
		if len(r.frame) > 0 {
			// the stream ended inside a frame: repair what there is
			r.out = append(r.out, r.repair(r.frame)...)
			r.frame = r.frame[:0]
		}
		r.err = err
	}
}

func endsLine(b []byte) bool { return len(b) > 0 && b[len(b)-1] == '\n' }

var contentEvent = regexp.MustCompile(`content_part|output_text|reasoning_text`)

// repair returns frame with the missing indices of its data line added, or
// frame itself when none is missing or it is not a single-data-line JSON
// event.
func (r *Reader) repair(frame []byte) []byte {
	start, end, ok := dataLine(frame)
	if !ok {
		return frame
	}
	data := frame[start:end]
	var ev map[string]json.RawMessage
	if json.Unmarshal(data, &ev) != nil || ev == nil {
		return frame
	}
	var typ, itemID string
	_ = json.Unmarshal(ev["type"], &typ)
	if raw, ok := ev["item"]; ok {
		var item struct {
			ID any `json:"id"`
		}
		if json.Unmarshal(raw, &item) == nil {
			itemID, _ = item.ID.(string)
		}
	}
	if itemID == "" {
		var id any
		_ = json.Unmarshal(ev["item_id"], &id)
		itemID, _ = id.(string)
	}
	if typ == "response.output_item.added" && itemID != "" {
		if _, seen := r.outIndex[itemID]; !seen {
			r.outIndex[itemID] = r.next
			r.next++
		}
	}
	var add []byte
	if idx, known := r.outIndex[itemID]; known && itemID != "" && !has(ev, "output_index") {
		add = append(add, `"output_index":`+strconv.Itoa(idx)+`,`...)
	}
	if contentEvent.MatchString(typ) && !has(ev, "content_index") {
		add = append(add, `"content_index":0,`...)
	}
	if len(add) == 0 {
		return frame
	}
	// Insert after the object's "{": every other byte stays as it was.
	brace := start + bytes.IndexByte(data, '{') + 1
	if len(ev) == 0 {
		add = add[:len(add)-1] // no member follows: drop the comma
	}
	out := make([]byte, 0, len(frame)+len(add))
	out = append(out, frame[:brace]...)
	out = append(out, add...)
	return append(out, frame[brace:]...)
}

// has reports whether ev has key. A null value counts as present, as in
// the plugin (which only fills in undefined fields).
func has(ev map[string]json.RawMessage, key string) bool {
	_, ok := ev[key]
	return ok
}

// dataLine finds the value of the frame's only "data:" line (without the
// optional space after the colon and without the line ending).
func dataLine(frame []byte) (start, end int, ok bool) {
	found := false
	off := 0
	for off < len(frame) {
		nl := bytes.IndexByte(frame[off:], '\n')
		lineEnd := len(frame)
		if nl >= 0 {
			lineEnd = off + nl
		}
		line := frame[off:lineEnd]
		if v, isData := bytes.CutPrefix(line, []byte("data:")); isData {
			if found {
				return 0, 0, false // a multi-line data field: not ours to split
			}
			found = true
			s := off + len("data:")
			for _, c := range v {
				if c != ' ' && c != '\t' {
					break
				}
				s++
			}
			e := lineEnd
			if e > s && frame[e-1] == '\r' {
				e--
			}
			start, end = s, e
		}
		off = lineEnd + 1
	}
	if !found || start >= end || frame[start] != '{' {
		return 0, 0, false
	}
	return start, end, true
}
