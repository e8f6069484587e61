package mockidp_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/pkg/client"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/fedtoken/fedtoken/mockidp"
	"github.com/fedtoken/fedtoken/mockidp/mockidptest"
)

// ccConfig is two issuers with a client_credentials client each.
func ccConfig() mockidp.Config {
	return mockidp.Config{Issuers: []mockidp.IssuerConfig{
		{Name: "prod", Clients: []mockidp.ClientConfig{{ID: "app", Secret: "pw"}, {ID: "cli", Public: true}},
			Login: mockidp.LoginConfig{AutoApprove: true}, Device: mockidp.DeviceConfig{Interval: dur(0)}},
		{Name: "staging", Clients: []mockidp.ClientConfig{{ID: "app", Secret: "pw"}}},
	}}
}

func ccToken(t *testing.T, idp *mockidptest.Server, issuer string) response {
	t.Helper()
	return postForm(t, idp.IssuerURL(issuer)+"/token", url.Values{"grant_type": {"client_credentials"}}, "app:pw")
}

func addFault(t *testing.T, idp *mockidptest.Server, rule mockidp.FaultRule) string {
	t.Helper()
	id, err := idp.AddFault(rule)
	if err != nil {
		t.Fatalf("AddFault: %v", err)
	}
	return id
}

func TestFaultResponses(t *testing.T) {
	idp := start(t, ccConfig())
	tests := []struct {
		name  string
		rule  mockidp.FaultRule
		check func(t *testing.T, r response)
	}{
		{"503", mockidp.FaultRule{Type: mockidp.FaultStatus}, func(t *testing.T, r response) {
			wantOAuthError(t, r, 503, "temporarily_unavailable", "injected fault")
		}},
		{"500", mockidp.FaultRule{Type: mockidp.FaultStatus, Status: 500}, func(t *testing.T, r response) {
			wantOAuthError(t, r, 500, "server_error", "HTTP 500")
		}},
		{"502 with Retry-After", mockidp.FaultRule{Type: mockidp.FaultStatus, Status: 502, RetryAfter: mockidp.Duration(3 * time.Second)}, func(t *testing.T, r response) {
			if r.Status != 502 || r.Header.Get("Retry-After") != "3" {
				t.Fatalf("%d Retry-After=%q", r.Status, r.Header.Get("Retry-After"))
			}
		}},
		{"429", mockidp.FaultRule{Type: mockidp.FaultRateLimit, RetryAfter: mockidp.Duration(1500 * time.Millisecond)}, func(t *testing.T, r response) {
			if r.Status != 429 || r.Header.Get("Retry-After") != "2" {
				t.Fatalf("%d Retry-After=%q", r.Status, r.Header.Get("Retry-After"))
			}
		}},
		{"429 default Retry-After", mockidp.FaultRule{Type: mockidp.FaultRateLimit}, func(t *testing.T, r response) {
			if r.Status != 429 || r.Header.Get("Retry-After") != "1" {
				t.Fatalf("%d Retry-After=%q", r.Status, r.Header.Get("Retry-After"))
			}
		}},
		{"malformed JSON", mockidp.FaultRule{Type: mockidp.FaultMalformedJSON}, func(t *testing.T, r response) {
			if r.Status != 200 || r.Body != nil || !strings.HasPrefix(r.Raw, `{"access_token":`) || r.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("%d %q", r.Status, r.Raw)
			}
		}},
		{"missing access_token", mockidp.FaultRule{Type: mockidp.FaultMissingAccessToken}, func(t *testing.T, r response) {
			if _, has := r.Body["access_token"]; r.Status != 200 || has || r.Body["expires_in"] != float64(300) {
				t.Fatalf("%d %s", r.Status, r.Raw)
			}
		}},
		{"missing expires_in", mockidp.FaultRule{Type: mockidp.FaultMissingExpiresIn}, func(t *testing.T, r response) {
			if _, has := r.Body["expires_in"]; r.Status != 200 || has || r.str("access_token") == "" {
				t.Fatalf("%d %s", r.Status, r.Raw)
			}
		}},
		{"slow_down", mockidp.FaultRule{Type: mockidp.FaultSlowDown}, func(t *testing.T, r response) {
			wantOAuthError(t, r, 400, "slow_down", "injected fault")
		}},
		{"oauth_error", mockidp.FaultRule{Type: mockidp.FaultOAuthError, Error: "invalid_grant", Description: "user not linked"}, func(t *testing.T, r response) {
			wantOAuthError(t, r, 400, "invalid_grant", "user not linked")
		}},
		{"oauth_error 401", mockidp.FaultRule{Type: mockidp.FaultOAuthError, Status: 401, Error: "invalid_client"}, func(t *testing.T, r response) {
			wantOAuthError(t, r, 401, "invalid_client", "injected fault")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rule := tt.rule
			rule.Issuer, rule.Endpoint, rule.Count = "prod", "token", 1
			id := addFault(t, idp, rule)
			tt.check(t, ccToken(t, idp, "prod"))
			rec := lastRecord(t, idp, "token")
			if rec.Fault != id {
				t.Fatalf("log fault = %q, want %q", rec.Fault, id)
			}
			if r := ccToken(t, idp, "prod"); r.Status != 200 || r.str("access_token") == "" {
				t.Fatalf("after count 1 the fault must stop: %d %s", r.Status, r.Raw)
			}
		})
	}
	if got := idp.Faults(); len(got) != len(tests) || !got[0].Exhausted || got[0].Fired != 1 {
		t.Fatalf("faults = %+v", got)
	}
}

