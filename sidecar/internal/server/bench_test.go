package server

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
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

// NginxEnv names an nginx binary; when set, BenchmarkProxyOverhead also
// measures nginx as a reverse proxy to the same upstream (make bench
// installs Debian's nginx and sets it).
const NginxEnv = "FEDTOKEN_BENCH_NGINX"

// RoundEnv is the round number of an interleaved run (make bench): it
// rotates the order of the front ends.
const RoundEnv = "FEDTOKEN_BENCH_ROUND"

// BenchmarkProxyOverhead compares front ends to the same loopback upstream
// (a 1.8 KB JSON POST answered with 1 KiB; an SSE stream for sse):
//
//   - direct: the client talks to the upstream, the floor;
//   - tuned-reverseproxy: httputil.ReverseProxy correctly tuned for this
//     job — FlushInterval 0 (event streams and bodies of unknown length are
//     still flushed at once), the sidecar's own upstream transport settings
//     (proxy.NewBaseTransport), the same bearer token set from a
//     precomputed header value — and nothing else: the baseline the
//     sidecar must keep up with;
//   - fedtoken-proxy: proxy.Handler (open-proxy checks, body limit, body
//     kept for a 401 retry, token injection from a fresh cached source);
//   - fedtoken-sidecar: the same with the server's instrumentation
//     (Prometheus counter and histogram, debug log), as served;
//   - nginx: when $FEDTOKEN_BENCH_NGINX names a binary.
//
// Per front end: throughput (closed loop, 8 clients: req/s), rate1000 (open
// loop at a fixed 1000 req/s: p50/p99 latency; run it with -benchtime
// 3000x), sequential (one request at a time: p50/p99), and sse (time to the
// first event of a stream whose upstream sends it at once: p50/p99).
//
//	go test -run '^$' -bench ProxyOverhead -benchtime 3000x ./internal/server/
func BenchmarkProxyOverhead(b *testing.B) {
	payload := bytes.Repeat([]byte("x"), 1024)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if strings.HasSuffix(r.URL.Path, "/sse") {
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = io.WriteString(w, "data: {\"delta\":\"first\"}\n\n")
			w.(http.Flusher).Flush()
			_, _ = io.WriteString(w, "data: [DONE]\n\n")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(payload)
	}))
	defer upstream.Close()
	target, _ := url.Parse(upstream.URL + "/v1")
	src := cachedSource{tok: &oauth2.Token{AccessToken: strings.Repeat("t", 900), TokenType: "Bearer", Expiry: time.Now().Add(time.Hour)}}
	base := func() *http.Transport {
		return proxy.NewBaseTransport(proxy.DefaultDialTimeout, proxy.DefaultResponseHeaderTimeout, nil)
	}
	tunedBase, fedBase := base(), base()

	// The tuned proxy does the same job as cheaply as it can be done: a
	// fixed bearer token, its header value built once.
	authz := []string{src.tok.Type() + " " + src.tok.AccessToken}
	tuned := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Header["Authorization"] = authz
		},
		Transport:     tunedBase,
		FlushInterval: 0,
		BufferPool:    &proxy.BufferPool{},
	}
	fed, err := proxy.New(target, src, proxy.WithBaseTransport(fedBase))
	if err != nil {
		b.Fatal(err)
	}
	m, err := metrics.New(prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	full := instrument("bench", m, discardLogger(), fed)

	type front struct {
		name string
		url  string          // base URL; /chat/completions and /sse are appended
		up   *http.Transport // the front end's own upstream connections, if in this process
	}
	fronts := []front{{"direct", upstream.URL + "/v1", nil}}
	for _, v := range []struct {
		name string
		h    http.Handler
		up   *http.Transport
	}{{"tuned-reverseproxy", tuned, tunedBase}, {"fedtoken-proxy", fed, fedBase}, {"fedtoken-sidecar", full, fedBase}} {
		srv := httptest.NewServer(v.h)
		defer srv.Close()
		fronts = append(fronts, front{v.name, srv.URL, v.up})
	}
	if bin := os.Getenv(NginxEnv); bin != "" {
		fronts = append(fronts, front{"nginx", startNginx(b, bin, upstream.Listener.Addr().String()), nil})
	}
	// make bench runs several rounds, each starting with another front end,
	// so that no front end always runs first or last.
	if r, err := strconv.Atoi(os.Getenv(RoundEnv)); err == nil && r > 0 {
		k := r % len(fronts)
		fronts = append(fronts[k:], fronts[:k]...)
	}

	body := []byte(`{"model":"glm-5","messages":[{"role":"user","content":"` + strings.Repeat("hello ", 300) + `"}]}`)
	for _, f := range fronts {
		// At most 64 connections, like an SDK's pool: a load spike on the
		// machine then queues requests in the client instead of opening a
		// connection per request, which would feed on itself.
		client := &http.Client{Transport: &http.Transport{MaxIdleConns: 64, MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64, DisableCompression: true}}
		do := func() error {
			resp, err := client.Post(f.url+"/chat/completions", "application/json", bytes.NewReader(body))
			if err != nil {
				return err
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			if resp.StatusCode != http.StatusOK {
				err = fmt.Errorf("%s: status %d", f.name, resp.StatusCode)
			}
			return errors.Join(err, resp.Body.Close())
		}
		b.Run(f.name+"/throughput", func(b *testing.B) {
			b.SetParallelism(4) // 8 clients on 2 CPUs
			cpu0 := cpuTime()
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
			if f.name != "nginx" {
				// CPU time of this process (client, front end and upstream)
				// per request: unlike req/s, it hardly depends on what else
				// the machine is doing.
				b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/1e3/float64(b.N), "cpu-µs/req")
			}
		})
		b.Run(f.name+"/rate1000", func(b *testing.B) {
			// Open loop: request i is sent at i ms (or at once if the
			// generator is late), whether or not the earlier ones have
			// finished. Latency counts from the send: the sleep's overshoot
			// (up to a millisecond on a busy machine) is the generator's,
			// not the proxy's.
			lat := make([]time.Duration, b.N)
			var wg sync.WaitGroup
			start := time.Now()
			for i := range b.N {
				at := start.Add(time.Duration(i) * time.Millisecond)
				if d := time.Until(at); d > 0 {
					time.Sleep(d) // pacing the load generator, not synchronisation
				}
				wg.Go(func() {
					sent := time.Now()
					if err := do(); err != nil {
						b.Error(err)
					}
					lat[i] = time.Since(sent)
				})
			}
			wg.Wait()
			reportPercentiles(b, lat)
		})
		b.Run(f.name+"/sequential", func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			for b.Loop() {
				start := time.Now()
				if err := do(); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			reportPercentiles(b, lat)
		})
		b.Run(f.name+"/sse", func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			for b.Loop() {
				start := time.Now()
				first, err := firstEvent(client, f.url+"/sse", body)
				if err != nil {
					b.Fatal(err)
				}
				lat = append(lat, first.Sub(start))
			}
			reportPercentiles(b, lat)
		})
		// Each front end starts from the same state: the connections of
		// the one before (client side and upstream side: up to 64 each,
		// two goroutines and their buffers per connection) closed and
		// their garbage collected, so that a front end running later does
		// not pay for scanning what an earlier one left behind.
		client.CloseIdleConnections()
		if f.up != nil {
			f.up.CloseIdleConnections()
		}
		runtime.GC()
	}
}

