package server

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/oauth2"

	"github.com/fedtoken/fedtoken/sidecar/internal/metrics"
	"github.com/fedtoken/fedtoken/sidecar/internal/proxy"
)

// cachedSource is a token source whose token is always fresh: the cost of
// core's lock-free cached read, without the IdP.
type cachedSource struct{ tok *oauth2.Token }

func (c cachedSource) TokenContext(context.Context) (*oauth2.Token, error) { return c.tok, nil }
func (c cachedSource) Peek() (*oauth2.Token, bool)                         { return c.tok, true }
func (c cachedSource) Invalidate(*oauth2.Token)                            {}

// BenchmarkProxyOverhead compares, over loopback, a bare
// httputil.ReverseProxy with fedtoken's proxy (token injection, open-proxy
// checks, body buffering for retries) and with the full sidecar handler
// (plus Prometheus instrumentation). Sequential requests report p50/p99
// latency; the parallel variants report throughput.
//
//	go test -run '^$' -bench ProxyOverhead -benchtime 20000x ./internal/server/
func BenchmarkProxyOverhead(b *testing.B) {
	payload := bytes.Repeat([]byte("x"), 1024)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(payload)
	}))
	defer upstream.Close()
	target, _ := url.Parse(upstream.URL + "/v1")
	src := cachedSource{tok: &oauth2.Token{AccessToken: strings.Repeat("t", 900), TokenType: "Bearer", Expiry: time.Now().Add(time.Hour)}}
	base := func() *http.Transport {
		return &http.Transport{MaxIdleConns: 128, MaxIdleConnsPerHost: 128, DisableCompression: true}
	}

	bare := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(target) }, Transport: base(), FlushInterval: -1}
	fed, err := proxy.New(target, src, proxy.WithBaseTransport(base()))
	if err != nil {
		b.Fatal(err)
	}
	m, err := metrics.New(prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	full := instrument("bench", m, discardLogger(), fed)

	body := []byte(`{"model":"glm-5","messages":[{"role":"user","content":"` + strings.Repeat("hello ", 300) + `"}]}`)
	for _, v := range []struct {
		name string
		h    http.Handler
	}{{"bare-reverseproxy", bare}, {"fedtoken-proxy", fed}, {"fedtoken-sidecar", full}} {
		front := httptest.NewServer(v.h)
		client := &http.Client{Transport: base()}
		do := func() error {
			resp, err := client.Post(front.URL+"/chat/completions", "application/json", bytes.NewReader(body))
			if err != nil {
				return err
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			return resp.Body.Close()
		}
		b.Run(v.name+"/sequential", func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			for b.Loop() {
				start := time.Now()
				if err := do(); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
		})
		b.Run(v.name+"/parallel", func(b *testing.B) {
			b.SetParallelism(4)
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := do(); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
		})
		front.Close()
		client.CloseIdleConnections()
	}
}