func TestFaultDropConnection(t *testing.T) {
	idp := start(t, ccConfig())
	addFault(t, idp, mockidp.FaultRule{Issuer: "prod", Endpoint: "token", Type: mockidp.FaultDrop, Count: 1})
	req, _ := http.NewRequest(http.MethodPost, idp.IssuerURL("prod")+"/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("app", "pw")
	// A fresh transport: a dropped keep-alive connection is otherwise retried.
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("want a transport error, got HTTP %d", resp.StatusCode)
	}
	// The server records the drop after closing the connection: the client
	// can see the error first, so poll the log until a deadline.
	deadline := time.Now().Add(10 * time.Second)
	for !slices.ContainsFunc(idp.Requests(), func(r mockidp.RequestRecord) bool { return r.Endpoint == "token" }) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if rec := lastRecord(t, idp, "token"); rec.Outcome != "dropped" || rec.Status != 0 {
		t.Fatalf("log = %+v", rec)
	}
}

func TestFaultWithZitadelClient(t *testing.T) {
	idp := start(t, ccConfig())
	addFault(t, idp, mockidp.FaultRule{Endpoint: "token", Type: mockidp.FaultMalformedJSON, Count: 1})
	_, err := client.CallTokenEndpointWithAuthFn(context.Background(),
		&oidc.ClientCredentialsRequest{GrantType: oidc.GrantTypeClientCredentials, ClientID: "app", ClientSecret: "pw"}, nil,
		caller{idp.IssuerURL("prod") + "/token"})
	if err == nil {
		t.Fatal("malformed JSON must fail the client")
	}
}

