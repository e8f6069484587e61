package mockidp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Fault types of FaultRule.Type.
const (
	// FaultLatency delays the request by Delay, then serves it (or the
	// next matching rule).
	FaultLatency = "latency"
	// FaultStatus answers with Status (default 503) and an OAuth error
	// body; RetryAfter adds a Retry-After header.
	FaultStatus = "status"
	// FaultRateLimit answers 429 with Retry-After (default 1s).
	FaultRateLimit = "rate_limit"
	// FaultDrop closes the connection without a response.
	FaultDrop = "drop"
	// FaultMalformedJSON answers 200 with a truncated JSON body.
	FaultMalformedJSON = "malformed_json"
	// FaultMissingAccessToken serves the request and removes access_token
	// from a successful JSON body.
	FaultMissingAccessToken = "missing_access_token"
	// FaultMissingExpiresIn serves the request and removes expires_in from
	// a successful JSON body.
	FaultMissingExpiresIn = "missing_expires_in"
	// FaultSlowDown answers 400 slow_down (a storm of them with Count).
	FaultSlowDown = "slow_down"
	// FaultOAuthError answers Status (default 400) with the OAuth error
	// code Error and Description.
	FaultOAuthError = "oauth_error"
)

var faultTypes = []string{FaultLatency, FaultStatus, FaultRateLimit, FaultDrop, FaultMalformedJSON,
	FaultMissingAccessToken, FaultMissingExpiresIn, FaultSlowDown, FaultOAuthError}

// FaultRule injects a fault into the requests it matches. Rules are tried
// in the order they were added; latency rules add up, the first other
// matching rule answers the request.
type FaultRule struct {
	// ID names the rule in the admin API and the request log (assigned
	// when empty: f1, f2, …).
	ID string `json:"id,omitempty"`
	// Issuer limits the rule to one issuer (or the cluster); empty: all.
	Issuer string `json:"issuer,omitempty"`
	// Endpoint limits the rule to one endpoint: discovery, jwks, token,
	// authorize, device_authorization, userinfo, introspection,
	// revocation, login, device. Empty: all.
	Endpoint string `json:"endpoint,omitempty"`
	// Grant limits a token-endpoint rule to one grant (jwt_bearer,
	// token_exchange, client_credentials, device_code, refresh_token,
	// authorization_code, or the URN).
	Grant string `json:"grant,omitempty"`
	// Type is one of the Fault* constants.
	Type string `json:"type"`
	// Delay is added before the fault (the whole effect of "latency").
	Delay Duration `json:"delay,omitempty"`
	// Status is the HTTP status of "status" (5xx, default 503) and
	// "oauth_error" (default 400).
	Status int `json:"status,omitempty"`
	// RetryAfter sets Retry-After (whole seconds, rounded up) on "status"
	// and "rate_limit".
	RetryAfter Duration `json:"retryAfter,omitempty"`
	// Error and Description are the body of "oauth_error".
	Error       string `json:"error,omitempty"`
	Description string `json:"description,omitempty"`
	// Count limits the rule to the next Count matching requests (0: no
	// limit).
	Count int `json:"count,omitempty"`
	// Probability fires the rule on a matching request with this
	// probability (0: always), drawn from a generator seeded with Seed, so
	// a test that sends the same requests sees the same faults.
	Probability float64 `json:"probability,omitempty"`
	Seed        uint64  `json:"seed,omitempty"`
}

// FaultState is a rule with its live state, as the admin API lists it.
type FaultState struct {
	FaultRule
	// Fired counts the requests the rule applied to.
	Fired int `json:"fired"`
	// Exhausted is set when a Count rule has fired Count times.
	Exhausted bool `json:"exhausted"`
}

