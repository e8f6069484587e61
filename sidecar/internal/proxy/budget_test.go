package proxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestSlowClientsCannotHoldMoreThanTheBufferBudget: 60 clients that
// announce a 1 MiB body and send it slowly used to make the proxy allocate
// 60 MiB (RSS over the manifests' 64 Mi limit). Retry buffers now come out
// of one budget; requests beyond it stream without retry.
func TestSlowClientsCannotHoldMoreThanTheBufferBudget(t *testing.T) {
	var s seen
	const budget = 4 << 20
	proxyURL, h := startHandler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.record(r) }),
		WithRetryBuffer(1<<20), WithBufferBudget(budget), WithBodyReadTimeout(time.Minute))
	addr := strings.TrimPrefix(proxyURL, "http://")
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range 60 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		fmt.Fprintf(c, "POST /upload HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n\r\nfirst bytes", addr, 1<<20)
	}
	waitUntil(t, "the budget to be used up", func() bool { return h.budget.inUse() == budget })
	if used := h.budget.inUse(); used > budget {
		t.Fatalf("retry buffers hold %d bytes, budget %d", used, budget)
	}
	for _, c := range conns {
		c.Close()
	}
	waitUntil(t, "the budget to be released", func() bool { return h.budget.inUse() == 0 })
}

// TestSlowBodyTimesOut: a client trickling a body that is being buffered
// gets 408 after the body read timeout instead of holding the buffer.
func TestSlowBodyTimesOut(t *testing.T) {
	var s seen
	proxyURL, _ := startProxy(t, "", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.record(r) }),
		&fakeSource{}, WithBodyReadTimeout(50*time.Millisecond))
	addr := strings.TrimPrefix(proxyURL, "http://")
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /upload HTTP/1.1\r\nHost: %s\r\nContent-Length: 100\r\n\r\nonly this", addr)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer to a stalled body: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusRequestTimeout {
		t.Fatalf("status = %d, want 408", resp.StatusCode)
	}
	if n := len(s.all()); n != 0 {
		t.Fatalf("upstream received %d requests", n)
	}
}

// startHandler is startProxy that also returns the Handler.
func startHandler(t *testing.T, upstream http.Handler, opts ...Option) (string, *Handler) {
	t.Helper()
	up := httptest.NewServer(upstream)
	t.Cleanup(up.Close)
	u, _ := url.Parse(up.URL)
	h, err := New(u, &fakeSource{}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(h)
	t.Cleanup(front.Close)
	return front.URL, h
}

// waitUntil polls cond until it holds, failing the test after 10 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond) // polling with a deadline
	}
}
