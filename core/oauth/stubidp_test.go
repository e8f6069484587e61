package oauth

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"
)

// stubReply is one canned answer of a stubIdP.
type stubReply struct {
	status int
	ctype  string
	body   string
	header map[string]string
	hangup bool // close the connection without answering
}

// stubRequest is what a stubIdP received.
type stubRequest struct {
	method, path string
	header       http.Header
	form         url.Values
}

// stubIdP is an httptest server that answers with replies in order
// (repeating the last) and records every request.
type stubIdP struct {
	srv     *httptest.Server
	mu      sync.Mutex
	replies []stubReply
	reqs    []stubRequest
}

func newStubIdP(t *testing.T, replies ...stubReply) *stubIdP {
	t.Helper()
	s := &stubIdP{replies: replies}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *stubIdP) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	s.mu.Lock()
	n := len(s.reqs)
	s.reqs = append(s.reqs, stubRequest{method: r.Method, path: r.URL.Path, header: r.Header.Clone(), form: form})
	rep := s.replies[min(n, len(s.replies)-1)]
	s.mu.Unlock()
	if rep.hangup {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	}
	for k, v := range rep.header {
		w.Header().Set(k, v)
	}
	if rep.ctype != "" {
		w.Header().Set("Content-Type", rep.ctype)
	}
	w.WriteHeader(rep.status)
	io.WriteString(w, rep.body)
}

func (s *stubIdP) requests() []stubRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]stubRequest(nil), s.reqs...)
}

func (s *stubIdP) url() string { return s.srv.URL + "/token" }

// sleepRecorder is an injectable RetryPolicy.Sleep that never sleeps.
type sleepRecorder struct {
	mu     sync.Mutex
	waits  []time.Duration
	onCall func()
}

func (r *sleepRecorder) sleep(ctx context.Context, d time.Duration) error {
	r.mu.Lock()
	r.waits = append(r.waits, d)
	f := r.onCall
	r.mu.Unlock()
	if f != nil {
		f()
	}
	return ctx.Err()
}

func (r *sleepRecorder) recorded() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Duration(nil), r.waits...)
}

var testNow = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// testClient returns a Client with a fixed clock and a recording sleeper.
func testClient(s *stubIdP) (*Client, *sleepRecorder) {
	rec := &sleepRecorder{}
	return &Client{
		HTTPClient: s.srv.Client(),
		Retry:      RetryPolicy{Sleep: rec.sleep},
		Now:        func() time.Time { return testNow },
	}, rec
}

const okBody = `{"access_token":"at-1","token_type":"bearer","expires_in":300}`

func jsonReply(status int, body string) stubReply {
	return stubReply{status: status, ctype: "application/json", body: body}
}
