// Package stubidp is core's test token endpoint: an httptest server that
// answers with canned replies in order (repeating the last) and records
// every request. The unit tests of core's packages share it; end-to-end
// behaviour is tested against mockidp and real IdPs instead.
package stubidp

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
)

// Reply is one canned answer.
type Reply struct {
	Status      int
	ContentType string // none when empty
	Body        string
	Header      map[string]string
	// Hangup closes the connection without answering.
	Hangup bool
	// Echo answers 400 invalid_grant with the request body and
	// Authorization header as description (a misbehaving IdP, for
	// redaction tests).
	Echo bool
}

// JSON is a reply with a JSON body.
func JSON(status int, body string) Reply {
	return Reply{Status: status, ContentType: "application/json", Body: body}
}

// Request is what the server received.
type Request struct {
	Method, Path string
	Header       http.Header
	Form         url.Values
}

// Server is the stub IdP.
type Server struct {
	srv     *httptest.Server
	mu      sync.Mutex
	replies []Reply
	reqs    []Request
}

// New starts a Server answering replies; it stops when the test ends.
func New(t testing.TB, replies ...Reply) *Server {
	t.Helper()
	s := &Server{replies: replies}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	s.mu.Lock()
	n := len(s.reqs)
	s.reqs = append(s.reqs, Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Form: form})
	rep := s.replies[min(n, len(s.replies)-1)]
	s.mu.Unlock()
	if rep.Hangup {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	}
	for k, v := range rep.Header {
		w.Header().Set(k, v)
	}
	if rep.ContentType != "" {
		w.Header().Set("Content-Type", rep.ContentType)
	}
	if rep.Echo {
		w.WriteHeader(400)
		fmt.Fprintf(w, `{"error":"invalid_grant","error_description":%q}`, "rejected "+string(body)+" "+r.Header.Get("Authorization"))
		return
	}
	w.WriteHeader(rep.Status)
	io.WriteString(w, rep.Body)
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// URL is the server's base URL.
func (s *Server) URL() string { return s.srv.URL }

// TokenURL is the token endpoint's URL (any path answers).
func (s *Server) TokenURL() string { return s.srv.URL + "/token" }

// Client is an HTTP client for the server.
func (s *Server) Client() *http.Client { return s.srv.Client() }