func (f *FaultRule) validate() error {
	var errs []error
	if !slices.Contains(faultTypes, f.Type) {
		errs = append(errs, fmt.Errorf("type %q: want one of %v", f.Type, faultTypes))
	}
	if err := validEndpoint(f.Endpoint); err != nil {
		errs = append(errs, fmt.Errorf("endpoint: %w", err))
	}
	if f.Grant != "" {
		if _, ok := grantURN(f.Grant); !ok {
			errs = append(errs, fmt.Errorf("grant %q: want a grant such as jwt_bearer or token_exchange", f.Grant))
		}
		if f.Endpoint != "" && f.Endpoint != "token" {
			errs = append(errs, errors.New("grant applies only to endpoint token"))
		}
	}
	if f.Type == FaultLatency && f.Delay <= 0 {
		errs = append(errs, errors.New("latency needs a positive delay"))
	}
	if f.Delay < 0 || f.RetryAfter < 0 {
		errs = append(errs, errors.New("delay and retryAfter must not be negative"))
	}
	switch f.Type {
	case FaultStatus:
		if f.Status != 0 && (f.Status < 400 || f.Status > 599) {
			errs = append(errs, fmt.Errorf("status %d: want 4xx or 5xx", f.Status))
		}
	case FaultOAuthError:
		if f.Error == "" {
			errs = append(errs, errors.New("oauth_error needs error (e.g. invalid_grant)"))
		}
		if f.Status != 0 && (f.Status < 400 || f.Status > 599) {
			errs = append(errs, fmt.Errorf("status %d: want 4xx or 5xx", f.Status))
		}
	}
	if f.Count < 0 {
		errs = append(errs, errors.New("count must not be negative"))
	}
	if f.Probability < 0 || f.Probability > 1 || math.IsNaN(f.Probability) {
		errs = append(errs, fmt.Errorf("probability %v: want 0..1", f.Probability))
	}
	return errors.Join(errs...)
}

type faultEntry struct {
	FaultState
	grant string // short name
	rng   *rand.Rand
}

type faultSet struct {
	mu    sync.Mutex
	rules []*faultEntry
	next  int
}

func newFaultSet() *faultSet { return &faultSet{} }

func (f *faultSet) add(rule FaultRule) (string, error) {
	if err := rule.validate(); err != nil {
		return "", fmt.Errorf("fault: %w", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if rule.ID == "" {
		f.next++
		rule.ID = "f" + strconv.Itoa(f.next)
	}
	for _, e := range f.rules {
		if e.ID == rule.ID {
			return "", fmt.Errorf("fault: id %q is already used", rule.ID)
		}
	}
	e := &faultEntry{FaultState: FaultState{FaultRule: rule}}
	if rule.Grant != "" {
		urn, _ := grantURN(rule.Grant)
		e.grant = grantShort(urn)
	}
	if rule.Probability > 0 {
		e.rng = rand.New(rand.NewPCG(rule.Seed, rule.Seed^0x9e3779b97f4a7c15))
	}
	f.rules = append(f.rules, e)
	return rule.ID, nil
}

func (f *faultSet) remove(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := len(f.rules)
	f.rules = slices.DeleteFunc(f.rules, func(e *faultEntry) bool { return e.ID == id })
	return len(f.rules) != n
}

func (f *faultSet) clear() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules = nil
}

func (f *faultSet) list() []FaultState {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]FaultState, 0, len(f.rules))
	for _, e := range f.rules {
		out = append(out, e.FaultState)
	}
	return out
}

// pick decides the faults for one request: the summed delay, the rule that
// answers it (nil: serve normally) and the IDs of the rules that fired.
func (f *faultSet) pick(issuer, endpoint, grant string) (time.Duration, *FaultRule, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var delay time.Duration
	var ids []string
	for _, e := range f.rules {
		if e.Exhausted || (e.Issuer != "" && e.Issuer != issuer) || (e.Endpoint != "" && e.Endpoint != endpoint) ||
			(e.grant != "" && e.grant != grant) {
			continue
		}
		if e.rng != nil && e.rng.Float64() >= e.Probability {
			continue
		}
		e.Fired++
		if e.Count > 0 && e.Fired >= e.Count {
			e.Exhausted = true
		}
		ids = append(ids, e.ID)
		delay += e.Delay.D()
		if e.Type != FaultLatency {
			r := e.FaultRule
			return delay, &r, ids
		}
	}
	return delay, nil, ids
}