func TestFaultLatency(t *testing.T) {
	idp := start(t, ccConfig())
	addFault(t, idp, mockidp.FaultRule{Issuer: "prod", Endpoint: "token", Type: mockidp.FaultLatency, Delay: mockidp.Duration(time.Hour)})
	records := make(chan mockidp.RequestRecord, 16)
	idp.SetObserver(func(r mockidp.RequestRecord) {
		select {
		case records <- r:
		default:
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, idp.IssuerURL("prod")+"/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("app", "pw")
	_, err := http.DefaultClient.Do(req)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the client's deadline", err)
	}
	// The server gives up when the client goes away.
	select {
	case rec := <-records:
		if rec.Outcome != "canceled" || rec.Fault == "" {
			t.Fatalf("log = %+v", rec)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the delayed request was never logged")
	}
	if r := ccToken(t, idp, "staging"); r.Status != 200 {
		t.Fatalf("latency on prod must not slow staging: %d", r.Status)
	}
}

func TestFaultLatencyThenStatus(t *testing.T) {
	idp := start(t, ccConfig())
	a := addFault(t, idp, mockidp.FaultRule{Endpoint: "token", Type: mockidp.FaultLatency, Delay: mockidp.Duration(time.Millisecond), Count: 1})
	b := addFault(t, idp, mockidp.FaultRule{Endpoint: "token", Type: mockidp.FaultStatus, Count: 1})
	wantOAuthError(t, ccToken(t, idp, "prod"), 503, "temporarily_unavailable", "")
	if rec := lastRecord(t, idp, "token"); rec.Fault != a+","+b {
		t.Fatalf("fault = %q", rec.Fault)
	}
}

func TestFaultMatching(t *testing.T) {
	idp := start(t, ccConfig())
	addFault(t, idp, mockidp.FaultRule{Issuer: "staging", Type: mockidp.FaultStatus})
	addFault(t, idp, mockidp.FaultRule{Issuer: "prod", Endpoint: "token", Grant: "device_code", Type: mockidp.FaultSlowDown, Count: 3})
	addFault(t, idp, mockidp.FaultRule{Issuer: "prod", Endpoint: "discovery", Type: mockidp.FaultStatus, Status: 500})

	if r := ccToken(t, idp, "staging"); r.Status != 503 {
		t.Fatalf("staging: %d", r.Status)
	}
	if r := get(t, idp.IssuerURL("staging")+"/keys"); r.Status != 503 {
		t.Fatalf("staging keys: %d", r.Status)
	}
	if r := ccToken(t, idp, "prod"); r.Status != 200 {
		t.Fatalf("a device_code rule must not hit client_credentials: %d %s", r.Status, r.Raw)
	}
	for _, p := range []string{"/prod/.well-known/openid-configuration", "/.well-known/openid-configuration/prod", "/.well-known/oauth-authorization-server/prod"} {
		if r := get(t, idp.BaseURL()+p); r.Status != 500 {
			t.Fatalf("%s: %d", p, r.Status)
		}
	}
	if r := get(t, idp.IssuerURL("prod")+"/keys"); r.Status != 200 {
		t.Fatalf("prod keys: %d", r.Status)
	}
	// A slow_down storm: three, then the real answer.
	da := postForm(t, idp.IssuerURL("prod")+"/device_authorization", url.Values{"client_id": {"cli"}}, "")
	poll := url.Values{"grant_type": {mockidp.GrantDeviceCode}, "device_code": {da.str("device_code")}, "client_id": {"cli"}}
	for i := range 3 {
		wantOAuthError(t, postForm(t, idp.IssuerURL("prod")+"/token", poll, ""), 400, "slow_down", "injected")
		_ = i
	}
	if r := postForm(t, idp.IssuerURL("prod")+"/token", poll, ""); r.Status != 200 {
		t.Fatalf("after the storm: %d %s", r.Status, r.Raw)
	}
}

// TestFaultProbabilityIsDeterministic runs the same requests against two
// servers with the same seeded rule and expects the same faults.
func TestFaultProbabilityIsDeterministic(t *testing.T) {
	run := func(seed uint64) string {
		idp := start(t, ccConfig())
		addFault(t, idp, mockidp.FaultRule{Endpoint: "token", Type: mockidp.FaultStatus, Probability: 0.5, Seed: seed})
		var b strings.Builder
		for range 24 {
			if ccToken(t, idp, "prod").Status == 200 {
				b.WriteByte('.')
			} else {
				b.WriteByte('X')
			}
		}
		return b.String()
	}
	a, b := run(42), run(42)
	if a != b {
		t.Fatalf("same seed, different faults:\n%s\n%s", a, b)
	}
	if !strings.Contains(a, ".") || !strings.Contains(a, "X") {
		t.Fatalf("p=0.5 over 24 requests should mix: %s", a)
	}
	if c := run(7); c == a {
		t.Fatalf("another seed gave the same sequence %s", c)
	}
}

func TestFaultValidation(t *testing.T) {
	idp := start(t, ccConfig())
	cases := []struct {
		rule mockidp.FaultRule
		want string
	}{
		{mockidp.FaultRule{Type: "explode"}, `type "explode"`},
		{mockidp.FaultRule{Type: mockidp.FaultLatency}, "latency needs a positive delay"},
		{mockidp.FaultRule{Type: mockidp.FaultStatus, Status: 200}, "status 200: want 4xx or 5xx"},
		{mockidp.FaultRule{Type: mockidp.FaultOAuthError}, "oauth_error needs error"},
		{mockidp.FaultRule{Type: mockidp.FaultDrop, Endpoint: "tokens"}, `unknown endpoint "tokens"`},
		{mockidp.FaultRule{Type: mockidp.FaultDrop, Grant: "password"}, `grant "password"`},
		{mockidp.FaultRule{Type: mockidp.FaultDrop, Grant: "jwt_bearer", Endpoint: "jwks"}, "grant applies only to endpoint token"},
		{mockidp.FaultRule{Type: mockidp.FaultDrop, Probability: 1.5}, "probability 1.5"},
		{mockidp.FaultRule{Type: mockidp.FaultDrop, Count: -1}, "count must not be negative"},
		{mockidp.FaultRule{Type: mockidp.FaultDrop, Issuer: "nope"}, `unknown issuer "nope"`},
	}
	for _, c := range cases {
		_, err := idp.AddFault(c.rule)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("AddFault(%+v) = %v, want %q", c.rule, err, c.want)
		}
	}
	if _, err := idp.AddFault(mockidp.FaultRule{ID: "x", Type: mockidp.FaultDrop}); err != nil {
		t.Fatal(err)
	}
	if _, err := idp.AddFault(mockidp.FaultRule{ID: "x", Type: mockidp.FaultDrop}); err == nil {
		t.Fatal("duplicate id accepted")
	}
}