// firstEvent posts body to url and returns when the first SSE event had
// arrived; it then reads the stream to its end.
func firstEvent(client *http.Client, url string, body []byte) (time.Time, error) {
	resp, err := client.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return time.Time{}, err
	}
	defer resp.Body.Close()
	rd := bufio.NewReader(resp.Body)
	line, err := rd.ReadString('\n')
	at := time.Now()
	if err != nil || !strings.HasPrefix(line, "data: ") {
		return at, fmt.Errorf("first event: %q, %v", line, err)
	}
	_, _ = io.Copy(io.Discard, rd)
	return at, nil
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99-µs")
}

// startNginx runs nginx as a reverse proxy to upstream (host:port) on a
// loopback port, tuned the usual way: keep-alive to the upstream, no
// buffering (so SSE passes at once), access log off. It returns the base
// URL and stops nginx when the benchmark ends.
func startNginx(b *testing.B, bin, upstream string) string {
	b.Helper()
	dir := b.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close() // nginx binds it next; a race with another binder only fails this run
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;"
	}
	conf := fmt.Sprintf(`%s
worker_processes auto;
daemon off;
pid %[2]s/nginx.pid;
error_log %[2]s/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path %[2]s/body;
  proxy_temp_path %[2]s/proxy;
  fastcgi_temp_path %[2]s/fastcgi;
  uwsgi_temp_path %[2]s/uwsgi;
  scgi_temp_path %[2]s/scgi;
  upstream up { server %[3]s; keepalive 64; }
  server {
    listen %[4]s;
    location / {
      proxy_pass http://up/v1/;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Authorization "Bearer %[5]s";
      proxy_buffering off;
      proxy_request_buffering on;
    }
  }
}
`, user, dir, upstream, addr, strings.Repeat("t", 900))
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(bin, "-p", dir, "-c", confPath)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatalf("start nginx: %v", err)
	}
	b.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return "http://" + addr
		}
		if time.Now().After(deadline) {
			b.Fatalf("nginx did not listen on %s within 10s", addr)
		}
		time.Sleep(10 * time.Millisecond) // polling a port with a deadline
	}
}