// serve applies the faults that match the request, then (unless a fault
// answered) calls next.
func (f *faultSet) serve(w http.ResponseWriter, r *http.Request, issuer, endpoint string, rec *record, next http.Handler) {
	rec.mu.Lock()
	grant := rec.r.Grant
	rec.mu.Unlock()
	delay, rule, ids := f.pick(issuer, endpoint, grant)
	if len(ids) > 0 {
		rec.setFault(strings.Join(ids, ","))
	}
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			rec.setOutcome("canceled")
			return
		}
	}
	if rule == nil {
		next.ServeHTTP(w, r)
		return
	}
	switch rule.Type {
	case FaultStatus:
		status := rule.Status
		if status == 0 {
			status = http.StatusServiceUnavailable
		}
		code := "temporarily_unavailable"
		if status == http.StatusInternalServerError {
			code = "server_error"
		}
		setRetryAfter(w, rule.RetryAfter)
		writeFaultJSON(w, status, code, fmt.Sprintf("injected fault %s: HTTP %d", rule.ID, status))
	case FaultRateLimit:
		ra := rule.RetryAfter
		if ra == 0 {
			ra = Duration(time.Second)
		}
		setRetryAfter(w, ra)
		writeFaultJSON(w, http.StatusTooManyRequests, "temporarily_unavailable", fmt.Sprintf("injected fault %s: rate limited", rule.ID))
	case FaultDrop:
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(http.ErrAbortHandler) // HTTP/2: abort the stream instead
		}
		_ = conn.Close()
	case FaultMalformedJSON:
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"access_token":"eyJhbGciOiJSUzI1NiJ9.trunc`))
	case FaultMissingAccessToken:
		serveWithout(w, r, next, "access_token")
	case FaultMissingExpiresIn:
		serveWithout(w, r, next, "expires_in")
	case FaultSlowDown:
		writeFaultJSON(w, http.StatusBadRequest, "slow_down", fmt.Sprintf("injected fault %s: slow down", rule.ID))
	case FaultOAuthError:
		status := rule.Status
		if status == 0 {
			status = http.StatusBadRequest
		}
		desc := rule.Description
		if desc == "" {
			desc = "injected fault " + rule.ID
		}
		writeFaultJSON(w, status, rule.Error, desc)
	}
}

func setRetryAfter(w http.ResponseWriter, d Duration) {
	if d > 0 {
		w.Header().Set("Retry-After", strconv.FormatInt(int64(math.Ceil(d.D().Seconds())), 10))
	}
}

func writeFaultJSON(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

// serveWithout serves the request into a buffer and removes field from a
// successful JSON object body.
func serveWithout(w http.ResponseWriter, r *http.Request, next http.Handler, field string) {
	buf := &bufferWriter{header: http.Header{}}
	next.ServeHTTP(buf, r)
	body := buf.body.Bytes()
	if buf.status == 0 {
		buf.status = http.StatusOK
	}
	if buf.status < 300 {
		var obj map[string]json.RawMessage
		if json.Unmarshal(body, &obj) == nil && obj != nil {
			delete(obj, field)
			if b, err := json.Marshal(obj); err == nil {
				body = b
			}
		}
	}
	for k, v := range buf.header {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(buf.status)
	_, _ = w.Write(body)
}

// bufferWriter is an in-memory http.ResponseWriter.
type bufferWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferWriter) Header() http.Header { return b.header }

func (b *bufferWriter) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}

func (b *bufferWriter) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

// AddFault adds a fault rule live and returns its ID.
func (s *Server) AddFault(rule FaultRule) (string, error) {
	if rule.Issuer != "" && s.IssuerURL(rule.Issuer) == "" {
		return "", fmt.Errorf("fault: unknown issuer %q", rule.Issuer)
	}
	return s.faults.add(rule)
}

// RemoveFault removes the fault rule with the given ID and reports whether
// it existed.
func (s *Server) RemoveFault(id string) bool { return s.faults.remove(id) }

// ClearFaults removes every fault rule.
func (s *Server) ClearFaults() { s.faults.clear() }

// Faults lists the fault rules with their state.
func (s *Server) Faults() []FaultState { return s.faults.list() }
