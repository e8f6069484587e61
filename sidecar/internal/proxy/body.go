package proxy

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"sync/atomic"
	"time"
)

// buffer keeps r's body in memory for a retry when it is small enough and
// fits the Handler's budget, reading it within the body read timeout. It
// returns the bytes it reserved in the budget: the caller gives them back
// once the request is done.
func (h *Handler) buffer(w http.ResponseWriter, r *http.Request) (reserved int64, err error) {
	limit := h.retryBuffer
	if limit <= 0 || r.ContentLength > limit {
		return 0, nil
	}
	want := limit // unknown length: up to the limit
	if r.ContentLength > 0 {
		want = r.ContentLength
	}
	if !h.budget.take(want) {
		return 0, nil // streams without retry; memory stays bounded
	}
	if h.bodyTimeout > 0 {
		rc := http.NewResponseController(w)
		if rc.SetReadDeadline(time.Now().Add(h.bodyTimeout)) == nil {
			defer func() {
				if err == nil {
					_ = rc.SetReadDeadline(time.Time{})
				}
			}()
		}
	}
	return want, bufferBody(r, limit)
}

// bufferBody reads up to limit bytes of r.Body into memory. When the whole
// body fits, r.Body becomes a replayable copy with GetBody set, so the
// transport can retry after a 401. Otherwise the bytes already read are
// put back in front of the rest and the body streams unbuffered.
func bufferBody(r *http.Request, limit int64) error {
	if limit <= 0 || (r.ContentLength > limit) {
		return nil
	}
	var buf []byte
	var err error
	if r.ContentLength > 0 {
		// Known length (the usual JSON request): one exact allocation. The
		// server's body reader enforces the length.
		buf = make([]byte, r.ContentLength)
		_, err = io.ReadFull(r.Body, buf)
	} else {
		buf, err = io.ReadAll(io.LimitReader(r.Body, limit+1))
	}
	if err != nil {
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			return err
		}
		return &BodyError{Err: err}
	}
	if int64(len(buf)) > limit {
		r.Body = &prefixedBody{Reader: io.MultiReader(bytes.NewReader(buf), r.Body), Closer: r.Body}
		return nil
	}
	_ = r.Body.Close()
	r.ContentLength = int64(len(buf))
	r.TransferEncoding = nil
	r.Body = newReplayBody(buf)
	r.GetBody = func() (io.ReadCloser, error) { return newReplayBody(buf), nil }
	if len(buf) == 0 {
		r.Body, r.GetBody = http.NoBody, nil
	}
	return nil
}

// replayBody reads a buffered body: one allocation per reader (not a
// bytes.Reader wrapped by io.NopCloser).
type replayBody struct{ bytes.Reader }

func newReplayBody(buf []byte) *replayBody {
	b := &replayBody{}
	b.Reset(buf)
	return b
}

// Close does nothing: the buffer stays readable for a replay.
func (*replayBody) Close() error { return nil }

type prefixedBody struct {
	io.Reader
	io.Closer
}

// BodyError reports that the client's request body could not be read (a
// malformed chunked encoding, a connection closed mid-body): the client's
// fault, answered 400.
type BodyError struct{ Err error }

func (e *BodyError) Error() string { return "read request body: " + e.Err.Error() }

// Unwrap returns the read error.
func (e *BodyError) Unwrap() error { return e.Err }

// clientBody remembers the first read error of a request body, so that a
// forward that failed because of it is reported as the client's fault.
type clientBody struct {
	io.ReadCloser
	err error
}

func (b *clientBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF && b.err == nil {
		b.err = err
	}
	return n, err
}

// budget counts the bytes reserved by in-flight retry buffers. It is
// lock-free: every request with a body takes and gives back, concurrently.
type budget struct {
	limit int64 // <= 0: unlimited
	used  atomic.Int64
}

// take reserves n bytes if they fit.
func (b *budget) take(n int64) bool {
	for {
		used := b.used.Load()
		if b.limit > 0 && used+n > b.limit {
			return false
		}
		if b.used.CompareAndSwap(used, used+n) {
			return true
		}
	}
}

func (b *budget) give(n int64) {
	if n != 0 {
		b.used.Add(-n)
	}
}

func (b *budget) inUse() int64 { return b.used.Load() }
