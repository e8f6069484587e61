package mockidp

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// RequestRecord is one entry of the request log. It never holds a secret:
// no token, assertion, code, client secret or password, only identifying
// claims of the tokens a request presented.
type RequestRecord struct {
	Seq      int64     `json:"seq"`
	Time     time.Time `json:"time"`
	Issuer   string    `json:"issuer,omitempty"`
	Endpoint string    `json:"endpoint"`
	Method   string    `json:"method"`
	Path     string    `json:"path"`
	// Grant is the short grant name (jwt_bearer, token_exchange, …) of a
	// token request.
	Grant string `json:"grant,omitempty"`
	// ClientID and AuthMethod identify the client as it authenticated.
	ClientID   string `json:"clientId,omitempty"`
	AuthMethod string `json:"authMethod,omitempty"`
	// Subject holds identifying claims (iss, sub, aud, exp, iat, jti, …) of
	// the assertion, subject token or client assertion, or the signed-in
	// user.
	Subject map[string]any `json:"subject,omitempty"`
	// Actor holds identifying claims of a token-exchange actor token.
	Actor  map[string]any `json:"actor,omitempty"`
	Status int            `json:"status"`
	// Outcome is "ok", the OAuth error code, "dropped", or
	// "http_<status>" for other failures.
	Outcome     string `json:"outcome"`
	Description string `json:"description,omitempty"`
	// Check names the verification check that failed (audience, exp,
	// signature, …).
	Check string `json:"check,omitempty"`
	// Fault is the ID of the fault rule that answered the request.
	Fault      string  `json:"fault,omitempty"`
	DurationMS float64 `json:"durationMs"`
}

// Counter counts requests by outcome.
type Counter struct {
	OK     int `json:"ok"`
	Errors int `json:"errors"`
}

// maxLogEntries bounds the request log; the oldest entries are dropped.
const maxLogEntries = 10000

type requestLog struct {
	mu       sync.Mutex
	seq      int64
	entries  []RequestRecord
	counters map[string]map[string]*Counter
	observer func(RequestRecord)
}

func newRequestLog() *requestLog {
	return &requestLog{counters: map[string]map[string]*Counter{}}
}

func (l *requestLog) add(r RequestRecord) {
	l.mu.Lock()
	l.seq++
	r.Seq = l.seq
	if len(l.entries) >= maxLogEntries {
		l.entries = append(l.entries[:0], l.entries[1:]...)
	}
	l.entries = append(l.entries, r)
	if r.Issuer != "" {
		key := r.Grant
		if key == "" {
			key = r.Endpoint
		}
		m := l.counters[r.Issuer]
		if m == nil {
			m = map[string]*Counter{}
			l.counters[r.Issuer] = m
		}
		c := m[key]
		if c == nil {
			c = &Counter{}
			m[key] = c
		}
		if r.Outcome == "ok" {
			c.OK++
		} else {
			c.Errors++
		}
	}
	obs := l.observer
	l.mu.Unlock()
	if obs != nil {
		obs(r)
	}
}

// Requests returns a copy of the request log, oldest first.
func (s *Server) Requests() []RequestRecord {
	s.log.mu.Lock()
	defer s.log.mu.Unlock()
	return append([]RequestRecord(nil), s.log.entries...)
}

// Counters returns request counts per issuer, then per grant (token
// requests) or endpoint name (other requests).
func (s *Server) Counters() map[string]map[string]Counter {
	s.log.mu.Lock()
	defer s.log.mu.Unlock()
	out := map[string]map[string]Counter{}
	for is, m := range s.log.counters {
		out[is] = map[string]Counter{}
		for k, c := range m {
			out[is][k] = *c
		}
	}
	return out
}

// Reset clears the request log, the counters and all faults.
func (s *Server) Reset() {
	s.log.mu.Lock()
	s.log.entries = nil
	s.log.counters = map[string]map[string]*Counter{}
	s.log.mu.Unlock()
	s.faults.clear()
}

