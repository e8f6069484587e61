package metrics

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/fedtoken/fedtoken/core/oauth"
)

func TestMetricsExposition(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := New(reg)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	m.SetClock(func() time.Time { return now })

	m.ObserveAcquisition("miaou-prod", "jwt_bearer", 40*time.Millisecond, nil)
	m.ObserveAcquisition("miaou-prod", "jwt_bearer", 10*time.Millisecond, &oauth.Error{Code: "invalid_grant", StatusCode: 400})
	m.ObserveAcquisition("miaou-prod", "jwt_bearer", 10*time.Millisecond, errors.New("dial tcp: connection refused"))
	m.ObserveProxy("miaou-prod", 200, 30*time.Millisecond)
	m.ObserveProxy("miaou-prod", 200, 3*time.Second)
	m.ObserveProxy("miaou-prod", 503, time.Millisecond)
	m.ObserveRetry("miaou-prod")
	m.ObserveSinkWrite("miaou-prod", nil)
	m.WatchExpiry(Expiry{
		Provider:     "miaou-prod",
		AccessToken:  func() (time.Time, bool) { return now.Add(3540 * time.Second), true },
		SubjectToken: func(context.Context) (time.Time, error) { return now.Add(2880 * time.Second), nil },
	})
	m.WatchExpiry(Expiry{
		Provider:     "miaou-staging",
		AccessToken:  func() (time.Time, bool) { return time.Time{}, false }, // no token yet: no sample
		SubjectToken: func(context.Context) (time.Time, error) { return time.Time{}, errors.New("no file") },
	})

	want := `
# HELP fedtoken_access_token_expiry_seconds Seconds until the cached access token expires (negative once expired), by provider.
# TYPE fedtoken_access_token_expiry_seconds gauge
fedtoken_access_token_expiry_seconds{provider="miaou-prod"} 3540
# HELP fedtoken_proxy_requests_total Requests answered by the auth-injecting proxy, by provider and HTTP status code.
# TYPE fedtoken_proxy_requests_total counter
fedtoken_proxy_requests_total{code="200",provider="miaou-prod"} 2
fedtoken_proxy_requests_total{code="503",provider="miaou-prod"} 1
# HELP fedtoken_proxy_retries_total Requests retried with a new token after the upstream answered 401, by provider.
# TYPE fedtoken_proxy_retries_total counter
fedtoken_proxy_retries_total{provider="miaou-prod"} 1
# HELP fedtoken_sink_writes_total Token file writes, by provider and result (success or error).
# TYPE fedtoken_sink_writes_total counter
fedtoken_sink_writes_total{provider="miaou-prod",result="success"} 1
# HELP fedtoken_subject_token_expiry_seconds Seconds until the platform JWT (e.g. the projected ServiceAccount token) expires, by provider.
# TYPE fedtoken_subject_token_expiry_seconds gauge
fedtoken_subject_token_expiry_seconds{provider="miaou-prod"} 2880
# HELP fedtoken_token_acquisitions_total Access-token acquisitions from the IdP, by provider, grant and result (success or error).
# TYPE fedtoken_token_acquisitions_total counter
fedtoken_token_acquisitions_total{grant="jwt_bearer",provider="miaou-prod",result="error"} 2
fedtoken_token_acquisitions_total{grant="jwt_bearer",provider="miaou-prod",result="success"} 1
# HELP fedtoken_token_refresh_failures_total Failed access-token acquisitions, by provider and reason (the OAuth error code, or "error").
# TYPE fedtoken_token_refresh_failures_total counter
fedtoken_token_refresh_failures_total{provider="miaou-prod",reason="error"} 1
fedtoken_token_refresh_failures_total{provider="miaou-prod",reason="invalid_grant"} 1
`
	names := []string{"fedtoken_access_token_expiry_seconds", "fedtoken_subject_token_expiry_seconds", "fedtoken_proxy_requests_total",
		"fedtoken_proxy_retries_total", "fedtoken_sink_writes_total", "fedtoken_token_acquisitions_total", "fedtoken_token_refresh_failures_total"}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(m.proxySeconds); n != 1 {
		t.Errorf("proxy latency histogram has %d series, want 1", n)
	}

	// The same through HTTP, as Prometheus scrapes it.
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, line := range []string{
		`fedtoken_proxy_request_duration_seconds_bucket{provider="miaou-prod",le="0.05"} 2`,
		`fedtoken_proxy_request_duration_seconds_count{provider="miaou-prod"} 3`,
		`fedtoken_token_acquisition_duration_seconds_count{provider="miaou-prod"} 3`,
	} {
		if !strings.Contains(string(body), line) {
			t.Errorf("/metrics lacks %q", line)
		}
	}
}

func TestNewRefusesDoubleRegistration(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := New(reg); err != nil {
		t.Fatal(err)
	}
	if _, err := New(reg); err == nil {
		t.Error("second New on the same registry: want an error")
	}
}

// TestEveryMetricIsDocumented keeps docs/sidecar.md's metrics table
// complete.
func TestEveryMetricIsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../../docs/sidecar.md")
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	m, err := New(reg)
	if err != nil {
		t.Fatal(err)
	}
	// One sample of each, so every family is gathered.
	m.ObserveAcquisition("p", "g", time.Millisecond, errors.New("x"))
	m.ObserveAcquisition("p", "g", time.Millisecond, nil)
	m.ObserveProxy("p", 200, time.Millisecond)
	m.ObserveRetry("p")
	m.ObserveSinkWrite("p", nil)
	m.WatchExpiry(Expiry{Provider: "p",
		AccessToken:  func() (time.Time, bool) { return time.Now(), true },
		SubjectToken: func(context.Context) (time.Time, error) { return time.Now(), nil }})
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(families) != 9 {
		t.Errorf("gathered %d families, want the 9 of the table", len(families))
	}
	for _, f := range families {
		if !strings.Contains(string(doc), "`"+f.GetName()+"`") {
			t.Errorf("docs/sidecar.md does not document %s", f.GetName())
		}
	}
}
