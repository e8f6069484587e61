package proxy

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// rawRequest sends request on a new connection to addr and returns the
// response status.
func rawRequest(t *testing.T, addr, request string) int {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestProxyRefusesHostileRequests: TRACE would echo the injected bearer
// back to a script; dot-segments would let a client climb out of the
// upstream's base path; a malformed chunked body is the client's fault,
// not the upstream's.
func TestProxyRefusesHostileRequests(t *testing.T) {
	var s seen
	proxyURL, _ := startProxy(t, "/v1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.record(r)
	}), &fakeSource{})
	addr := strings.TrimPrefix(proxyURL, "http://")
	tests := []struct {
		name, request string
		wantStatus    int
	}{
		{"TRACE", "TRACE /x HTTP/1.1\r\nHost: " + addr + "\r\n\r\n", http.StatusMethodNotAllowed},
		{"dot-dot segments", "GET /v1/../../admin HTTP/1.1\r\nHost: " + addr + "\r\n\r\n", http.StatusBadRequest},
		{"leading dot-dot", "GET /../admin HTTP/1.1\r\nHost: " + addr + "\r\n\r\n", http.StatusBadRequest},
		{"encoded dot-dot", "GET /%2e%2e/admin HTTP/1.1\r\nHost: " + addr + "\r\n\r\n", http.StatusBadRequest},
		{"mixed-case encoded dot-dot", "GET /a/.%2E/%2E./admin HTTP/1.1\r\nHost: " + addr + "\r\n\r\n", http.StatusBadRequest},
		{"single dot segment", "GET /./admin HTTP/1.1\r\nHost: " + addr + "\r\n\r\n", http.StatusBadRequest},
		{"encoded slash then dot-dot", "GET /a%2f..%2fadmin HTTP/1.1\r\nHost: " + addr + "\r\n\r\n", http.StatusBadRequest},
		{"malformed chunked body", "POST /x HTTP/1.1\r\nHost: " + addr + "\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rawRequest(t, addr, tt.request); got != tt.wantStatus {
				t.Errorf("status = %d, want %d", got, tt.wantStatus)
			}
		})
	}
	if got := s.all(); len(got) != 0 {
		t.Errorf("upstream received %d hostile requests, first %s %s", len(got), got[0].Method, got[0].Path)
	}
	// Dots inside a segment are ordinary names.
	if got := rawRequest(t, addr, "GET /files/..hidden/a.b HTTP/1.1\r\nHost: "+addr+"\r\n\r\n"); got != http.StatusOK {
		t.Errorf("a path with dots inside segments: status %d, want 200", got)
	}
}