// SetObserver registers f to be called with every request record once the
// request is answered (nil removes it). The binary uses it to log.
func (s *Server) SetObserver(f func(RequestRecord)) {
	s.log.mu.Lock()
	defer s.log.mu.Unlock()
	s.log.observer = f
}

// record is the in-flight RequestRecord that handlers fill in.
type record struct {
	mu sync.Mutex
	r  RequestRecord
}

type recordKey struct{}

// recordFrom returns the request's record, or a throwaway one.
func recordFrom(ctx context.Context) *record {
	if r, ok := ctx.Value(recordKey{}).(*record); ok {
		return r
	}
	return &record{}
}

func (r *record) setClient(id, method string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.r.ClientID, r.r.AuthMethod = id, method
}

func (r *record) setSubject(claims map[string]any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.r.Subject = claims
}

func (r *record) setActor(claims map[string]any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.r.Actor = claims
}

func (r *record) setCheck(err error) {
	var ce *checkError
	if !errors.As(err, &ce) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.r.Check = ce.Check
}

func (r *record) setOutcome(o string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.r.Outcome = o
}

func (r *record) setFault(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.r.Fault = id
}

// maxFormSize bounds token-endpoint bodies read by the observer.
const maxFormSize = 1 << 20

// observe records every request to an issuer and applies fault rules.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		issuerName, endpoint := s.classify(r.URL.Path)
		rec := &record{r: RequestRecord{Time: s.now(), Issuer: issuerName, Endpoint: endpoint, Method: r.Method, Path: r.URL.Path}}
		if endpoint == "token" && r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormSize)
			if r.ParseForm() == nil {
				rec.r.Grant = grantShort(r.PostForm.Get("grant_type"))
			}
		}
		cw := &captureWriter{ResponseWriter: w}
		defer func() {
			rec.mu.Lock()
			out := rec.r
			rec.mu.Unlock()
			out.DurationMS = float64(time.Since(start).Microseconds()) / 1000
			cw.finish(&out)
			s.log.add(out)
		}()
		ctx := context.WithValue(r.Context(), recordKey{}, rec)
		s.faults.serve(cw, r.WithContext(ctx), issuerName, endpoint, rec, next)
	})
}

// maxCapture is how much of an error body the log parses.
const maxCapture = 8 << 10

// captureWriter records the status and the start of an error body.
type captureWriter struct {
	http.ResponseWriter
	status   int
	body     []byte
	hijacked bool
}

func (c *captureWriter) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *captureWriter) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	if c.status >= 400 && len(c.body) < maxCapture {
		c.body = append(c.body, b[:min(len(b), maxCapture-len(c.body))]...)
	}
	return c.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (c *captureWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// Flush implements http.Flusher.
func (c *captureWriter) Flush() { _ = http.NewResponseController(c.ResponseWriter).Flush() }

// Hijack implements http.Hijacker for the dropped-connection fault.
func (c *captureWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(c.ResponseWriter).Hijack()
	if err == nil {
		c.hijacked = true
	}
	return conn, rw, err
}

// finish sets the status and outcome of out from what was written.
func (c *captureWriter) finish(out *RequestRecord) {
	switch {
	case c.hijacked:
		out.Status = 0
		if out.Outcome == "" {
			out.Outcome = "dropped"
		}
		return
	case c.status == 0:
		c.status = http.StatusOK
	}
	out.Status = c.status
	if c.status >= 400 {
		var e struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		if json.Unmarshal(c.body, &e) == nil && e.Error != "" {
			out.Description = e.Description
			if out.Outcome == "" {
				out.Outcome = e.Error
			}
		}
		if out.Outcome == "" {
			out.Outcome = "http_" + strconv.Itoa(c.status)
		}
		return
	}
	if loc := c.Header().Get("Location"); c.status >= 300 && loc != "" {
		if u, err := url.Parse(loc); err == nil && u.Query().Get("error") != "" && out.Outcome == "" {
			out.Outcome = u.Query().Get("error")
			out.Description = u.Query().Get("error_description")
		}
	}
	if out.Outcome == "" {
		out.Outcome = "ok"
	}
}
