package proxy

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/fedtoken/fedtoken/sidecar/internal/responsesrepair"
)

// With responsesrepair hooked in, a Responses stream without indices
// reaches the client repaired and event by event; other paths are
// untouched.
func TestProxyRepairsResponsesStream(t *testing.T) {
	sendSecond := make(chan struct{})
	first := `data: {"type":"response.output_item.added","item":{"id":"m"}}` + "\n\n"
	second := `data: {"type":"response.output_text.delta","item_id":"m","delta":"hi"}` + "\n\n"
	proxyURL, _ := startProxy(t, "", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, first)
		w.(http.Flusher).Flush()
		if r.URL.Path == "/v1/responses" {
			<-sendSecond // the client must have read the first event already
		}
		fmt.Fprint(w, second)
	}), &fakeSource{}, WithModifyResponse(responsesrepair.ModifyResponse))

	resp, err := http.Post(proxyURL+"/v1/responses", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rd := bufio.NewReader(resp.Body)
	line, err := rd.ReadString('\n')
	close(sendSecond)
	if want := `data: {"output_index":0,"type":"response.output_item.added","item":{"id":"m"}}` + "\n"; err != nil || line != want {
		t.Fatalf("first event: %q, %v; want %q", line, err, want)
	}
	rest, err := io.ReadAll(rd)
	if err != nil {
		t.Fatal(err)
	}
	if want := "\n" + `data: {"output_index":0,"content_index":0,"type":"response.output_text.delta","item_id":"m","delta":"hi"}` + "\n\n"; string(rest) != want {
		t.Errorf("rest = %q, want %q", rest, want)
	}

	resp, err = http.Post(proxyURL+"/v1/chat/completions", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if b, _ := io.ReadAll(resp.Body); string(b) != first+second {
		t.Errorf("chat completions stream changed: %q", b)
	}
}
