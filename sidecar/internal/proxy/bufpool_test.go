package proxy

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"sync"
	"testing"
)

func TestBufferPoolHandsOutFullSizeBuffers(t *testing.T) {
	var p BufferPool
	buf := p.Get()
	if len(buf) != copyBufferSize {
		t.Fatalf("Get: len %d, want %d", len(buf), copyBufferSize)
	}
	// ReverseProxy hands back what it was given; a shortened slice of the
	// same array is restored to full length.
	p.Put(buf[:10])
	if got := p.Get(); len(got) != copyBufferSize {
		t.Fatalf("Get after Put of a shortened buffer: len %d, want %d", len(got), copyBufferSize)
	}
	// A foreign buffer is dropped, never handed out.
	p.Put(make([]byte, 100))
	for range 10 {
		if got := p.Get(); len(got) != copyBufferSize || cap(got) != copyBufferSize {
			t.Fatalf("Get: len %d cap %d, want %d", len(got), cap(got), copyBufferSize)
		}
	}
}

// Responses larger than one buffer, many at once, each with its own
// content: a buffer shared by two copies at once would mix them.
func TestPooledCopiesKeepResponsesApart(t *testing.T) {
	proxyURL, _ := startProxy(t, "", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := r.URL.Query().Get("c")
		_, _ = w.Write(bytes.Repeat([]byte(c), 3*copyBufferSize+17))
	}), &fakeSource{})
	var wg sync.WaitGroup
	for i := range 16 {
		c := string(rune('a' + i))
		wg.Go(func() {
			for range 5 {
				resp, err := http.Get(proxyURL + "/x?c=" + c)
				if err != nil {
					t.Error(err)
					return
				}
				body, err := io.ReadAll(resp.Body)
				_ = resp.Body.Close()
				if err != nil {
					t.Error(err)
					return
				}
				if want := bytes.Repeat([]byte(c), 3*copyBufferSize+17); !bytes.Equal(body, want) {
					t.Errorf("response for %q: %d bytes, not %d bytes of %q", c, len(body), len(want), c)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestHandlerCopiesThroughThePool(t *testing.T) {
	u, err := url.Parse("http://127.0.0.1:1/v1")
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(u, &fakeSource{})
	if err != nil {
		t.Fatal(err)
	}
	if h.rp.BufferPool == nil || h.rp.BufferPool != copyBuffers {
		t.Fatal("the reverse proxy allocates a copy buffer per response: its BufferPool is not the shared pool")
	}
}
