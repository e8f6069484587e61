package proxy

import "sync"

// copyBufferSize is the size of the buffers the reverse proxy copies
// response bodies through: httputil.ReverseProxy's own size when it has no
// pool.
const copyBufferSize = 32 << 10

// BufferPool hands httputil.ReverseProxy its response copy buffers from a
// sync.Pool. Without a pool, ReverseProxy allocates a 32 KiB buffer for
// every response, which then dominates the proxy's garbage (about 60 % of
// the bytes allocated per request) and the time spent in the collector.
// The zero value is ready to use.
type BufferPool struct{ p sync.Pool }

// Get returns a buffer of copyBufferSize bytes.
func (b *BufferPool) Get() []byte {
	if v, ok := b.p.Get().(*[]byte); ok {
		return *v
	}
	return make([]byte, copyBufferSize)
}

// Put returns buf to the pool; buffers of another size are dropped.
func (b *BufferPool) Put(buf []byte) {
	if cap(buf) != copyBufferSize {
		return
	}
	buf = buf[:copyBufferSize]
	b.p.Put(&buf)
}
